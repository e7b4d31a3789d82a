/**
 * The sweep state's port (SweepStateStore) over each of its stores: the file (<home>/sweep/state.json), the
 * memory one, and the table's (store/table-sweep-state.ts, over the memory table) round-trip the same state;
 * the table's writes only the items that changed and deletes what left the state.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SweepStateFile } from '../../../src/adapters/local/sweep-state-file.js';
import { MemorySweepState } from '../../../src/adapters/memory/memory-revocation-index.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { emptySweepState, type SweepState, type SweepStateStore, type UrlState } from '../../../src/ports/revocation-index.js';
import { TableSweepState } from '../../../src/store/table-sweep-state.js';

const T0 = Date.UTC(2026, 11, 1);
const urlState = (url: string, sweep: number): UrlState => ({
  url,
  etag: `"${sweep}"`,
  lastModified: null,
  sha256: 'ab'.repeat(32),
  crlNumber: String(sweep),
  thisUpdate: T0,
  nextUpdate: T0 + 7 * 86_400_000,
  bytes: 1234,
  issuerKey: 'cd'.repeat(32),
  lastRead: { sweep, at: T0 + sweep },
  lastChangedAt: T0,
  lastGoodAt: T0 + sweep,
  fault: null,
});
const finding = (url: string) => ({
  code: 'crl_unreachable',
  owner: 'Owner',
  url,
  subject: '',
  message: `${url} answered 503`,
  firstSeen: T0,
  lastSeen: T0,
  resolvedAt: null,
});
const URLS = Array.from({ length: 20 }, (_, i) => `http://crl${i}.example/ca.crl`);
const STATE: SweepState = {
  sweeps: [
    { sweep: 1, startedAt: T0, finishedAt: T0 + 1000, urls: 20, changed: 20, unchanged: 0, faults: 0 },
    { sweep: 2, startedAt: T0 + 10_000, finishedAt: T0 + 11_000, urls: 20, changed: 1, unchanged: 18, faults: 1 },
  ],
  urls: Object.fromEntries(URLS.map((u) => [u, urlState(u, 2)])),
  issuers: {
    ['cd'.repeat(32)]: { issuerKey: 'cd'.repeat(32), subjectKeyId: '0102', caSha256: ['ef'.repeat(32)], name: 'CA', owner: 'Owner' },
  },
  health: { [`crl_unreachable ${URLS[3]} `]: finding(URLS[3]!) },
};

const stores: [string, () => SweepStateStore][] = [
  ['memory', () => new MemorySweepState()],
  ['local file', () => new SweepStateFile(mkdtempSync(join(tmpdir(), 'revwatch-sweep-state-')))],
  ['table (over the memory table)', () => new TableSweepState(new MemoryTable())],
];

describe.each(stores)('sweep state over the %s store', (_name, make) => {
  it('starts empty and reads back what was saved, twice over', async () => {
    const store = make();
    expect(await store.load()).toEqual(emptySweepState());
    await store.save(STATE);
    expect(await store.load()).toEqual(STATE);
    const { [`crl_unreachable ${URLS[3]} `]: _gone, ...health } = STATE.health;
    const next: SweepState = { ...STATE, urls: { ...STATE.urls, [URLS[0]!]: urlState(URLS[0]!, 3) }, health };
    await store.save(next);
    expect(await store.load()).toEqual(next);
  });
});

describe('the table sweep state', () => {
  it('writes only the items that changed, and deletes a finding no longer kept', async () => {
    const table = new MemoryTable();
    const store = new TableSweepState(table);
    await store.load();
    await store.save(STATE);
    // 2 runs, 20 URLs, 1 issuer, 1 finding.
    expect(table.itemsWritten).toBe(24);
    const loaded = await store.load();
    const { [`crl_unreachable ${URLS[3]} `]: _gone, ...health } = loaded.health;
    const run3 = { sweep: 3, startedAt: T0 + 20_000, finishedAt: T0 + 21_000, urls: 20, changed: 1, unchanged: 19, faults: 0 };
    await store.save({ ...loaded, sweeps: [...loaded.sweeps, run3], urls: { ...loaded.urls, [URLS[5]!]: urlState(URLS[5]!, 3) }, health });
    // The new run, the one changed URL, and the deleted finding: 3 writes, not 24.
    expect(table.itemsWritten).toBe(27);
    // A fresh instance (another Lambda) reads the same state.
    const other = await new TableSweepState(table).load();
    expect(other.sweeps.map((r) => r.sweep)).toEqual([1, 2, 3]);
    expect(other.urls[URLS[5]!]!.lastRead).toEqual({ sweep: 3, at: T0 + 3 });
    expect(other.health).toEqual({});
  });
});
