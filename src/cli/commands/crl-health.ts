/** `revwatch crl-health`: each CA owner's open CRL-health findings from the sweeps, with first and last seen. */
import type { Command } from 'commander';
import { collect, type CliContext } from '../context.js';

export interface CrlHealthCliOptions {
  owner?: string[];
  since?: string;
}

export function registerCrlHealth(program: Command, ctx: CliContext): void {
  program
    .command('crl-health')
    .description("each CA owner's open CRL-health findings from the sweeps, or those seen or resolved since a time")
    .option('--owner <name>', 'only this owner (a part of the name; repeatable)', collect)
    .option('--since <ISO-8601>', 'findings seen or resolved since then, open or not')
    .action(async (opts: CrlHealthCliOptions) => (await import('../crl-health-run.js')).crlHealth(ctx, opts));
}
