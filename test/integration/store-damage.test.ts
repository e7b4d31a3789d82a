/**
 * A damaged local store is refused with one line and exit 1, and nothing of
 * it is changed: a missing CURRENT never lets LevelDB start an empty database
 * over the table files (which it would then delete), a garbage CURRENT and a
 * table file cut short are found when the store opens, not served as an
 * empty or partial store.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');

const status = (home: string) => spawnSync('node', [BIN, '--home', home, 'status'], { encoding: 'utf8', timeout: 110_000 });
/** Every file of the store with its size, so a refusal can be shown to have changed nothing. */
const listing = (home: string): string[] =>
  readdirSync(join(home, 'db'))
    .filter((f) => f !== 'LOG' && f !== 'LOG.old' && f !== 'LOCK')
    .map((f) => `${f} ${statSync(join(home, 'db', f)).size}`)
    .sort();

describe('a damaged local store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-damage-'));
  const pristine = join(dir, 'pristine');
  const ders = Array.from({ length: 200 }, () => ({ sha256: randomBytes(32).toString('hex'), der: randomBytes(512) }));
  const copy = (name: string): string => {
    const home = join(dir, name);
    cpSync(pristine, home, { recursive: true });
    return home;
  };
  const table = (home: string): string => join(home, 'db', readdirSync(join(home, 'db')).find((f) => f.endsWith('.ldb'))!);

  beforeAll(async () => {
    const open = await openEmbeddedStore(pristine);
    try {
      await open.store.putCertificateDers(ders);
    } finally {
      await open.close();
    }
    // Closing wrote the writes out as a table file.
    expect(readdirSync(join(pristine, 'db')).some((f) => f.endsWith('.ldb'))).toBe(true);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without CURRENT: refused, and the table files are left as they were', async () => {
    const home = copy('no-current');
    const current = readFileSync(join(home, 'db', 'CURRENT'));
    unlinkSync(join(home, 'db', 'CURRENT'));
    const before = listing(home);
    const r = status(home);
    expect(r.stderr).toMatch(
      /^revwatch: the store in .*\/db is damaged: its CURRENT file is missing beside \d+ LevelDB file\(s\); refusing to start a new database over them \(restore the home from a backup\)\n$/,
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(listing(home)).toEqual(before);
    // Nothing was lost: with CURRENT back, every write is there.
    writeFileSync(join(home, 'db', 'CURRENT'), current);
    const open = await openEmbeddedStore(home);
    try {
      expect((await open.store.getCertificateDers(ders.map((d) => d.sha256))).size).toBe(ders.length);
    } finally {
      await open.close();
    }
  }, 120_000);

  it('with a garbage CURRENT: refused with what LevelDB says', () => {
    const home = copy('garbage-current');
    writeFileSync(join(home, 'db', 'CURRENT'), 'not a manifest name\n');
    const before = listing(home);
    const r = status(home);
    expect(r.stderr).toMatch(/^revwatch: the store in .*\/db is damaged: .+\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.status).toBe(1);
    expect(listing(home)).toEqual(before);
  }, 120_000);

  it('with a table file cut short: refused at opening, not when a request reads it', () => {
    const home = copy('truncated-table');
    const path = table(home);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const r = status(home);
    expect(r.stderr).toMatch(/^revwatch: the store in .*\/db is damaged: table file \d+\.ldb is truncated or not a table \(no footer\)\n$/);
    expect(r.status).toBe(1);
  }, 120_000);

  it('opens an undamaged copy as before', () => {
    const home = copy('undamaged');
    const r = status(home);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
