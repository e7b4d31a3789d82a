/**
 * A damaged local store is refused with one line and exit 1, and nothing of
 * it is changed: a missing CURRENT never lets LevelDB start an empty database
 * over the table files (which it would then delete), a garbage CURRENT and a
 * table file cut short are found when the store opens, not served as an
 * empty or partial store.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { OpensslCa } from '../helpers/openssl-ca.js';

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

  it('with a garbage CURRENT: refused with one line', () => {
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
    expect(r.stderr).toMatch(
      /^revwatch: the store in .*\/db is damaged: \d+\.ldb: is truncated or not a table \(\d+ bytes where its MANIFEST records \d+\)\n$/,
    );
    expect(r.status).toBe(1);
  }, 120_000);

  it('with one byte changed inside a data block: status, check and track each refuse with one line naming the file, and write nothing', () => {
    const home = copy('damaged-block');
    const path = table(home);
    const name = path.split('/').pop()!;
    // Data blocks come first in a table file (4 KiB each, LevelDB's default): byte 100 is inside the first one,
    // far from the index, the metaindex and the footer at the end.
    expect(statSync(path).size).toBeGreaterThan(16 * 1024);
    const bytes = readFileSync(path);
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(path, bytes);
    const before = listing(home);
    const ca = new OpensslCa('http://127.0.0.1:9').init('ec');
    try {
      const leaf = ca.issue('leaf');
      const commands = [
        ['status'],
        ['check'],
        [
          'track',
          leaf.pemPath,
          '--issuer',
          ca.path('ca.pem'),
          '--case',
          'c',
          '--reported-at',
          '2026-01-01T00:00:00Z',
          '--reason',
          'key-compromise',
        ],
      ];
      for (const args of commands) {
        const r = spawnSync('node', [BIN, '--home', home, ...args], { encoding: 'utf8', timeout: 110_000 });
        expect(r.stderr, args[0]).toMatch(
          new RegExp(
            `^revwatch: the store in ${join(home, 'db')} is damaged: ${name}: the block at offset 0 \\(\\d+ bytes\\) fails its checksum\n$`,
          ),
        );
        expect(r.status, args[0]).toBe(1);
        expect(r.stdout, args[0]).toBe('');
      }
    } finally {
      void ca.dispose();
    }
    expect(listing(home)).toEqual(before);
    expect(existsSync(join(home, 'db-verified'))).toBe(false);
  }, 240_000);

  it('checks an unchanged table file once: the record of checked files is kept beside the store and read again', () => {
    const home = copy('verified');
    expect(status(home).status).toBe(0);
    const record = JSON.parse(readFileSync(join(home, 'db-verified'), 'utf8')) as { format: number; tables: Record<string, number[]> };
    expect(Object.keys(record.tables)).toContain(table(home).split('/').pop());
    const written = statSync(join(home, 'db-verified')).mtimeMs;
    expect(status(home).status).toBe(0);
    expect(statSync(join(home, 'db-verified')).mtimeMs).toBe(written);
  }, 120_000);

  it('opens an undamaged copy as before', () => {
    const home = copy('undamaged');
    const r = status(home);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
