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

describe('deadline --json, third pass', () => {
  it('item 5: a code-signing sub-CA reported before CSC-18 has seven days (CSBR 3.0.0-3.2.0 4.9.1.4, "As specified in BR Section 4.9.1.2")', async () => {
    const r = await deadline('--reported-at', '2024-04-14T12:00:00Z', '--reason', 'misissuance', '--kind', 'codesigning-subca');
    expect(r).toMatchObject({ deadline: '2024-04-21T12:00:00Z', hours: 168, rule: { id: 'cs-subca-3.0' } });
  });

  it('item 9: --rule sha1-subca-sunset gives the date of BR 2.2.5 (SC097) 7.1.3.2.1, "Prior to 2026-09-15"', async () => {
    const r = await deadline('--rule', 'sha1-subca-sunset');
    expect(r).toMatchObject({ deadline: '2026-09-15T00:00:00Z', hours: null, rule: { id: 'sha1-subca-sunset', section: 'BR 7.1.3.2.1' } });
    // Whatever the report time: the date is the deadline.
    expect(await deadline('--rule', 'sha1-subca-sunset', '--reported-at', '2026-09-10T00:00:00Z')).toMatchObject({
      deadline: '2026-09-15T00:00:00Z',
    });
  });

  it('item 12: a Microsoft notice after the report counts 24 hours from the notice; the earlier of it and the BR deadline applies', async () => {
    const args = ['--reported-at', '2025-12-01T00:00:00Z', '--reason', 'misissuance', '--notified-by', 'microsoft'];
    expect(await deadline(...args, '--notified-at', '2025-12-03T00:00:00Z')).toMatchObject({
      deadline: '2025-12-04T00:00:00Z',
      hours: 24,
      rule: { id: 'microsoft-2.1.13' },
      notifiedAt: '2025-12-03T00:00:00Z',
    });
    expect(await deadline(...args, '--notified-at', '2025-12-05T12:00:00Z')).toMatchObject({
      deadline: '2025-12-06T00:00:00Z',
      hours: 120,
      rule: { id: 'tls-sc6-5d' },
    });
  });
});
