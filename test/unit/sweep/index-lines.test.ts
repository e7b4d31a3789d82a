/**
 * The local index's lines are written straight into buffers and merged as
 * sorted runs of bytes (revocation-index-files.ts): equivalent to the plain
 * spelling, a JSON.stringify of each record's packed form, one line per serial
 * in string order, the latest fold of a serial winning.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RevocationIndexFiles, segmentLine } from '../../../src/adapters/local/revocation-index-files.js';
import { completeLines } from '../../../src/adapters/local/durable-files.js';
import type { ChangeSegment, IndexRecord } from '../../../src/ports/revocation-index.js';

const ISSUER = 'cd'.repeat(32);
const URLS = ['http://crl.example/a.crl', 'http://crl.example/b.crl', 'http://crl.example/c.crl'];
const T0 = Date.UTC(2026, 0, 1);

/** Serials of varied length, some a prefix of another (a shorter serial sorts first), some negative. */
const serialAt = (i: number): string => {
  const hex = ((i * 2654435761) % 2 ** 32).toString(16);
  return i % 19 === 0 ? `-${hex}` : i % 11 === 0 ? hex.slice(0, 3) : hex;
};

/** Records with every shape a line can take: several listings and claims, nulls, a fractional and a negative date. */
function recordAt(i: number, sweep: number): IndexRecord {
  const url = URLS[(i + sweep) % URLS.length]!;
  const listings = [{ url, firstSeen: sweep, notListedAt: i % 3 === 0 ? null : sweep - 1, removed: i % 5 === 0 ? sweep : null }];
  if (i % 7 === 0) listings.push({ url: URLS[(i + 1) % URLS.length]!, firstSeen: 1, notListedAt: null, removed: null });
  const claims = [{ url, sweep, revocationDate: T0 + i * 1000, reasonCode: i % 2 === 0 ? i % 10 : null }];
  if (i % 13 === 0) claims.push({ url, sweep, revocationDate: T0 + i * 1000 + 123, reasonCode: 4 });
  if (i % 17 === 0) claims.push({ url, sweep, revocationDate: -86_400_000 - i * 1000, reasonCode: 0 });
  return { issuerKey: ISSUER, serial: serialAt(i), listings, claims };
}

const segment = (sweep: number): ChangeSegment => ({
  url: URLS[0]!,
  issuerKey: ISSUER,
  sweep,
  previousRead: null,
  previousSha256: null,
  sha256: `h${sweep}`,
  added: [],
  removed: [],
  claimChanged: [],
});

/** The plain spelling of a record's line, given the issuer's URL list. */
function plainLine(r: IndexRecord, urls: readonly string[]): string {
  const packed = [
    r.listings.map((l) => [urls.indexOf(l.url), l.firstSeen, l.notListedAt, l.removed]),
    r.claims.map((c) => [urls.indexOf(c.url), c.sweep, c.revocationDate / 1000, c.reasonCode]),
  ];
  return `${r.serial}\t${JSON.stringify(packed)}`;
}

describe('local index lines', () => {
  it('a large commit, a small unsorted one with a serial twice, then a large one over both: the same lines as the plain spelling', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-index-lines-'));
    const store = new RevocationIndexFiles(home, { writeBehind: true });
    const latest = new Map<string, IndexRecord>();
    const commit = async (sweep: number, records: IndexRecord[]): Promise<void> => {
      await store.commit(segment(sweep), records);
      for (const r of records) latest.set(r.serial, r);
    };
    const sorted = (rs: IndexRecord[]): IndexRecord[] => rs.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));
    // Large enough to be merged straight into the .idx.
    const first = new Map(Array.from({ length: 6000 }, (_, i) => recordAt(i, 1)).map((r) => [r.serial, r]));
    await commit(1, sorted([...first.values()]));
    const dir = join(home, 'sweep', 'index');
    // Small: folded into the delta. Unsorted, a serial of the sorted file replaced, one new serial given twice (the later wins).
    const small = [recordAt(5990, 2), recordAt(3, 2), recordAt(7000, 2), recordAt(7001, 2), { ...recordAt(7000, 3), issuerKey: ISSUER }];
    await commit(2, small);
    await store.flush();
    expect(readFileSync(join(dir, `${ISSUER}.delta`), 'utf8')).not.toBe('');
    // Large again, over lines of both the sorted file and the delta: one merge of the three.
    const third = new Map([...Array.from({ length: 7000 }, (_, i) => recordAt(i * 3 + 1, 4)), recordAt(7001, 4)].map((r) => [r.serial, r]));
    await commit(4, sorted([...third.values()]));
    await store.flush();

    const urls = JSON.parse(readFileSync(join(dir, `${ISSUER}.urls`), 'utf8')) as string[];
    const expected = [...latest.values()].sort((a, b) => (a.serial < b.serial ? -1 : 1)).map((r) => plainLine(r, urls));
    expect(readFileSync(join(dir, `${ISSUER}.delta`), 'utf8')).toBe('');
    expect(completeLines(readFileSync(join(dir, `${ISSUER}.idx`), 'utf8'))).toEqual(expected);
    // And read back as the records folded.
    const again = await new RevocationIndexFiles(home).records(ISSUER, [...latest.keys()].sort());
    for (const r of latest.values()) expect(again.get(r.serial)).toEqual(r);
  });
});

describe('change segment lines', () => {
  it('are the text of JSON.stringify, for a first read of many entries and for odd fields', () => {
    const added = Array.from(
      { length: 5000 },
      (_, i) => [serialAt(i), T0 + i * 1000 + (i % 3 === 0 ? 0.5 : 0), i % 4 === 0 ? null : i % 10] as const,
    );
    const plain = (s: ChangeSegment): string => `${JSON.stringify(s)}\n`;
    const first: ChangeSegment = { ...segment(1), added };
    expect(segmentLine(first).toString('utf8')).toBe(plain(first));
    const later: ChangeSegment = {
      ...segment(2),
      url: 'http://crl.exämple/ä "quoted".crl',
      previousRead: 1,
      previousSha256: 'h1',
      added: [
        ['-0a', -5000, 0],
        ['ff', Number.NaN, null],
      ],
      removed: ['01', '-7f'],
      claimChanged: [['02', T0, 4]],
    };
    expect(segmentLine(later).toString('utf8')).toBe(plain(later));
    const odd: ChangeSegment = { ...segment(3), removed: ['not hex "at all"'] };
    expect(segmentLine(odd).toString('utf8')).toBe(plain(odd));
    const { url, ...rest } = segment(4);
    const reordered = { ...rest, url };
    expect(segmentLine(reordered).toString('utf8')).toBe(plain(reordered));
  });
});
