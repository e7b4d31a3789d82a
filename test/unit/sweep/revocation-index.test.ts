/**
 * The revocation index built from consecutive snapshots of one URL: first
 * seen bracketed by the previous read, claims appended not overwritten,
 * removals recorded, replays folding to the same records; over the in-memory
 * store and the local files (binary search, delta, compaction, a line cut
 * short by a crash).
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryRevocationIndex } from '../../../src/adapters/memory/memory-revocation-index.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { TableRevocationIndex } from '../../../src/store/table-revocation-index.js';
import { RevocationIndexFiles, findLine, urlId } from '../../../src/adapters/local/revocation-index-files.js';
import { appendLinesDurably, completeLines } from '../../../src/adapters/local/durable-files.js';
import type { RevocationIndexStore, SnapshotRef } from '../../../src/ports/revocation-index.js';
import type { CrlEntry } from '../../../src/sweep/crl-entries.js';
import { diffEntries, indexSnapshot, snapshotAt } from '../../../src/sweep/revocation-index.js';

const ISSUER = 'ab'.repeat(32);
const URL_A = 'http://crl.example/a.crl';
const T0 = Date.UTC(2026, 0, 1);
const entry = (serial: string, revocationDate = T0, reasonCode: number | null = 1): CrlEntry => ({ serial, revocationDate, reasonCode });
const snap = (sweep: number, sha256: string, entries: number): SnapshotRef => ({
  url: URL_A,
  sweep,
  at: T0 + sweep * 3_600_000,
  sha256,
  thisUpdate: T0 + sweep * 3_600_000 - 60_000,
  nextUpdate: null,
  crlNumber: String(sweep),
  entries,
});

describe('diffEntries', () => {
  it('merges two sorted lists into added, removed and changed claims', () => {
    const before = [entry('01'), entry('03'), entry('05', T0, 1)];
    const after = [entry('02'), entry('03'), entry('05', T0, 4), entry('07')];
    const d = diffEntries(before, after);
    expect(d.added.map((e) => e.serial)).toEqual(['02', '07']);
    expect(d.removed.map((e) => e.serial)).toEqual(['01']);
    expect(d.claimChanged).toEqual([entry('05', T0, 4)]);
    expect(diffEntries(after, after)).toEqual({ added: [], removed: [], claimChanged: [] });
  });
});

const stores: [string, () => RevocationIndexStore][] = [
  ['memory', () => new MemoryRevocationIndex()],
  ['local files', () => new RevocationIndexFiles(mkdtempSync(join(tmpdir(), 'revwatch-index-')))],
  ['table (over the memory table)', () => new TableRevocationIndex(new MemoryTable())],
];

describe.each(stores)('indexSnapshot over the %s store', (_name, make) => {
  it('brackets first seen, keeps changed claims, records removal, and a replay changes nothing', async () => {
    const store = make();
    const s1 = [entry('0a'), entry('0b')];
    const w1 = await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(1, 'h1', 2),
      previousRead: null,
      previous: null,
      entries: s1,
    });
    expect(w1).toMatchObject({ added: 2, recordsWritten: 2 });
    // Sweep 2 read it unchanged (304): no call. Sweep 3: 0c added, 0a's reason changed, 0b removed.
    const s3 = [entry('0a', T0, 4), entry('0c', T0 + 5_000)];
    const w3 = await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(3, 'h3', 2),
      previousRead: 2,
      previous: { sha256: 'h1', entries: s1 },
      entries: s3,
    });
    expect(w3).toEqual({ added: 1, removed: 1, claimChanged: 1, recordsWritten: 3 });
    const r = await store.records(ISSUER, ['0a', '0b', '0c', '0d']);
    expect([...r.keys()].sort()).toEqual(['0a', '0b', '0c']);
    expect(r.get('0c')!.listings).toEqual([{ url: URL_A, firstSeen: 3, notListedAt: 2, removed: null }]);
    expect(r.get('0c')!.claims).toEqual([{ url: URL_A, sweep: 3, revocationDate: T0 + 5_000, reasonCode: 1 }]);
    expect(r.get('0a')!.listings).toEqual([{ url: URL_A, firstSeen: 1, notListedAt: null, removed: null }]);
    expect(r.get('0a')!.claims.map((c) => [c.sweep, c.reasonCode])).toEqual([
      [1, 1],
      [3, 4],
    ]);
    expect(r.get('0b')!.listings).toEqual([{ url: URL_A, firstSeen: 1, notListedAt: null, removed: 3 }]);

    // The same change replayed (a crash after the records, before the sweep state): the same records.
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(3, 'h3', 2),
      previousRead: 2,
      previous: { sha256: 'h1', entries: s1 },
      entries: s3,
    });
    expect(await store.records(ISSUER, ['0a', '0b', '0c'])).toEqual(r);
    // Without the previous entries (its CRL lost), listed serials keep their first seen.
    await indexSnapshot(store, { url: URL_A, issuerKey: ISSUER, snapshot: snap(4, 'h4', 2), previousRead: 3, previous: null, entries: s3 });
    expect(await store.records(ISSUER, ['0a'])).toEqual(new Map([['0a', r.get('0a')]]));

    // Listed again after its removal: a second listing, bracketed by the sweep that last read it without.
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(6, 'h6', 3),
      previousRead: 5,
      previous: { sha256: 'h4', entries: s3 },
      entries: [...s3, entry('0b')].sort((a, b) => (a.serial < b.serial ? -1 : 1)),
    });
    expect((await store.records(ISSUER, ['0b'])).get('0b')!.listings).toEqual([
      { url: URL_A, firstSeen: 1, notListedAt: null, removed: 3 },
      { url: URL_A, firstSeen: 6, notListedAt: 5, removed: null },
    ]);
    expect(await store.issuerKeys()).toEqual([ISSUER]);
    const snaps = await store.snapshots(URL_A);
    expect(snaps.map((s) => s.sweep)).toEqual([1, 3, 4, 6]);
    expect(snapshotAt(snaps, 5)!.sha256).toBe('h4');
    // The replay of sweep 3 appended the same segment again (files, memory) or rewrote it in place (table,
    // keyed by URL and sweep): either way it folds to the same records.
    const segments = await store.segments(URL_A);
    const distinct = segments.filter((seg, i) => i === 0 || JSON.stringify(seg) !== JSON.stringify(segments[i - 1]));
    expect(segments.length - distinct.length).toBeLessThanOrEqual(1);
    expect(distinct.map((s) => [s.sweep, s.added.length, s.removed.length])).toEqual([
      [1, 2, 0],
      [3, 1, 1],
      [4, 2, 0],
      [6, 1, 0],
    ]);
  });

  it('an unchanged snapshot costs no index work', async () => {
    const store = make();
    const s = [entry('01'), entry('02')];
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(1, 'h1', 2),
      previousRead: null,
      previous: null,
      entries: s,
    });
    const w = await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(2, 'h2', 2),
      previousRead: 1,
      previous: { sha256: 'h1', entries: s },
      entries: s,
    });
    expect(w.recordsWritten).toBe(0);
    expect(await store.segments(URL_A)).toHaveLength(1);
  });
});

describe('local index files', () => {
  it('finds every line of a sorted file by binary search, and none that is absent', () => {
    const serials = Array.from({ length: 500 }, (_, i) => (i * 7919).toString(16).padStart(6, '0')).sort();
    const buf = Buffer.from(serials.map((s) => `${s}\t[${s.length}]\n`).join(''));
    for (const s of serials) expect(findLine(buf, s)).toBe(`[${s.length}]`);
    expect(findLine(buf, 'zz')).toBeNull();
    expect(findLine(buf, '')).toBeNull();
    expect(findLine(Buffer.alloc(0), '01')).toBeNull();
  });

  it('compacts the delta into the sorted file, and a new instance reads the same records', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-index-'));
    const store = new RevocationIndexFiles(home);
    const many = Array.from({ length: 6000 }, (_, i) => entry(((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0'))).sort((a, b) =>
      a.serial < b.serial ? -1 : 1,
    );
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(1, 'h1', many.length),
      previousRead: null,
      previous: null,
      entries: many,
    });
    const idx = readFileSync(join(home, 'sweep', 'index', `${ISSUER}.idx`), 'utf8');
    expect(completeLines(idx)).toHaveLength(6000);
    expect(readFileSync(join(home, 'sweep', 'index', `${ISSUER}.delta`), 'utf8')).toBe('');
    const fresh = new RevocationIndexFiles(home);
    const some = many.filter((_, i) => i % 97 === 0).map((e) => e.serial);
    const got = await fresh.records(ISSUER, some);
    expect(got.size).toBe(some.length);
    expect(got.get(some[3]!)!.listings[0]).toEqual({ url: URL_A, firstSeen: 1, notListedAt: null, removed: null });
    expect(fresh.indexBytes()).toBeGreaterThan(6000 * 20);
  });

  it('compacts a delta that replaces and inserts lines between those of the sorted file', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-index-merge-'));
    const store = new RevocationIndexFiles(home);
    const bySerial = (a: CrlEntry, b: CrlEntry): number => (a.serial < b.serial ? -1 : 1);
    const serialAt = (i: number): string => ((i * 2654435761) % 2 ** 32).toString(16);
    const old = Array.from({ length: 6000 }, (_, i) => entry(serialAt(i))).sort(bySerial);
    const both = [...old, ...Array.from({ length: 3000 }, (_, i) => entry(serialAt(6000 + i)))].sort(bySerial);
    const urlB = 'http://crl.example/b.crl';
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(1, 'h1', 6000),
      previousRead: null,
      previous: null,
      entries: old,
    });
    await indexSnapshot(store, {
      url: urlB,
      issuerKey: ISSUER,
      snapshot: { ...snap(2, 'h2', both.length), url: urlB },
      previousRead: null,
      previous: null,
      entries: both,
    });
    expect(readFileSync(join(home, 'sweep', 'index', `${ISSUER}.delta`), 'utf8')).toBe('');
    const lines = completeLines(readFileSync(join(home, 'sweep', 'index', `${ISSUER}.idx`), 'utf8')).map((l) => l.split('\t')[0]!);
    expect(lines).toEqual(both.map((e) => e.serial));
    const fresh = new RevocationIndexFiles(home);
    const got = await fresh.records(
      ISSUER,
      both.map((e) => e.serial),
    );
    for (const e of both) expect(got.get(e.serial)!.listings.map((l) => l.url)).toEqual(old.includes(e) ? [URL_A, urlB] : [urlB]);
    expect((await fresh.recordsOfMany([ISSUER], [old[17]!.serial])).get(ISSUER)!.get(old[17]!.serial)).toEqual(got.get(old[17]!.serial));
  });

  it('drops a line cut short by a crash before the next append, and readers skip it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'revwatch-append-')), 'log');
    appendLinesDurably(path, '{"a":1}\n');
    appendFileSync(path, '{"a":2');
    expect(completeLines(readFileSync(path, 'utf8'))).toEqual(['{"a":1}']);
    appendLinesDurably(path, '{"a":3}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"a":3}\n');
    writeFileSync(path, 'no newline at all');
    appendLinesDurably(path, 'x\n');
    expect(readFileSync(path, 'utf8')).toBe('x\n');
  });

  it('answers many serials across issuers as records() does, from the .keys table, a stale one and the delta', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-index-many-'));
    const store = new RevocationIndexFiles(home);
    const issuers = ['01'.repeat(32), '02'.repeat(32), '03'.repeat(32)];
    const serialsOf = (n: number, salt: number): CrlEntry[] =>
      Array.from({ length: n }, (_, i) => entry(((i * 2654435761 + salt * 97) % 2 ** 32).toString(16))).sort((a, b) =>
        a.serial < b.serial ? -1 : 1,
      );
    // The first issuer is compacted (.idx and .keys), the second only has a delta, the third both.
    const lists = [serialsOf(6000, 1), serialsOf(40, 2), serialsOf(5000, 3)];
    for (const [i, issuerKey] of issuers.entries()) {
      await indexSnapshot(store, {
        url: `http://crl.example/${i}.crl`,
        issuerKey,
        snapshot: { ...snap(1, `h${i}`, lists[i]!.length), url: `http://crl.example/${i}.crl` },
        previousRead: null,
        previous: null,
        entries: lists[i]!,
      });
    }
    await indexSnapshot(store, {
      url: 'http://crl.example/2b.crl',
      issuerKey: issuers[2]!,
      snapshot: { ...snap(2, 'h2b', 3), url: 'http://crl.example/2b.crl' },
      previousRead: null,
      previous: null,
      entries: [entry('ffff01'), lists[0]![5]!, lists[2]![7]!],
    });
    expect(readFileSync(join(home, 'sweep', 'index', `${issuers[2]}.delta`), 'utf8')).not.toBe('');
    // A .keys left from another .idx (a crash between the two writes) is not trusted.
    writeFileSync(join(home, 'sweep', 'index', `${issuers[0]}.keys`), Buffer.alloc(16));
    const asked = [
      ...lists
        .flat()
        .filter((_, i) => i % 13 === 0)
        .map((e) => e.serial),
      'ffff01',
      'abcdef12345',
      'ffff01',
    ];
    const fresh = new RevocationIndexFiles(home);
    const many = await fresh.recordsOfMany(issuers, asked);
    for (const issuerKey of issuers) expect(many.get(issuerKey)).toEqual(await new RevocationIndexFiles(home).records(issuerKey, asked));
    expect(many.get(issuers[2]!)!.get('ffff01')!.listings[0]!.url).toBe('http://crl.example/2b.crl');
    expect([...many.values()].some((m) => m.has('abcdef12345'))).toBe(false);
  });

  it('answers serials whose fingerprints collide, each as records() does, and a repeat once', async () => {
    // The .keys fingerprint (FNV-1a, 32 bits): among ~100,000 serials two share one, found here by search.
    const fnv = (s: string): number => {
      let h = 0x811c9dc5;
      for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      return h >>> 0;
    };
    const seen = new Map<number, string>();
    const colliding: string[] = [];
    for (let i = 0; colliding.length < 4; i++) {
      const serial = (0x10000000 + i * 7919).toString(16);
      const other = seen.get(fnv(serial));
      if (other !== undefined) colliding.push(other, serial);
      else seen.set(fnv(serial), serial);
    }
    const [a, b, c, d] = colliding as [string, string, string, string];
    const home = mkdtempSync(join(tmpdir(), 'revwatch-index-collide-'));
    const store = new RevocationIndexFiles(home);
    const sorted = (serials: string[]): CrlEntry[] => serials.sort().map((x) => entry(x));
    // a and b in the compacted .idx (a first snapshot large enough to be merged at once, as in the test above),
    // c in the delta; d (c's twin) is never listed.
    const filler = Array.from({ length: 6000 }, (_, k) => `e${k.toString(16).padStart(6, '0')}`);
    await indexSnapshot(store, {
      url: URL_A,
      issuerKey: ISSUER,
      snapshot: snap(1, 'h1', filler.length + 2),
      previousRead: null,
      previous: null,
      entries: sorted([a, b, ...filler]),
    });
    await store.flush();
    await indexSnapshot(store, {
      url: 'http://crl.example/b.crl',
      issuerKey: ISSUER,
      snapshot: { ...snap(2, 'h2', 1), url: 'http://crl.example/b.crl' },
      previousRead: null,
      previous: null,
      entries: [entry(c)],
    });
    await store.flush();
    const files = join(home, 'sweep', 'index', ISSUER);
    expect(readFileSync(`${files}.idx`, 'utf8')).toContain(`${a}\t`);
    expect(readFileSync(`${files}.delta`, 'utf8')).toContain(`${c}\t`);
    const asked = [d, b, a, c, b, filler[17]!, d];
    const many = (await new RevocationIndexFiles(home).recordsOfMany([ISSUER], asked)).get(ISSUER)!;
    expect(many).toEqual(await new RevocationIndexFiles(home).records(ISSUER, asked));
    expect([...many.keys()].sort()).toEqual([a, b, c, filler[17]!].sort());
  });

  it('names URL files by 16 hex digits of the URL hash', () => {
    expect(urlId(URL_A)).toMatch(/^[0-9a-f]{16}$/);
  });
});
