/**
 * Progress of `track`, `check` and `report` is drawn on a terminal and nowhere else. The built CLI runs
 * under `script` (util-linux), which gives it a pseudo-terminal, and then plainly with stdout and stderr
 * on pipes, against the in-process CA's CRL on 127.0.0.1. The test is skipped, saying so, where `script`
 * is missing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateAndEstimate, roughDuration } from '../../src/cli/progress.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { LocalCaServer } from '../../src/local-ca/server.js';
import { toPem } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const DAY = 86_400_000;
const CERTIFICATES = 300;

const scriptAvailable = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!scriptAvailable) console.warn('progress-tty: skipped: the `script` command (util-linux) is not installed');

/** Single-quoted for sh. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe.skipIf(!scriptAvailable)('progress on a terminal, not on a pipe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-progress-'));
  const now = Date.now();
  const reportedAt = new Date(Math.floor((now - DAY) / 60_000) * 60_000).toISOString().replace('.000Z', 'Z');
  let server: LocalCaServer;

  const base = (home: string) => ['bin/revwatch.js', '--home', join(dir, home), '--allow-private-network'];
  const trackArgs = [
    'track',
    join(dir, 'certs'),
    '--issuer',
    join(dir, 'ca.pem'),
    '--reported-at',
    reportedAt,
    '--reason',
    'key-compromise',
    '--case',
    'big',
  ];

  /** Everything the command wrote to its terminal (stdout and stderr share it), with the terminal 150 columns wide. */
  const onTerminal = async (home: string, args: string[]): Promise<string> => {
    const command = ['node', ...base(home), ...args].map(quote).join(' ');
    const { stdout } = await exec('script', ['-qec', `stty cols 150 rows 40; ${command}`, '/dev/null'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  };
  const onPipes = async (home: string, args: string[]) =>
    exec('node', [...base(home), ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'Progress CA', notBefore: now - 100 * DAY, notAfter: now + 400 * DAY });
    server = await new LocalCaServer(ca, () => Date.now()).start();
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.info.der));
    for (let i = 0; i < CERTIFICATES; i++) {
      const leaf = await ca.issue({
        subject: `CN=p${i}.example`,
        notBefore: now - 2 * DAY,
        notAfter: now + 90 * DAY,
        crlUrls: [server.crlUrl],
      });
      writeFileSync(join(dir, 'certs', `p${i}.pem`), toPem(leaf.info.der));
    }
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('track, check and report draw counts, a rate and an estimate on a terminal', async () => {
    const tracked = await onTerminal('tty', trackArgs);
    expect(tracked).toContain(`case big (new): ${CERTIFICATES} certificate(s) added`);
    expect(tracked).toMatch(
      new RegExp(`checking \\[[^\\]]*\\] \\d+/${CERTIFICATES} certificates, (-|[\\d.,]+)/s, (estimating|about .+ left|done)`),
    );
    expect(tracked).toMatch(new RegExp(`storing \\[[^\\]]*\\] \\d+/${CERTIFICATES + 1} certificates`));
    expect(tracked).toContain(`recording ${CERTIFICATES} certificate(s) in case big...`);

    const checked = await onTerminal('tty', ['check']);
    expect(checked).toMatch(/checking \[[^\]]*\] \d+\/\d+ sources, /);
    expect(checked).toContain(`checked ${CERTIFICATES} certificate(s)`);

    const reported = await onTerminal('tty', ['report', '--case', 'big', '--format', 'csv']);
    expect(reported).toMatch(new RegExp(`judging \\[[^\\]]*\\] \\d+/${CERTIFICATES} certificates, `));

    // --json asks for output a program reads: no bar, even on a terminal.
    const json = await onTerminal('tty', ['--json', 'check']);
    expect(json).not.toMatch(/\] \d+\/\d+ sources/);
  });

  it('draws nothing when stdout and stderr are pipes', async () => {
    const tracked = await onPipes('pipe', trackArgs);
    expect(tracked.stderr).toBe('');
    expect(tracked.stdout).toBe(`case big (new): ${CERTIFICATES} certificate(s) added, 0 already tracked\n`);
    const checked = await onPipes('pipe', ['check']);
    expect(checked.stderr).toBe('');
    const reported = await onPipes('pipe', ['report', '--case', 'big', '--format', 'csv']);
    expect(reported.stderr).toBe('');
    expect(reported.stdout.trim().split('\n')).toHaveLength(CERTIFICATES + 1);
  });

  it('the rate and the estimate read as a person would say them', () => {
    expect(rateAndEstimate(0, 100, 0)).toEqual({ rate: '-', left: 'estimating' });
    expect(rateAndEstimate(50, 100, 10)).toEqual({ rate: '5.0', left: 'about 10 s left' });
    expect(rateAndEstimate(12_000, 100_000, 4)).toEqual({ rate: '3,000', left: 'about 29 s left' });
    expect(rateAndEstimate(100, 100, 3)).toEqual({ rate: '33', left: 'done' });
    expect(roughDuration(185)).toBe('3 m 05 s');
    expect(roughDuration(3 * 3600 + 125)).toBe('3 h 02 m');
  });
});
