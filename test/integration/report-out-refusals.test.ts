/**
 * `report --out` to a path that cannot be written exits 1 with one line and
 * writes nothing. Moved out of test/unit/cli/bad-input.test.ts: it needs a
 * tracked case, so it opens the embedded store (dynalite), which the unit
 * tests do without.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cli, expectOneLineRefusal, leafToTrack } from '../helpers/cli-refusal.js';

describe('report --out refusals: one line, exit 1, nothing written', () => {
  const { dir, leafPath, track } = leafToTrack('revwatch-report-out-');

  it('report --out into a directory that does not exist exits 1 with one line', async () => {
    const home = join(dir, 'home-report');
    const tracked = await track(home, '--case', 'kc');
    expect(tracked.code, tracked.stderr).toBe(0);
    const r = await cli([
      '--home',
      home,
      'report',
      '--case',
      'kc',
      '--format',
      'markdown',
      '--out',
      join(dir, 'nonexistent', 'dir', 'x.md'),
    ]);
    expectOneLineRefusal(r, /cannot write --out .*x\.md: no such directory/);
    expect(existsSync(join(dir, 'nonexistent'))).toBe(false);
    const bundle = await cli(['--home', home, 'report', '--case', 'kc', '--format', 'bundle', '--out', join(leafPath, 'inside-a-file')]);
    expectOneLineRefusal(bundle, /cannot create --out directory .*: a part of the path is not a directory/);
  });
});
