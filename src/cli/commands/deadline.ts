/** `revwatch deadline`: the MUST and SHOULD revocation deadlines of one report (pure; no store, no network). */
import type { Command } from 'commander';
import { NOTIFYING_PARTIES } from '../../rules/programs.js';
import type { CliContext } from '../context.js';

export interface DeadlineOptions {
  reportedAt?: string;
  reason?: string;
  kind?: string;
  notifiedBy?: string;
  notifiedAt?: string;
  rule?: string;
}

export function registerDeadline(program: Command, ctx: CliContext): void {
  program
    .command('deadline')
    .description('print the MUST and SHOULD revocation deadlines for a report, with the rule and its source')
    .option('--reported-at <ISO-8601>', 'when the CA was made aware (the clock start, BR 4.9.5); required unless --rule')
    .option('--reason <slug>', 'why the certificate must be revoked (see docs/rules.md); required unless --rule')
    .option(
      '--kind <kind>',
      "tls-subscriber, tls-subca, smime-subscriber, smime-subca, codesigning-subscriber or codesigning-subca (default: tls-subscriber, or the rule's)",
    )
    .option('--notified-by <party>', `the root program that notified the CA (${NOTIFYING_PARTIES.join(', ')})`)
    .option('--notified-at <ISO-8601>', "when that program's notice came, if after the report: its deadline counts from it")
    .option('--rule <id>', 'a fixed-date rule (sha1-subca-sunset): its date is the deadline')
    .action(async (opts: DeadlineOptions) => (await import('../deadline-run.js')).deadline(ctx, opts));
}
