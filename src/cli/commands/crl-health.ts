/** `revwatch crl-health`: each CA owner's open CRL-health findings from the sweeps, with first and last seen. */
import type { Command } from 'commander';
import { parseInstant } from '../../time.js';
import { collect, type CliContext } from '../context.js';

interface CrlHealthCliOptions {
  owner?: string[];
  since?: string;
}

export function registerCrlHealth(program: Command, ctx: CliContext): void {
  program
    .command('crl-health')
    .description("each CA owner's open CRL-health findings from the sweeps, or those seen or resolved since a time")
    .option('--owner <name>', 'only this owner (a part of the name; repeatable)', collect)
    .option('--since <ISO-8601>', 'findings seen or resolved since then, open or not')
    .action((opts: CrlHealthCliOptions) => crlHealth(ctx, opts));
}

async function crlHealth(ctx: CliContext, opts: CrlHealthCliOptions): Promise<void> {
  const since = opts.since ? parseInstant(opts.since, '--since') : null;
  const { SweepStateFile } = await import('../../adapters/local/sweep-state-file.js');
  const { formatHealth, healthReport } = await import('../../sweep/health-report.js');
  const state = await new SweepStateFile(ctx.home()).load();
  const report = healthReport(state, { owners: opts.owner, since });
  ctx.print(report, () => formatHealth(report));
}
