/** `revwatch check`: poll every tracked certificate's CRLs and OCSP responders, record what changed, send notices. */
import type { Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { DEFAULT_OCSP_INTERVAL_MS, DEFAULT_OCSP_PER_HOST } from '../../check/ocsp-limits.js';
import type { CliContext } from '../context.js';

export interface CheckOptions {
  case?: string;
  ocspPerHost: string;
  ocspIntervalMs: string;
}

export function registerCheck(program: Command, ctx: CliContext): void {
  program
    .command('check')
    .description('poll the CRLs and OCSP responders of every tracked certificate and record what changed')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--ocsp-per-host <n>', 'OCSP requests in flight per responder host', String(DEFAULT_OCSP_PER_HOST))
    .option('--ocsp-interval-ms <ms>', 'minimum milliseconds between two requests to one responder host', String(DEFAULT_OCSP_INTERVAL_MS))
    .action(async (opts: CheckOptions) => (await import('../check-run.js')).check(ctx, opts));
}
