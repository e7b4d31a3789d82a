/**
 * Start-up: `--help`, `--version`, `deadline` and `inspect` load only what
 * they use, and `check` without --sweep loads no sweep code. Each command imports its service when it runs (src/cli/main.ts), so
 * these must never load the AWS SDK, dynalite or nodemailer. The built CLI is
 * spawned with a preload that records every module the process resolves.
 * Speed itself is measured in `npm run bench -- startup`, not here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../src/local-ca/ca.js';
import { toPem } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const DAY = 86_400_000;
const HEAVY = /@aws-sdk|[\\/]dynalite[\\/]|\bdynalite\b|nodemailer/;
/** @peculiar/x509 is the fallback of revwatch's own DER readers; an ordinary CRL and issuer never need it. */
const X509_LIBRARY = /@peculiar\/x509|reflect-metadata/;
/** The CCADB sweep and the revocation index it writes: a check without --sweep never runs them. */
const SWEEP = /sweep[\\/]sweep\.js|revocation-index-files\.js/;

describe('CLI start-up loads only what the command uses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-startup-'));
  const built = existsSync('dist/cli/main.js');

  beforeAll(async () => {
    const now = Date.now();
    const ca = await LocalCa.create({ name: 'Start-up Test CA', notBefore: now - DAY, notAfter: now + 30 * DAY });
    const entries = Array.from({ length: 10 }, (_, i) => ({ serial: BigInt(1000 + i), revocationDate: now - DAY, reasonCode: 1 }));
    writeFileSync(join(dir, 'small.crl'), ca.crl({ entries, thisUpdate: now - 3_600_000, nextUpdate: now + DAY, crlNumber: 1 }));
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.info.der));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the built CLI and returns its exit code and every module specifier it resolved or required. */
  const loadsOf = async (...args: string[]): Promise<{ code: number; stdout: string; loaded: string[] }> => {
    const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
    let code = 0;
    let stdout = '';
    try {
      stdout = (
        await exec('node', ['--import', './test/helpers/record-loads.mjs', 'bin/revwatch.js', ...args], {
          env: { ...process.env, REVWATCH_LOAD_LOG: log },
          encoding: 'utf8',
        })
      ).stdout;
    } catch (err) {
      code = (err as { code: number }).code;
      stdout = (err as { stdout: string }).stdout;
    }
    return { code, stdout, loaded: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [] };
  };

  it.skipIf(!built)('the recorder sees what a command loads (it would catch an SDK import)', async () => {
    const { loaded } = await loadsOf('--help');
    expect(loaded.some((l) => l.includes('commander'))).toBe(true);
  });

  it.skipIf(!built)('--help and --version load neither the AWS SDK, dynalite nor nodemailer', async () => {
    const help = await loadsOf('--help');
    expect(help.code).toBe(0);
    expect(help.loaded.filter((l) => HEAVY.test(l))).toEqual([]);
    const version = await loadsOf('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(version.loaded.filter((l) => HEAVY.test(l))).toEqual([]);
  });

  it.skipIf(!built)('deadline --json loads neither', async () => {
    const r = await loadsOf('deadline', '--json', '--reported-at', '2025-11-20T00:00:00Z', '--reason', 'key-compromise');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ deadline: '2025-11-21T00:00:00Z', hours: 24 });
    expect(r.loaded.filter((l) => HEAVY.test(l))).toEqual([]);
  });

  it.skipIf(!built)('inspect crl loads neither, nor @peculiar/x509 (and verifies the CRL)', async () => {
    const r = await loadsOf('--json', 'inspect', 'crl', join(dir, 'small.crl'), '--issuer', join(dir, 'ca.pem'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      signatureValid: true,
      entries: 10,
      fresh: true,
      issuer: 'CN=Start-up Test CA, O=revwatch local CA',
    });
    expect(r.loaded.filter((l) => HEAVY.test(l) || X509_LIBRARY.test(l))).toEqual([]);
  });

  it.skipIf(!built)(
    'check without --sweep loads neither the sweep nor the revocation index; sweep does',
    async () => {
      const home = join(dir, 'check-home');
      const plain = await loadsOf('--home', home, '--json', 'check');
      expect(plain.code).toBe(0);
      expect(plain.loaded.filter((l) => SWEEP.test(l))).toEqual([]);
      expect(plain.loaded.some((l) => l.includes('check-run.js'))).toBe(true);
      // The recorder would see them: `sweep` loads them (and, with no disclosures imported, refuses).
      const swept = await loadsOf('--home', home, 'sweep');
      expect(swept.code).toBe(1);
      expect(swept.loaded.filter((l) => SWEEP.test(l)).length).toBeGreaterThan(0);
    },
    120_000,
  );

  it.skipIf(!built)(
    'status does load the store (so the check above is not vacuous)',
    async () => {
      const r = await loadsOf('--home', join(dir, 'home'), 'status');
      expect(r.code).toBe(0);
      expect(r.loaded.some((l) => HEAVY.test(l))).toBe(true);
    },
    120_000,
  );
});
