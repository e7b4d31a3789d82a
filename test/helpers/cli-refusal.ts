/** The in-process CLI at a fixed FakeClock, and the shape every refusal of bad input must have. */
import { beforeAll, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { T0, makeHierarchy } from './pki-fixtures.js';

export async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env, clock: new FakeClock(T0) });
  return { code, stdout, stderr };
}

/** Exit 1, nothing on stdout, exactly one line on stderr matching `message`, and no stack trace. */
export function expectOneLineRefusal(r: { code: number; stdout: string; stderr: string }, message: RegExp): void {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.slice(0, -1)).not.toMatch(/[\r\n]/);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

/**
 * A leaf and its issuer written to a fresh temporary folder (before the enclosing describe's tests run), and
 * `track` of that leaf into a home, reported an hour before T0 for key compromise, with extra flags.
 * Call it in a describe's body.
 */
export function leafToTrack(prefix: string): {
  dir: string;
  leafPath: string;
  issuerPath: string;
  track: (home: string, ...extra: string[]) => ReturnType<typeof cli>;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const leafPath = join(dir, 'leaf.pem');
  const issuerPath = join(dir, 'ca.pem');
  beforeAll(async () => {
    const h = await makeHierarchy('ec-p256');
    writeFileSync(leafPath, h.leaf.info.der);
    writeFileSync(issuerPath, h.ca.info.der);
  });
  const track = (home: string, ...extra: string[]) =>
    cli([
      '--home',
      home,
      'track',
      leafPath,
      '--issuer',
      issuerPath,
      '--reported-at',
      new Date(T0 - 3_600_000).toISOString(),
      '--reason',
      'key-compromise',
      ...extra,
    ]);
  return { dir, leafPath, issuerPath, track };
}
