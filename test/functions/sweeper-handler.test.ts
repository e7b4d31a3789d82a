/**
 * The sweep planner's handler (functions/sweeper.ts) over the memory table: the CCADB refresh it runs first
 * (the real refreshDisclosures, against a fetcher that answers as told), and the staleness metric the
 * stack's CcadbDisclosureStale alarm watches (issue 26 item 3: stale after 48 hours without a good import).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { MemoryTable } from '../../src/adapters/memory/memory-table.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { DisclosureStore } from '../../src/ccadb/store.js';
import { refreshDisclosures } from '../../src/ccadb/refresh.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../src/ports/index.js';
import { createSweeperHandler } from '../../functions/sweeper.js';
import { createObservability } from '../../functions/shared/observability.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';

const HOUR = 3_600_000;
const URL = 'https://ccadb.example/AllCertificateRecordsCSVFormatV5';
const CSV = `"SHA-256 Fingerprint","Subject Key Identifier","Full CRL Issued By This CA","JSON Array of Partitioned CRLs"\r\n"${'ab'.repeat(32)}","AQI=","http://crl.example/a.crl",""\r\n`;

const scheduled = (): ScheduledEvent => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-12-07T12:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/revwatch-sweep-schedule'],
  detail: {},
});

/** Answers the CCADB report URL with the CSV, or with HTTP 503 while `down`. */
function ccadb(): Fetcher & { down: boolean; asked: number } {
  const f = {
    down: false,
    asked: 0,
    fetch: async (req: FetchRequest): Promise<FetchResult> => {
      f.asked++;
      if (f.down) return { ok: false, url: req.url, kind: 'http-status', status: 503, message: 'HTTP 503' } as FetchResult;
      return {
        ok: true,
        url: req.url,
        status: 200,
        body: new TextEncoder().encode(CSV),
        etag: null,
        lastModified: null,
      } as unknown as FetchResult;
    },
  };
  return f;
}

describe('sweeper handler: CCADB refresh and the stale-disclosure metric', () => {
  let stdout: string[];
  beforeEach(() => {
    stdout = [];
    // EMF metrics go to stdout; the logger's errors may go to stderr: both are captured.
    for (const stream of [process.stdout, process.stderr]) {
      const write = stream.write.bind(stream);
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: any[]) => {
        stdout.push(...String(chunk).split('\n').filter(Boolean));
        return write(chunk, ...rest);
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  /** The values of one metric in the EMF documents written since the test began, in order. */
  const metric = (name: string): number[] =>
    stdout
      .filter((l) => l.includes('"CloudWatchMetrics"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .flatMap((m) => (m[name] === undefined ? [] : [m[name]].flat()) as number[]);

  function setUp(withUrl: boolean) {
    const clock = new FakeClock('2026-12-07T12:00:00Z');
    const disclosures = new DisclosureStore(new MemoryTable());
    const fetcher = ccadb();
    const handler = createSweeperHandler(() => ({
      clock,
      disclosures,
      ledger: new TableSweepState(new MemoryTable()),
      queue: { enqueue: async () => {} },
      events: { sweepCompleted: async () => {} },
      ...(withUrl ? { ccadbRefresh: () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, URL) } : {}),
      ...createObservability(),
    }));
    return { clock, disclosures, fetcher, handler };
  }

  it('refreshes, reports 0 while the last good import is under 48 hours old, then 1 once a failing CCADB makes it older', async () => {
    const { clock, fetcher, handler } = setUp(true);
    expect(await handler(scheduled())).toMatchObject({
      refresh: 'refreshed',
      disclosuresImportedAt: '2026-12-07T12:00:00.000Z',
      disclosuresStale: false,
    });
    expect(metric('CcadbDisclosureStale')).toEqual([0]);
    expect(metric('CcadbDisclosureAgeHours')).toEqual([0]);

    // The CCADB goes down. A day later the refresh is due and fails; the disclosure is 24 h old: not stale yet.
    fetcher.down = true;
    clock.advance(24 * HOUR);
    expect(await handler(scheduled())).toMatchObject({ refresh: 'failed', disclosuresStale: false });
    expect(metric('CcadbDisclosureStale')).toEqual([0, 0]);

    // Past 48 hours (backing off or failing, whichever the refresh does), the metric is 1 and the log says why.
    clock.advance(25 * HOUR);
    const stale = await handler(scheduled());
    expect(stale.disclosuresStale).toBe(true);
    expect(['failed', 'backoff']).toContain(stale.refresh);
    expect(metric('CcadbDisclosureStale')).toEqual([0, 0, 1]);
    expect(metric('CcadbDisclosureAgeHours').at(-1)).toBe(49);
    expect(stdout.some((l) => l.includes('CCADB disclosures are stale'))).toBe(true);

    // The CCADB comes back: the next refresh that tries imports, and the metric returns to 0.
    fetcher.down = false;
    clock.advance(24 * HOUR);
    expect(await handler(scheduled())).toMatchObject({ refresh: 'refreshed', disclosuresStale: false });
    expect(metric('CcadbDisclosureStale').at(-1)).toBe(0);
  });

  it('with no report URL: nothing imported is not stale, an import by the CLI ages and goes stale after 48 hours', async () => {
    const { clock, disclosures, fetcher, handler } = setUp(false);
    expect(await handler(scheduled())).toMatchObject({ refresh: 'off', disclosuresImportedAt: null, disclosuresStale: false });
    expect(metric('CcadbDisclosureStale')).toEqual([0]);
    expect(metric('CcadbDisclosureAgeHours')).toEqual([]);
    await disclosures.replace([], clock.now().getTime(), 'revwatch --aws ccadb import');
    clock.advance(48 * HOUR + 1);
    expect(await handler(scheduled())).toMatchObject({ refresh: 'off', disclosuresStale: true });
    expect(metric('CcadbDisclosureStale')).toEqual([0, 1]);
    expect(fetcher.asked).toBe(0);
  });
});
