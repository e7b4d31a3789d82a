/** `revwatch sweep`: read every CRL the imported CCADB disclosures name, index what changed, judge their health. */
import type { Command } from 'commander';
import { collect, type CliContext } from '../context.js';

export interface SweepCliOptions {
  owner?: string[];
  ca?: string[];
  perHost: string;
  parallel: string;
}

export function registerSweep(program: Command, ctx: CliContext): void {
  program
    .command('sweep')
    .description('read every CRL of the imported CCADB disclosures once: index new and removed revocations, judge CRL health')
    .option('--owner <name>', 'only CAs of this owner (a part of the name; repeatable)', collect)
    .option('--ca <sha256|name>', 'only this CA certificate (SHA-256, or a part of its name; repeatable)', collect)
    .option('--per-host <n>', 'CRL fetches in flight per host', '4')
    .option('--parallel <n>', 'CRL fetches in flight in all', '64')
    .action(async (opts: SweepCliOptions) => (await import('../sweep-run.js')).sweep(ctx, opts));
}
