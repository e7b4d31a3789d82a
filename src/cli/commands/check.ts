/** `revwatch check`: poll every tracked certificate's CRLs and OCSP responders, record what changed, send notices. */
import type { Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { DEFAULT_OCSP_INTERVAL_MS, DEFAULT_OCSP_PER_HOST } from '../../check/ocsp-limits.js';
import { collect, type CliContext } from '../context.js';

export interface CheckOptions {
  case?: string;
  ocspPerHost: string;
  ocspIntervalMs: string;
  sweep?: boolean;
  sweepWindow: string;
  owner?: string[];
  ca?: string[];
}

export function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('poll the CRLs and OCSP responders of every tracked certificate and record what changed')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--ocsp-per-host <n>', 'OCSP requests in flight per responder host', String(DEFAULT_OCSP_PER_HOST))
    .option('--ocsp-interval-ms <ms>', 'minimum milliseconds between two requests to one responder host', String(DEFAULT_OCSP_INTERVAL_MS))
    .option('--sweep', 'sweep every disclosed CRL first (as `revwatch sweep`), then check, taking the CRLs the sweep read')
    .option(
      '--sweep-window <minutes>',
      "take a sweep's reading of a CRL read at most this many minutes ago instead of fetching it (0: never)",
      '15',
    )
    .option('--owner <name>', 'with --sweep: only sweep CAs of this owner (repeatable)', collect)
    .option('--ca <sha256|name>', 'with --sweep: only sweep this CA certificate (repeatable)', collect)
    .action(async (opts: CheckOptions) => (await import('../check-run.js')).check(ctx, opts));
}
