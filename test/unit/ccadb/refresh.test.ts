/**
 * The disclosure store's replace-with-history, and the planner's weekly
 * CCADB refresh: a week-old import is refreshed from the report URL, a
 * fresher one is left alone, and a download or a report that cannot be read
 * is a reported failure that keeps the last import.
 */
import { describe, expect, it } from 'vitest';
import { DisclosureStore } from '../../../src/ccadb/store.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { CCADB_REFRESH_INTERVAL_MS, DISCLOSURE_STALE_AFTER_MS, refreshBackoffMs, refreshDisclosures } from '../../../src/ccadb/refresh.js';
import type { Disclosure } from '../../../src/ccadb/report.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../../src/ports/index.js';

const disclosure = (n: number, over: Partial<Disclosure> = {}): Disclosure => ({
  sha256: String(n).repeat(64).slice(0, 64),
  name: `CA ${n}`,
  owner: 'Owner',
  subjectKeyId: `0${n}`.repeat(4),
  fullCrl: `http://crl.example/${n}.crl`,
  partitionedCrls: [],
  pem: null,
  subjectNameHash: null,
  ...over,
});

const CSV = (full: string): string =>
  `"SHA-256 Fingerprint","Subject Key Identifier","Full CRL Issued By This CA","JSON Array of Partitioned CRLs"\r\n"${'ab'.repeat(32)}","AQI=","${full}",""\r\n`;

function fetcherServing(body: string | null): Fetcher & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    fetch: async (req: FetchRequest): Promise<FetchResult> => {
      asked.push(req.url);
      if (body === null) return { ok: false, url: req.url, kind: 'http-status', status: 503, message: 'HTTP 503' } as FetchResult;
      return {
        ok: true,
        url: req.url,
        status: 200,
        body: new TextEncoder().encode(body),
        sha256: '',
        etag: null,
        lastModified: null,
        notModified: false,
      } as unknown as FetchResult;
    },
  } as Fetcher & { asked: string[] };
}

describe('DisclosureStore.replace', () => {
  it('adds, keeps unchanged, replaces changed (with history) and removes what is no longer reported', async () => {
    const table = new MemoryTable();
    const store = new DisclosureStore(table);
    expect(await store.replace([disclosure(1), disclosure(2)], 1000, 'first')).toEqual({ added: 2, changed: 0, unchanged: 0, removed: 0 });
    expect(await store.replace([disclosure(1, { fullCrl: 'http://crl.example/moved.crl' }), disclosure(3)], 2000, 'second')).toEqual({
      added: 1,
      changed: 1,
      unchanged: 0,
      removed: 1,
    });
    expect((await store.current()).map((d) => [d.name, d.fullCrl])).toEqual([
      ['CA 1', 'http://crl.example/moved.crl'],
      ['CA 3', 'http://crl.example/3.crl'],
    ]);
    expect((await store.history(disclosure(1).sha256)).map((h) => [h.at, h.fullCrl, h.removed])).toEqual([
      [1000, 'http://crl.example/1.crl', false],
      [2000, 'http://crl.example/moved.crl', false],
    ]);
    expect((await store.history(disclosure(2).sha256)).map((h) => h.removed)).toEqual([false, true]);
    // The removed CA answers no lookup any more; the changed one answers with its new CRL.
    expect(await store.byKeyId(disclosure(2).subjectKeyId!)).toEqual([]);
    expect((await store.byKeyId(disclosure(1).subjectKeyId!)).map((d) => d.fullCrl)).toEqual(['http://crl.example/moved.crl']);
    expect(await store.lastImport()).toEqual({ at: 2000, source: 'second' });
  });
});

describe('refreshDisclosures (daily, in the planner)', () => {
  const url = 'https://ccadb.example/AllCertificateRecordsCSVFormatv4';

  it('imports when nothing was imported yet, then leaves a fresh import alone until a day has passed', async () => {
    const store = new DisclosureStore(new MemoryTable());
    const fetcher = fetcherServing(CSV('http://crl.example/a.crl'));
    const t0 = Date.parse('2026-03-02T00:00:00Z');
    expect(await refreshDisclosures({ store, fetcher, now: t0 }, url)).toMatchObject({ refreshed: true, disclosures: 1, added: 1 });
    expect(await refreshDisclosures({ store, fetcher, now: t0 + CCADB_REFRESH_INTERVAL_MS - 1 }, url)).toEqual({
      refreshed: false,
      reason: 'fresh',
      lastImportAt: t0,
    });
    expect(fetcher.asked).toEqual([url]);
    expect(await refreshDisclosures({ store, fetcher, now: t0 + CCADB_REFRESH_INTERVAL_MS }, url)).toMatchObject({
      refreshed: true,
      unchanged: 1,
    });
    expect(fetcher.asked).toHaveLength(2);
  });

  it('reports a failed download or an unreadable report, backs off, says when it was last good, and keeps the last import', async () => {
    const store = new DisclosureStore(new MemoryTable());
    await store.replace([disclosure(1)], 0, 'manual');
    const day = CCADB_REFRESH_INTERVAL_MS;
    const down = fetcherServing(null);
    expect(await refreshDisclosures({ store, fetcher: down, now: day }, url)).toEqual({
      refreshed: false,
      reason: 'failed',
      error: `could not download ${url}: HTTP 503 (last good never)`,
      failures: 1,
      lastGoodAt: null,
      retryAt: day + refreshBackoffMs(1),
      lastImportAt: 0,
      stale: false,
    });
    // Within the backoff the URL is not downloaded again.
    const waiting = await refreshDisclosures({ store, fetcher: down, now: day + refreshBackoffMs(1) - 1 }, url);
    expect(waiting).toMatchObject({ refreshed: false, reason: 'backoff', failures: 1 });
    expect(down.asked).toHaveLength(1);
    // After it, tried again: a report that cannot be read is a failure too, and the wait doubles.
    const t2 = day + refreshBackoffMs(1);
    expect(await refreshDisclosures({ store, fetcher: fetcherServing('"Some","Other"\r\n"x","y"\r\n'), now: t2 }, url)).toMatchObject({
      refreshed: false,
      reason: 'failed',
      failures: 2,
      retryAt: t2 + 2 * refreshBackoffMs(1),
      error: expect.stringMatching(/is not a CCADB report revwatch reads/),
    });
    expect((await store.current()).map((d) => d.name)).toEqual(['CA 1']);
    expect(await store.lastImport()).toEqual({ at: 0, source: 'manual' });
    // Past 48 hours the last good disclosure (still used) is called stale.
    const t3 = DISCLOSURE_STALE_AFTER_MS + 1;
    expect(await refreshDisclosures({ store, fetcher: down, now: t3 }, url)).toMatchObject({ reason: 'failed', failures: 3, stale: true });
    // A good download clears the backoff and says so next time it fails.
    const t4 = t3 + refreshBackoffMs(3);
    expect(await refreshDisclosures({ store, fetcher: fetcherServing(CSV('http://crl.example/a.crl')), now: t4 }, url)).toMatchObject({
      refreshed: true,
    });
    expect(await store.refreshState(url)).toEqual({ url, failures: 0, lastFailureAt: null, lastError: null, lastGoodAt: t4 });
    const t5 = t4 + day;
    expect(await refreshDisclosures({ store, fetcher: down, now: t5 }, url)).toMatchObject({
      failures: 1,
      lastGoodAt: t4,
      stale: false,
      error: expect.stringContaining(`last good ${new Date(t4).toISOString()}`),
    });
    expect(refreshBackoffMs(40)).toBe(86_400_000);
  });
});
