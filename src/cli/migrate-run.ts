/** What `revwatch migrate poll-index` runs (src/cli/commands/migrate.ts declares its options). */
import { backfillPollSummaries, type PollBackfillCounts, type PollBackfillResult } from '../store/poll-backfill.js';
import type { CliContext } from './context.js';
import type { MigratePollIndexOptions } from './commands/migrate.js';

/** Progress on stderr at most this often (wall time: how long the operator waits). */
const PROGRESS_EVERY_MS = 10_000;

export async function migratePollIndex(ctx: CliContext, opts: MigratePollIndexOptions): Promise<void> {
  let shown = Date.now();
  const result = await ctx.withRuntime(async (runtime) => {
    if (!runtime.table) throw new Error('the runtime opened no table');
    return backfillPollSummaries(runtime.table, {
      clock: ctx.io.clock,
      segments: opts.segments,
      pageItems: opts.pageItems,
      restart: opts.restart === true,
      onProgress: (run) => {
        if (ctx.globals().json || Date.now() - shown < PROGRESS_EVERY_MS) return;
        shown = Date.now();
        ctx.io.stderr(`revwatch: migrate poll-index: ${countsLine(run)} so far\n`);
      },
    });
  });
  const json = { ...result, startedAt: new Date(result.startedAt).toISOString(), finishedAt: new Date(result.finishedAt).toISOString() };
  ctx.print(json, () => formatBackfill(result));
}

const countsLine = (c: PollBackfillCounts): string =>
  `${c.itemsScanned} items scanned, ${c.withoutSummary} certificates without a polling summary, ${c.summariesWritten} summaries written, ` +
  `${c.rewrittenMeanwhile} rewritten by a check meanwhile, ${c.notSummarized} not summarized`;

export function formatBackfill(r: PollBackfillResult): string {
  const at = (ms: number) => new Date(ms).toISOString();
  if (r.outcome === 'already-done')
    return [
      `The polling summaries' backfill finished at ${at(r.finishedAt)}; nothing to do (--restart scans again).`,
      `All runs: ${countsLine(r.total)}.`,
    ].join('\n');
  return [
    `Polling summaries' backfill done (${r.segments} segments${r.resumed ? ', resumed from an earlier run' : ''}).`,
    `This run: ${countsLine(r.run)}.`,
    ...(r.resumed ? [`All runs since ${at(r.startedAt)}: ${countsLine(r.total)}.`] : []),
  ].join('\n');
}
