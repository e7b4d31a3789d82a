/**
 * The evidence bundle verifies itself: revwatch checks certificates against a
 * real `openssl ocsp` responder on 127.0.0.1 (once signing as a delegated
 * responder, once as the issuer) and `openssl ca -gencrl` CRLs, exports the
 * bundle, and its own verify.sh passes; a tampered file makes it fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpensslCa, opensslAvailable } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { memoryStore } from '../../src/adapters/memory/memory-table.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { trackCertificates } from '../../src/track/track.js';
import { runCheck } from '../../src/check/run-check.js';
import { buildCaseReport } from '../../src/report/case-report.js';
import type { Case } from '../../src/domain.js';
import { prepareBundleDir, toBundle, type BundleFile } from '../../src/report/bundle.js';

const HOUR = 3_600_000;
const suite = opensslAvailable() && spawnSync('sha256sum', ['--version']).status === 0 ? describe : describe.skip;

function writeFiles(dir: string, files: readonly BundleFile[]): void {
  for (const f of files) {
    mkdirSync(join(dir, f.path, '..'), { recursive: true });
    writeFileSync(join(dir, f.path), f.bytes);
  }
}

const verify = (dir: string) => spawnSync('sh', ['verify.sh'], { cwd: dir, encoding: 'utf8' });

suite('evidence bundle with verify.sh, against openssl ocsp and openssl ca', () => {
  const http = new FaultServer();
  let ca: OpensslCa;
  const fetcher = new HttpFetcher({ clock: new SystemClock(), allowPrivateNetwork: true, maxAttempts: 1 });

  /** Tracks two leaves (one revoked) in a fresh store, checks once, and exports the bundle to a fresh folder. */
  async function exportBundle(signer: 'issuer' | 'delegated'): Promise<{ dir: string; files: BundleFile[] }> {
    await ca.startResponder({ signer });
    const store = memoryStore();
    const clock = new SystemClock();
    const now = clock.now().getTime();
    const issuer = readCertificates(readFileSync(ca.path('ca.pem')), 'ca.pem');
    const leaves = ['good', 'revoked'].map((name) => readCertificates(readFileSync(ca.path(`${signer}-${name}.pem`)), name)[0]!);
    const kase: Case = {
      id: `bundle-${signer}`,
      title: `Bundle (${signer} responder)`,
      reportedAt: now - 2 * HOUR,
      reason: 'key-compromise',
      kind: 'tls-subscriber',
    };
    await trackCertificates(
      { store, clock },
      kase,
      leaves.map((certificate) => ({ certificate, bundle: [], source: 'test' })),
      issuer,
    );
    const crls = new Map<string, Uint8Array>();
    await runCheck({ store, fetcher, clock, saveCrl: async (sha, bytes) => void crls.set(sha, bytes) });
    const report = await buildCaseReport(store, kase.id, clock.now().getTime(), { allObservations: true, certificateBytes: true });
    const observed = report.certificates.flatMap((c) => c.observations.filter((o) => o.source.kind === 'ocsp'));
    expect(observed.map((o) => o.signer)).toEqual([signer, signer]);
    const files = toBundle(report, (sha) => crls.get(sha) ?? null);
    const dir = mkdtempSync(join(tmpdir(), `revwatch-bundle-${signer}-`));
    writeFiles(dir, files);
    return { dir, files };
  }

  beforeAll(async () => {
    await http.start();
    ca = new OpensslCa(`http://127.0.0.1:${http.port}`).init('ec');
    ca.serveOn(http);
    for (const signer of ['issuer', 'delegated']) {
      ca.issue(`${signer}-good`);
      const revoked = ca.issue(`${signer}-revoked`);
      ca.revoke(revoked, Date.now() - HOUR, 'keyCompromise');
    }
  });

  afterAll(async () => {
    await fetcher.close();
    await ca?.dispose();
    await http.stop();
  });

  it('delegated responder: the bundle holds every certificate and the responder, chooses -CAfile, and verify.sh passes', async () => {
    const { dir, files } = await exportBundle('delegated');
    const paths = files.map((f) => f.path);
    expect(paths.filter((p) => /^certs\/[0-9a-f]+-[0-9a-f]{12}\.pem$/.test(p))).toHaveLength(2);
    expect(paths.filter((p) => p.startsWith('certs/issuer-'))).toHaveLength(1);
    expect(paths.filter((p) => p.startsWith('certs/responder-'))).toHaveLength(1);
    expect(readFileSync(join(dir, paths.find((p) => p.startsWith('certs/responder-'))!), 'utf8')).toBe(
      readFileSync(ca.path('ocsp-responder.pem'), 'utf8')
        .replace(/\r/g, '')
        .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0]
        .replace(/\n?$/, '\n'),
    );
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(
      /openssl ocsp -respin ocsp\/\S+\.der -issuer certs\/issuer-\S+\.pem -CAfile certs\/issuer-\S+\.pem -partial_chain/,
    );
    expect(readme).not.toMatch(/^openssl ocsp .*-VAfile/m);
    const r = verify(dir);
    expect(r.stdout, r.stdout + r.stderr).toMatch(/all evidence verified/);
    expect(r.status).toBe(0);
    expect(r.stdout.match(/^OK {6}ocsp\//gm)).toHaveLength(2);
    expect(r.stdout.match(/^OK {6}crls\//gm)).toHaveLength(1);
  });

  it('issuer-signed responses: chooses -VAfile, verify.sh passes; a tampered file makes it fail', async () => {
    const { dir, files } = await exportBundle('issuer');
    expect(files.some((f) => f.path.startsWith('certs/responder-'))).toBe(false);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toMatch(/openssl ocsp -respin ocsp\/\S+\.der -issuer (certs\/issuer-\S+\.pem) -VAfile \1/);
    const ok = verify(dir);
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);

    // One digit of the signed producedAt changed (the first GeneralizedTime, RFC 6960 4.2.1): the hashes say so.
    const ocsp = readdirSync(join(dir, 'ocsp'))[0]!;
    const bytes = readFileSync(join(dir, 'ocsp', ocsp));
    const producedAt = bytes.indexOf(Buffer.from([0x18, 0x0f]));
    expect(producedAt).toBeGreaterThan(0);
    bytes[producedAt + 2 + 13]! ^= 0x01; // the seconds' units digit: still a valid time, no longer what was signed
    writeFileSync(join(dir, 'ocsp', ocsp), bytes);
    const tampered = verify(dir);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/^FAILED {2}SHA256SUMS/m);
    expect(tampered.stdout).toContain(`FAILED  ocsp/${ocsp}`);

    // The same flip with SHA256SUMS rewritten to match: openssl's signature check still catches it.
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
      .split('\n')
      .filter((l) => !l.endsWith(`ocsp/${ocsp}`) && l);
    const { createHash } = await import('node:crypto');
    writeFileSync(
      join(dir, 'SHA256SUMS'),
      `${[...sums, `${createHash('sha256').update(bytes).digest('hex')}  ocsp/${ocsp}`].join('\n')}\n`,
    );
    const forged = verify(dir);
    expect(forged.stdout).toMatch(/^OK {6}SHA256SUMS/m);
    expect(forged.stdout).toContain(`FAILED  ocsp/${ocsp}`);
    expect(forged.status).toBe(1);
  });
});

describe('bundle --out folder', () => {
  const bundle: BundleFile[] = [
    { path: 'manifest.json', bytes: Buffer.from('{}') },
    { path: 'SHA256SUMS', bytes: Buffer.from('') },
    { path: 'ocsp/old.der', bytes: Buffer.from('old') },
  ];

  it('refuses a folder that is not empty unless --force, which empties a previous bundle first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-out-'));
    prepareBundleDir(dir, { force: false }); // empty: fine
    writeFiles(dir, bundle);
    expect(() => prepareBundleDir(dir, { force: false })).toThrow(/is not empty; give --force/);
    prepareBundleDir(dir, { force: true });
    expect(readdirSync(dir)).toEqual([]);
    prepareBundleDir(join(dir, 'not-yet'), { force: false });
  });

  it('--force does not empty a folder that holds anything but a previous bundle', () => {
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-out-'));
    writeFiles(dir, [...bundle, { path: 'thesis.tex', bytes: Buffer.from('years of work') }]);
    expect(() => prepareBundleDir(dir, { force: true })).toThrow(/not a revwatch evidence bundle/);
    expect(existsSync(join(dir, 'thesis.tex'))).toBe(true);
  });
});
