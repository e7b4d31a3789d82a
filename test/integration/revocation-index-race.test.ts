/**
 * Two shards of one issuer read by two workers at once (the sweep in AWS, src/sweep/fan-out.ts) fold the
 * same serials into the table revocation index at the same moment. The table is made to interleave them
 * at the worst point: both folds read the records before either writes, and both commits read the current
 * revision before either writes. The record write is conditional on that revision
 * (store/table-revocation-index.ts), so the loser reads again and lays its URL's part over the winner's:
 * every serial ends with both shards' listings and claims. Against the memory table and dynalite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { MemoryTable } from '../../src/adapters/memory/memory-table.js';
import type { Table } from '../../src/ports/table.js';
import { revocationRecordKey } from '../../src/store/layout.js';
import { TableRevocationIndex } from '../../src/store/table-revocation-index.js';
import type { CrlEntry } from '../../src/sweep/crl-entries.js';
import { indexSnapshot } from '../../src/sweep/revocation-index.js';

const ISSUER = 'cd'.repeat(32);
const SHARD_A = 'http://crl.example/shard-1.crl';
const SHARD_B = 'http://crl.example/shard-2.crl';
const T0 = Date.UTC(2026, 10, 1);
const SERIALS = Array.from({ length: 40 }, (_, i) => (0x1000 + i).toString(16));

/**
 * The table, with its record reads paired up: each read of the index records waits until another fold's
 * read has arrived too (or 2 s), so the two folds always see the same revision before either writes.
 */
function pairedReads(table: Table): Table {
  let waiting: (() => void) | null = null;
  const batchGet: Table['batchGet'] = async (keys, noun) => {
    if (noun === 'revocation index records') {
      if (waiting) {
        const release = waiting;
        waiting = null;
        release();
      } else {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            waiting = null;
            resolve();
          }, 2000);
          waiting = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
    return table.batchGet(keys, noun);
  };
  return new Proxy(table, {
    get: (target, prop) =>
      prop === 'batchGet' ? batchGet : (Reflect.get(target, prop, target) as unknown as (...a: unknown[]) => unknown),
  });
}

const entries = (offset: number, reasonCode: number): CrlEntry[] =>
  SERIALS.map((serial, i) => ({ serial, revocationDate: T0 + (i + offset) * 1000, reasonCode }));

async function foldBothShardsAtOnce(table: Table): Promise<void> {
  const raced = pairedReads(table);
  // One index per worker, as two Lambda processes have.
  const fold = (url: string, reasonCode: number) =>
    indexSnapshot(new TableRevocationIndex(raced), {
      url,
      issuerKey: ISSUER,
      snapshot: {
        url,
        sweep: 1,
        at: T0 + 3_600_000,
        sha256: url === SHARD_A ? 'aa'.repeat(32) : 'bb'.repeat(32),
        thisUpdate: T0,
        nextUpdate: T0 + 7 * 86_400_000,
        crlNumber: '1',
        entries: SERIALS.length,
      },
      previousRead: null,
      previous: null,
      entries: entries(reasonCode, reasonCode),
    });
  const [a, b] = await Promise.all([fold(SHARD_A, 1), fold(SHARD_B, 4)]);
  expect(a.recordsWritten).toBe(SERIALS.length);
  expect(b.recordsWritten).toBe(SERIALS.length);
}

async function expectNothingLost(table: Table): Promise<void> {
  const records = await new TableRevocationIndex(table).records(ISSUER, SERIALS);
  expect(records.size).toBe(SERIALS.length);
  for (const serial of SERIALS) {
    const r = records.get(serial)!;
    expect(r.listings.map((l) => [l.url, l.firstSeen, l.removed]).sort()).toEqual([
      [SHARD_A, 1, null],
      [SHARD_B, 1, null],
    ]);
    expect(r.claims.map((c) => [c.url, c.reasonCode]).sort()).toEqual([
      [SHARD_A, 1],
      [SHARD_B, 4],
    ]);
  }
  // Every record was written twice (once per shard): its revision says so.
  const items = await table.batchGet(
    SERIALS.map((s) => revocationRecordKey(ISSUER, s)),
    'records',
  );
  expect(items.map((i) => Number(i.rev))).toEqual(SERIALS.map(() => 2));
}

describe('two shards of one issuer folded at once into the table revocation index', () => {
  it('memory table: both listings and both claims of every serial are kept', async () => {
    const table = new MemoryTable();
    await foldBothShardsAtOnce(table);
    await expectNothingLost(table);
  });

  it('dynalite: both listings and both claims of every serial are kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-rix-race-'));
    const open = await openEmbeddedStore(home);
    try {
      await foldBothShardsAtOnce(open.store.table);
      await expectNothingLost(open.store.table);
    } finally {
      await open.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a record written before revisions were kept is replaced only while it has none', async () => {
    const table = new MemoryTable();
    const index = new TableRevocationIndex(table);
    // As the index wrote records before `rev`: the packed record alone.
    await table.put({ ...revocationRecordKey(ISSUER, SERIALS[0]!), r: JSON.stringify([[[SHARD_B, 1, null, null]], []]) }, 'legacy');
    await indexSnapshot(index, {
      url: SHARD_A,
      issuerKey: ISSUER,
      snapshot: { url: SHARD_A, sweep: 2, at: T0, sha256: 'aa'.repeat(32), thisUpdate: T0, nextUpdate: null, crlNumber: null, entries: 1 },
      previousRead: 1,
      previous: null,
      entries: [{ serial: SERIALS[0]!, revocationDate: T0, reasonCode: null }],
    });
    const r = (await index.records(ISSUER, [SERIALS[0]!])).get(SERIALS[0]!)!;
    expect(r.listings.map((l) => [l.url, l.firstSeen, l.notListedAt])).toEqual([
      [SHARD_B, 1, null],
      [SHARD_A, 2, 1],
    ]);
  });
});
