/** The in-process CLI at a fixed FakeClock, and the shape every refusal of bad input must have. */
import { expect } from 'vitest';
import { run } from '../../src/cli.js';
import { FakeClock } from '../../src/clock.js';
import { T0 } from './pki-fixtures.js';

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
