/**
 * The polling summaries' backfill (issue 29): a table that had the polling index `poll` before the narrow
 * index `poll-due` existed holds certificate items without `ps`. `poll-due` lists them with its keys only, and
 * the planner reads each of them whole (a BatchGetItem of ~1.1 KB) until its record is next written. This job
 * gives every such item its summary, so the planner reads only summaries.
 *
 * It pages a parallel Scan of the table, not an index: the table's keys never change, so where a segment
 * stopped (DynamoDB's LastEvaluatedKey) is exact, whereas an item moves within both polling indexes
 * (TableStore.setPollDue moves the index keys and writes no summary) and a cursor over an index could pass
 * it by. The Scan's filter returns only certificate items without `ps`.
 *
 * - **Never clobbers.** Each summary is written with a condition: the item still has no `ps` and still has the
 *   revision it was read at. A check that rewrote the record meanwhile wrote its own summary with it (every
 *   record write does), and the backfill's write fails its condition and is counted, nothing else. An item
 *   that changed without getting a summary is read again and summarized as it is now.
 * - **Resumable.** After each page the segment's position and the counts are kept in one item
 *   (layout.ts migrationKey); a run cut short goes on from there. Each position is written after the page's
 *   summaries, so a page is never skipped; one redone finds its items summarized and writes nothing.
 * - **Idempotent.** A finished backfill is recorded as such; running it again reads that one item and writes
 *   nothing (`restart` scans again, for a table some older writer kept writing to).
 */
import type { Case } from '../domain.js';
import type { Clock } from '../ports/index.js';
import { StoreError } from '../ports/store-error.js';
import { queryAll, type Condition, type Item, type Key, type Table } from '../ports/table.js';
import { mapLimit } from '../util/map-limit.js';
import { caseIdOf, CASES, migrationKey, toCase, withPollSummary } from './layout.js';

/** The job's name: its progress item's sort key. */
export const POLL_SUMMARY_BACKFILL = 'poll-summaries';

/**
 * Certificate items (a packed certificate, `c`) that have no polling summary. Items from before evidence records
 * (the certificate's fields as attributes, no `c`) are left alone: the planner reads them whole, as it always did.
 */
const WITHOUT_SUMMARY: Condition = {
  and: [
    { attr: 'c', present: true },
    { attr: 'ps', absent: true },
  ],
};

export interface PollBackfillCounts {
  /** Items the Scan examined (what it was billed for: every item of the table, once). */
  readonly itemsScanned: number;
  /** Certificate items found without a polling summary. */
  readonly withoutSummary: number;
  /** Summaries written. */
  readonly summariesWritten: number;
  /** Items a check rewrote between the read and the write: they carry the summary the check wrote. */
  readonly rewrittenMeanwhile: number;
  /** Items with a packed certificate that cannot be summarized (no packed record): the planner reads them whole, as before. */
  readonly notSummarized: number;
}

export interface PollBackfillResult {
  /** 'done': this run finished the backfill; 'already-done': a run before this one had, and nothing was read. */
  readonly outcome: 'done' | 'already-done';
  /** The Scan's segments (kept from the first run: a resumed run must split the table the same way). */
  readonly segments: number;
  /** This run went on from where an earlier one stopped. */
  readonly resumed: boolean;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** What this run did. */
  readonly run: PollBackfillCounts;
  /** What every run since the backfill was started did. */
  readonly total: PollBackfillCounts;
}

export interface PollBackfillOptions {
  readonly clock: Clock;
  /** Scan segments read side by side (first run only). */
  readonly segments?: number;
  /** Items a page examines at most (DynamoDB's Limit; pages are otherwise 1 MB): smaller pages, finer progress. */
  readonly pageItems?: number;
  /** Conditional writes in flight at once per segment. */
  readonly writeConcurrency?: number;
  /** Scan again from the start, even after a finished backfill. */
  readonly restart?: boolean;
  /** Told after each page: this run's counts so far. */
  readonly onProgress?: (run: PollBackfillCounts) => void;
}

export const DEFAULT_SEGMENTS = 4;
/** DynamoDB allows up to 1,000,000 segments; more than a few dozen only adds requests in flight. */
export const MAX_SEGMENTS = 64;

const COUNTERS = ['itemsScanned', 'withoutSummary', 'summariesWritten', 'rewrittenMeanwhile', 'notSummarized'] as const;
type Counter = (typeof COUNTERS)[number];
const DONE = 'done';
/** A segment's position attribute in the progress item. */
const positionOf = (segment: number): string => `segment${segment}`;

const zero = (): Record<Counter, number> => ({
  itemsScanned: 0,
  withoutSummary: 0,
  summariesWritten: 0,
  rewrittenMeanwhile: 0,
  notSummarized: 0,
});
const countsOf = (i: Item): PollBackfillCounts =>
  Object.fromEntries(COUNTERS.map((k) => [k, Number(i[k] ?? 0)])) as unknown as PollBackfillCounts;

/** Gives every certificate item without a polling summary its summary; see the top of this file. */
export async function backfillPollSummaries(table: Table, options: PollBackfillOptions): Promise<PollBackfillResult> {
  const scanPage = table.scanPage?.bind(table);
  if (!scanPage) throw new StoreError(`${table.label} cannot be scanned: the polling summaries' backfill needs DynamoDB`);
  const key = migrationKey(POLL_SUMMARY_BACKFILL);
  const what = "the polling summaries' backfill progress";
  const now = () => options.clock.now().getTime();
  let progress = await table.get(key, what);
  if (progress && progress.finishedAt !== undefined && !options.restart)
    return {
      outcome: 'already-done',
      segments: Number(progress.segmentCount),
      resumed: false,
      startedAt: Number(progress.startedAt),
      finishedAt: Number(progress.finishedAt),
      run: zero(),
      total: countsOf(progress),
    };
  const resumed = progress !== null && !options.restart;
  if (!progress || options.restart) {
    const segments = Math.min(MAX_SEGMENTS, Math.max(1, Math.trunc(options.segments ?? DEFAULT_SEGMENTS)));
    progress = { ...key, segmentCount: segments, startedAt: now(), ...zero() };
    await table.put(progress, what);
  }
  const state = progress;
  const segments = Number(state.segmentCount);
  const startedAt = Number(state.startedAt);
  // Another run that restarted the backfill meanwhile owns the progress item from then on: this one stops.
  const ours: Condition = { attr: 'startedAt', eq: startedAt };

  // A summary's verdicts are worked out with the certificate's case, as a record write does (layout.ts pollSummaryOf).
  const cases = new Map<string, Case>();
  for (const i of await queryAll(table, { pk: CASES }, 'the cases')) cases.set(caseIdOf(i.sk), toCase(i));

  const run = zero();
  const writeConcurrency = Math.max(1, options.writeConcurrency ?? 8);
  const summarize = async (scanned: Item): Promise<Counter> => {
    const itemKey = { pk: String(scanned.pk), sk: String(scanned.sk) };
    const itemWhat = `the polling summary of ${itemKey.sk} in ${itemKey.pk}`;
    let item: Item | null = scanned;
    for (let attempt = 1; ; attempt++) {
      const summarized = withPollSummary(item, cases);
      if (summarized === item) return 'notSummarized';
      const written = await table.updateIf(
        itemKey,
        { set: { ps: summarized.ps } },
        {
          and: [
            { attr: 'pk', present: true },
            { attr: 'ps', absent: true },
            item.rev === undefined ? { attr: 'rev', absent: true } : { attr: 'rev', eq: Number(item.rev) },
          ],
        },
        itemWhat,
      );
      if (written !== null) return 'summariesWritten';
      // The Scan's copy may be older than the item (an eventually consistent read), or a writer without summaries
      // (a function not yet upgraded) moved its revision on: read it again, and summarize what it is now.
      item = await table.get(itemKey, itemWhat);
      if (item === null || item.ps !== undefined || attempt === 3) return 'rewrittenMeanwhile';
    }
  };

  // Once a segment fails, the others stop at their next page: the run ends with the failure, promptly.
  let failed = false;
  const walk = async (segment: number): Promise<void> => {
    const position = state[positionOf(segment)];
    if (position === DONE) return;
    let start: Key | null = typeof position === 'string' ? (JSON.parse(position) as Key) : null;
    while (!failed) {
      const page = await scanPage(
        { segment, segments, start, filter: WITHOUT_SUMMARY, ...(options.pageItems ? { limit: options.pageItems } : {}) },
        'the certificates without polling summaries',
      );
      const counts = zero();
      counts.itemsScanned = page.scanned;
      counts.withoutSummary = page.items.length;
      for (const outcome of await mapLimit(page.items, writeConcurrency, summarize)) counts[outcome]++;
      // The position after the page's writes: a run cut off between the two redoes the page, never skips it.
      const kept = await table.updateIf(
        key,
        { set: { [positionOf(segment)]: page.next ? JSON.stringify(page.next) : DONE }, add: counts },
        ours,
        what,
      );
      if (kept === null) throw new StoreError("the polling summaries' backfill was restarted by another run meanwhile; this one stopped");
      for (const k of COUNTERS) run[k] += counts[k];
      options.onProgress?.({ ...run });
      if (!page.next) return;
      start = page.next;
    }
  };
  await mapLimit(
    Array.from({ length: segments }, (_, i) => i),
    segments,
    (segment) =>
      walk(segment).catch((err: unknown) => {
        failed = true;
        throw err;
      }),
  );

  const finishedAt = now();
  const done = await table.updateIf(key, { set: { finishedAt } }, ours, what, { returnNew: true });
  if (done === null) throw new StoreError("the polling summaries' backfill was restarted by another run meanwhile; this one stopped");
  return { outcome: 'done', segments, resumed, startedAt, finishedAt, run: { ...run }, total: countsOf(done) };
}
