/** What `revwatch sweep` runs (src/cli/commands/sweep.ts declares its options): every disclosed CRL read, indexed and judged. */
import { RevocationIndexFiles } from '../adapters/local/revocation-index-files.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { InputError } from '../errors.js';
import { runSweep, type SweepSummary } from '../sweep/sweep.js';
import type { SweepCliOptions } from './commands/sweep.js';
import { SourceUnreadableError, type CliContext } from './context.js';
import { boundedInteger, oneLine } from './validate.js';

export async function sweep(ctx: CliContext, opts: SweepCliOptions): Promise<void> {
  const perHost = boundedInteger(opts.perHost, '--per-host', 1, 64);
  const parallel = boundedInteger(opts.parallel, '--parallel', 1, 1024);
  const fetcher = await ctx.fetcher();
  let summary: SweepSummary;
  try {
    summary = await ctx.withRuntime(async ({ disclosures, evidenceFiles }) => {
      // The sweep's index and state are local files for now; the AWS layout (S3 objects) is not built yet.
      if (!evidenceFiles) throw new InputError('sweep runs on a local home only in this version (no --aws)');
      if (!(await disclosures.lastImport()))
        throw new InputError('no CCADB disclosures are imported: run `revwatch ccadb import <report>` first');
      // The home's lock is held for the whole sweep: two sweeps of one home would interleave their state.
      return runSweep(
        {
          disclosures,
          fetcher,
          clock: ctx.io.clock,
          // Written behind the sweep's reads, flushed before its state is saved.
          index: new RevocationIndexFiles(ctx.home(), { writeBehind: true }),
          state: new SweepStateFile(ctx.home()),
          evidence: evidenceFiles,
        },
        { owners: opts.owner, cas: opts.ca, perHost, parallel },
      );
    });
  } finally {
    await fetcher.close();
  }
  ctx.print(summary, () => formatSweep(summary));
  if (summary.faults > 0) throw new SourceUnreadableError(`${summary.faults} CRL(s) could not be read or verified`);
}

function formatSweep(s: SweepSummary): string {
  const lines = [
    `sweep ${s.sweep}: ${s.urls} CRL URL(s) in ${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s: ${s.changed} changed, ${s.unchanged} unchanged (${s.notModified} not modified), ${s.faults} fault(s); ${(s.bytesFetched / 1e6).toFixed(1)} MB fetched`,
    `index: ${s.added} entr${s.added === 1 ? 'y' : 'ies'} newly listed, ${s.removed} removed, ${s.claimChanged} claim(s) changed; ${s.recordsWritten} record(s) written`,
    `CRL health: ${s.healthOpened} finding(s) opened, ${s.healthResolved} resolved (revwatch crl-health lists them)`,
  ];
  for (const r of s.results) if (r.fault) lines.push(`  could not use ${oneLine(r.url)}: ${r.fault.kind}: ${oneLine(r.fault.message)}`);
  return lines.join('\n');
}
