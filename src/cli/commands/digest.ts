/** `revwatch digest`: the per-CA digest for the policy forum. */
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';

export interface DigestOptions {
  since?: string;
  send?: boolean;
  format: 'text' | 'markdown';
}

export function registerDigest(program: Command, ctx: CliContext): void {
  program
    .command('digest')
    .description('a digest for the policy forum: per CA, open cases, revoked on time and late, overdue, new findings')
    .option('--since <ISO-8601>', 'count findings as new since this time (default: the last delivered digest, or a week ago)')
    .option(
      '--send',
      'this digest is delivered (you post the printed text; nothing is emailed): record it, so the next digest counts new findings from here',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown']).default('text'))
    .action(async (opts: DigestOptions) => (await import('../digest-run.js')).digest(ctx, opts));
}
