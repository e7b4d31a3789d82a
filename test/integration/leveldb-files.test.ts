/**
 * The embedded store's own check of LevelDB's files (src/adapters/local/leveldb-files.ts), on table files and a
 * MANIFEST that LevelDB itself wrote: every block passes as written, and a byte changed anywhere a checksum
 * covers is found. The stores are real (dynalite on LevelDB, through openEmbeddedStore), one of random
 * certificate bytes and one of text; LevelDB Snappy-compresses blocks of both.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { checkTable, LevelDbDamage, liveTables, snappyUncompress, tableFileNames } from '../../src/adapters/local/leveldb-files.js';

const dir = mkdtempSync(join(tmpdir(), 'revwatch-leveldb-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function storeOf(name: string, der: (i: number) => Buffer): Promise<string> {
  const home = join(dir, name);
  const open = await openEmbeddedStore(home);
  try {
    const ders = Array.from({ length: 300 }, (_, i) => ({ sha256: randomBytes(32).toString('hex'), der: der(i) }));
    await open.store.putCertificateDers(ders);
  } finally {
    await open.close();
  }
  return join(home, 'db');
}

const tableFiles = (db: string): string[] => readdirSync(db).filter((f) => f.endsWith('.ldb'));

/** Offsets of a table's footer padding: zeros after the two handles, which LevelDB never reads. */
function footerPadding(bytes: Buffer): Set<number> {
  const padding = new Set<number>();
  for (let at = bytes.length - 9; at >= bytes.length - 48 && bytes[at] === 0; at--) padding.add(at);
  return padding;
}

describe('LevelDB file checks', () => {
  let random: string;
  let text: string;
  beforeAll(async () => {
    random = await storeOf('random', () => randomBytes(600));
    text = await storeOf('text', (i) => Buffer.from(`certificate number ${i} `.repeat(30)));
  }, 120_000);

  it('lists the live table files at the sizes the MANIFEST records, and passes every block of each', () => {
    for (const db of [random, text]) {
      const live = liveTables(db);
      expect(live.length).toBeGreaterThan(0);
      expect(live.map((t) => tableFileNames(t.number)[0]).sort()).toEqual(tableFiles(db).sort());
      let compressed = 0;
      for (const table of live) {
        const name = tableFileNames(table.number)[0];
        expect(statSync(join(db, name)).size).toBe(table.size);
        const summary = checkTable(readFileSync(join(db, name)), name);
        expect(summary.blocks).toBeGreaterThan(3);
        compressed += summary.compressed;
      }
      // The certificates are stored as base64 in JSON, which Snappy shrinks even when the bytes are random.
      expect(compressed).toBeGreaterThan(0);
    }
  });

  it('finds a byte changed anywhere a checksum or the footer covers, in stored and in compressed tables', () => {
    for (const db of [random, text]) {
      const name = tableFiles(db)[0]!;
      const pristine = readFileSync(join(db, name));
      const padding = footerPadding(pristine);
      // Every 409th byte through the data blocks, and every byte of the last 600 (filter, metaindex, index, footer).
      const offsets = new Set<number>();
      for (let at = 0; at < pristine.length; at += 409) offsets.add(at);
      for (let at = Math.max(0, pristine.length - 600); at < pristine.length; at++) offsets.add(at);
      let tried = 0;
      for (const at of offsets) {
        if (padding.has(at)) continue;
        const damaged = Buffer.from(pristine);
        damaged[at] = damaged[at]! ^ 0x20;
        expect(() => checkTable(damaged, name), `offset ${at} of ${pristine.length}`).toThrow(LevelDbDamage);
        tried++;
      }
      expect(tried).toBeGreaterThan(800);
    }
  });

  it('refuses a MANIFEST with a changed byte', () => {
    const manifest = readdirSync(text).find((f) => f.startsWith('MANIFEST-'))!;
    const pristine = readFileSync(join(text, manifest));
    const copy = join(dir, 'manifest-copy');
    const copyDb = join(copy, 'db');
    rmSync(copy, { recursive: true, force: true });
    cpSync(text, copyDb, { recursive: true });
    const damaged = Buffer.from(pristine);
    damaged[10] = damaged[10]! ^ 0x01;
    writeFileSync(join(copyDb, manifest), damaged);
    expect(() => liveTables(copyDb)).toThrow(/MANIFEST-\d+: the record at offset 0 fails its checksum/);
  });

  it('uncompresses Snappy literals and overlapping copies, and refuses a copy reaching before the start', () => {
    // 12 bytes: the literal "abc", then a 9-byte copy from 3 bytes back (kind 1: length 9 = (5 << 2) + 4).
    expect(snappyUncompress(Buffer.from([12, 0x08, 0x61, 0x62, 0x63, (5 << 2) | 1, 3]), 't').toString()).toBe('abcabcabcabc');
    // Kind 2 (two-byte offset) and a long literal (length in one extra byte, tag 60 << 2).
    const literal = Buffer.alloc(100, 0x78);
    const encoded = Buffer.concat([Buffer.from([100 + 4]), Buffer.from([60 << 2, 99]), literal, Buffer.from([(3 << 2) | 2, 100, 0])]);
    expect(snappyUncompress(encoded, 't').toString()).toBe('x'.repeat(104));
    expect(() => snappyUncompress(Buffer.from([4, (0 << 2) | 1, 1]), 't')).toThrow(LevelDbDamage);
    expect(() => snappyUncompress(Buffer.from([5, 0x08, 0x61, 0x62, 0x63]), 't')).toThrow(/3 bytes where 5 were announced/);
  });
});
