/**
 * `report --out` to a path that cannot be written exits 1 with one line and
 * writes nothing. Moved out of test/unit/cli/bad-input.test.ts: it needs a
 * tracked case, so it opens the embedded store (dynalite), which the unit
 * tests do without.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T0, makeHierarchy } from '../helpers/pki-fixtures.js';
import { cli, expectOneLineRefusal } from '../helpers/cli-refusal.js';

describe('report --out refusals: one line, exit 1, nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-report-out-'));
  const leafPath = join(dir, 'leaf.pem');
  const issuerPath = join(dir, 'ca.pem');
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

  beforeAll(async () => {
    const h = await makeHierarchy('ec-p256');
    writeFileSync(leafPath, h.leaf.info.der);
    writeFileSync(issuerPath, h.ca.info.der);
  });

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
