/** `revwatch sweep`: read every CRL the imported CCADB disclosures name, index what changed, judge their health. */
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import type { SweepSummary } from '../../sweep/sweep.js';
import { SourceUnreadableError, collect, type CliContext } from '../context.js';
import { oneLine } from '../validate.js';

interface SweepCliOptions {
  owner?: string[];
  ca?: string[];
  perHost: string;
  parallel: string;
}

/** A whole number in [min, max] from a flag, or one clear line. */
export function boundedInteger(text: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InputError(`${option} must be a whole number from ${min} to ${max}, not "${oneLine(text)}"`);
  return n;
}

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description('read every CRL of the imported CCADB disclosures once: index new and removed revocations, judge CRL health')
    .option('--owner <name>', 'only CAs of this owner (a part of the name; repeatable)', collect)
    .option('--ca <sha256|name>', 'only this CA certificate (SHA-256, or a part of its name; repeatable)', collect)
    .option('--per-host <n>', 'CRL fetches in flight per host', '4')
    .option('--parallel <n>', 'CRL fetches in flight in all', '64')
    .action((opts: SweepCliOptions) => sweep(ctx, opts));
}

async function sweep(ctx: CliContext, opts: SweepCliOptions): Promise<void> {
  const perHost = boundedInteger(opts.perHost, '--per-host', 1, 64);
  const parallel = boundedInteger(opts.parallel, '--parallel', 1, 1024);
  const { runSweep } = await import('../../sweep/sweep.js');
  const { RevocationIndexFiles } = await import('../../adapters/local/revocation-index-files.js');
  const { SweepStateFile } = await import('../../adapters/local/sweep-state-file.js');
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
          index: new RevocationIndexFiles(ctx.home()),
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
