/** `revwatch lookup <serial…|files>`: what the revocation index built by `sweep` knows of serials. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export interface LookupCliOptions {
  issuer?: string;
}

export function registerLookup(program: Command, ctx: CliContext): void {
  program
    .command('lookup <inputs...>')
    .description('look serials up in the revocation index (serials in hex, certificate files, or files of serials one a line)')
    .option('--issuer <ca.pem|sha256>', 'only under this CA (its certificate, or its SHA-256)')
    .action(async (inputs: string[], opts: LookupCliOptions) => (await import('../lookup-run.js')).lookup(ctx, inputs, opts));
}
