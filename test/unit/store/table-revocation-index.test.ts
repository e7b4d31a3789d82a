/**
 * What the table revocation index (store/table-revocation-index.ts) does beyond the port's contract, which
 * test/unit/sweep/revocation-index.test.ts runs over it: a first read's segment too big for one item is
 * split into parts and read back whole; a replay of that sweep with a smaller segment leaves no stale part;
 * records spread over shards and come back by issuer and serial; and every item stays under DynamoDB's
 * 400 KB.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import type { ChangeSegment, IndexRecord } from '../../../src/ports/revocation-index.js';
import { changeSegmentPartition, revocationRecordKey } from '../../../src/store/layout.js';
import { queryAll } from '../../../src/ports/table.js';
import { TableRevocationIndex } from '../../../src/store/table-revocation-index.js';

const ISSUER = 'ab'.repeat(32);
const URL_A = 'http://crl.example/big.crl';
const T0 = Date.UTC(2026, 0, 1);
/** Serials that do not compress away: the hex of a multiplicative hash. */
const serial = (i: number): string => ((i * 2654435761) % 2 ** 32).toString(16).padStart(8, '0') + i.toString(16).padStart(8, '0');

const segment = (sweep: number, n: number): ChangeSegment => ({
  url: URL_A,
  issuerKey: ISSUER,
  sweep,
  previousRead: null,
  previousSha256: null,
  sha256: 'cd'.repeat(32),
  added: Array.from({ length: n }, (_, i) => [serial(i), T0 + i * 1000, i % 5 === 0 ? null : 1] as const),
  removed: [],
  claimChanged: [],
});
const record = (s: string): IndexRecord => ({
  issuerKey: ISSUER,
  serial: s,
  listings: [{ url: URL_A, firstSeen: 1, notListedAt: null, removed: null }],
  claims: [{ url: URL_A, sweep: 1, revocationDate: T0, reasonCode: 1 }],
});

describe('table revocation index', () => {
  it('splits a big segment into parts under 400 KB, reads it back whole, and a smaller replay leaves no stale part', async () => {
    const table = new MemoryTable();
    const index = new TableRevocationIndex(table);
    const big = segment(1, 60_000);
    await index.commit(big, []);
    const parts = table.itemsWritten;
    expect(parts).toBeGreaterThan(1);
    const stored = await queryAll(table, { pk: changeSegmentPartition(URL_A) }, 'parts');
    for (const p of stored) expect((p.data as Uint8Array).length).toBeLessThanOrEqual(300 * 1024);
    expect(await index.segments(URL_A)).toEqual([big]);
    // The same sweep again (a retried job) with a different, smaller difference: it replaces the first.
    const small = segment(1, 10);
    await index.commit(small, []);
    expect(await index.segments(URL_A)).toEqual([small]);
    await index.commit(segment(2, 3), []);
    expect((await index.segments(URL_A)).map((s) => [s.sweep, s.added.length])).toEqual([
      [1, 10],
      [2, 3],
    ]);
  });

  it('keeps one small item per record, spread over shards, read back by issuer and serial', async () => {
    const table = new MemoryTable();
    const index = new TableRevocationIndex(table);
    const serials = Array.from({ length: 300 }, (_, i) => serial(i));
    await index.commit(segment(1, 0), serials.map(record));
    const shards = new Set(serials.map((s) => revocationRecordKey(ISSUER, s).pk));
    expect(shards.size).toBeGreaterThan(100);
    const got = await index.records(ISSUER, [...serials.slice(0, 50), 'ffff', serials[0]!]);
    expect(got.size).toBe(50);
    expect(got.get(serials[7]!)).toEqual(record(serials[7]!));
    expect(await index.records('ef'.repeat(32), serials.slice(0, 5))).toEqual(new Map());
    expect(await index.issuerKeys()).toEqual([ISSUER]);
    // A packed record is a few hundred bytes: one write unit each (DynamoDB rounds writes up to 1 KB).
    const item = await table.get(revocationRecordKey(ISSUER, serials[7]!), 'a record');
    expect(JSON.stringify(item).length).toBeLessThan(400);
  });
});
