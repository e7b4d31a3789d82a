/** `revwatch site` and `report --format bundle` through the CLI: files written, bad --out refused with one line. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { trackCertificates } from '../../src/track/track.js';
import { DAY, T0, testCa } from '../unit/check/world.js';

describe('revwatch site', () => {
  it('writes index.html for a home with no cases, and says where', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-site-cli-'));
    const out = join(home, 'site');
    let stdout = '';
    const code = await run(['--home', home, 'site', '--out', out], {
      stdout: (s) => (stdout += s),
      stderr: () => undefined,
      env: {},
      clock: new FakeClock(T0),
    });
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote 1 page(s) to ${out}: open ${join(out, 'index.html')}\n`);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('0 cases, 0 certificates');
    expect(index).not.toMatch(/<script|https?:\/\/(?!bugzilla)/);
  });

  it('report --format bundle: a non-empty --out is refused with one line unless --force, which empties only a previous bundle', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-bundle-cli-'));
    const ca = await testCa();
    const leaf = await ca.issue({
      subject: 'CN=bundle.example',
      notBefore: T0 - DAY,
      notAfter: T0 + 90 * DAY,
      ocspUrls: ['http://127.0.0.1:9/ocsp'],
    });
    const clock = new FakeClock(T0 + DAY);
    const open = await openEmbeddedStore(home);
    try {
      await trackCertificates(
        { store: open.store, clock },
        { id: 'b', title: 'Bundle case', reportedAt: T0, reason: 'key-compromise', kind: 'tls-subscriber' },
        [{ certificate: leaf.info, bundle: [], source: 'test' }],
        [ca.info],
      );
    } finally {
      await open.close();
    }
    const cli = async (...argv: string[]) => {
      let stderr = '';
      const code = await run(['--home', home, ...argv], { stdout: () => undefined, stderr: (s) => (stderr += s), env: {}, clock });
      return { code, stderr };
    };
    const mine = join(home, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const refused = await cli('report', '--case', 'b', '--format', 'bundle', '--out', mine);
    expect(refused).toEqual({
      code: 1,
      stderr: expect.stringMatching(/^revwatch: --out \S+ is not empty; give --force to empty it first/),
    });
    const forced = await cli('report', '--case', 'b', '--format', 'bundle', '--out', mine, '--force');
    expect(forced.code).toBe(1);
    expect(forced.stderr).toMatch(/not a revwatch evidence bundle/);
    expect(readFileSync(join(mine, 'notes.txt'), 'utf8')).toBe('mine');

    const evidence = join(home, 'evidence');
    expect((await cli('report', '--case', 'b', '--format', 'bundle', '--out', evidence)).code).toBe(0);
    expect(existsSync(join(evidence, 'verify.sh'))).toBe(true);
    expect(existsSync(join(evidence, 'certs', `${leaf.info.serial}-${leaf.info.sha256.slice(0, 12)}.pem`))).toBe(true);
    writeFileSync(join(evidence, 'ocsp-stale.der'), 'left over');
    expect((await cli('report', '--case', 'b', '--format', 'bundle', '--out', evidence)).code).toBe(1);
    // A stray file at the top of a previous bundle: --force refuses too (it is not the bundle's own).
    expect((await cli('report', '--case', 'b', '--format', 'bundle', '--out', evidence, '--force')).code).toBe(1);
    rmSync(join(evidence, 'ocsp-stale.der'));
    mkdirSync(join(evidence, 'ocsp'), { recursive: true });
    writeFileSync(join(evidence, 'ocsp', 'stale.der'), 'left over');
    expect((await cli('report', '--case', 'b', '--format', 'bundle', '--out', evidence, '--force')).code).toBe(0);
    expect(existsSync(join(evidence, 'ocsp', 'stale.der'))).toBe(false);
  });
});
