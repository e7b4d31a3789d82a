/**
 * `revwatch deadline --json` for the rules the third pass added (issue 30,
 * items 5, 9 and 12): the built CLI prints the deadline and the rule id.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'revwatch-deadline-'));

async function deadline(
  ...args: string[]
): Promise<{ deadline: string | null; hours: number | null; rule: { id: string; section: string } }> {
  const r = await exec('node', ['bin/revwatch.js', '--home', home, '--json', 'deadline', ...args], { encoding: 'utf8' });
  return JSON.parse(r.stdout);
}

describe('deadline --json, third pass', { timeout: 60_000 }, () => {
  it('item 5: a code-signing sub-CA reported before CSC-18 has seven days (CSBR 3.0.0-3.2.0 4.9.1.4, "As specified in BR Section 4.9.1.2")', async () => {
    const r = await deadline('--reported-at', '2024-04-14T12:00:00Z', '--reason', 'misissuance', '--kind', 'codesigning-subca');
    expect(r).toMatchObject({ deadline: '2024-04-21T12:00:00Z', hours: 168, rule: { id: 'cs-subca-3.0' } });
  });
});
