/** `revwatch deadline`: the MUST and SHOULD revocation deadlines of one report (pure; no store, no network). */
import type { Command } from 'commander';
import { NOTIFYING_PARTIES } from '../rules/programs.js';
import type { CliContext } from './context.js';

export function registerDeadline(program: Command, ctx: CliContext): void {
  program
    .command('deadline')
    .description('print the MUST and SHOULD revocation deadlines for a report, with the rule and its source')
    .requiredOption('--reported-at <ISO-8601>', 'when the CA was made aware (the clock start, BR 4.9.5)')
    .requiredOption('--reason <slug>', 'why the certificate must be revoked (see docs/rules.md)')
    .option(
      '--kind <kind>',
      'tls-subscriber, tls-subca, smime-subscriber, smime-subca, codesigning-subscriber or codesigning-subca',
      'tls-subscriber',
    )
    .option('--notified-by <party>', `the root program that notified the CA (${NOTIFYING_PARTIES.join(', ')})`)
    .action(async (opts: { reportedAt: string; reason: string; kind: string; notifiedBy?: string }) => {
      const { parseInstant } = await import('../time.js');
      const { deadlineReport, formatDeadlineReport, parseKind, parseReason } = await import('../rules/deadline-report.js');
      const { parseNotifiedBy } = await import('../rules/programs.js');
      const reportedAt = parseInstant(opts.reportedAt, '--reported-at');
      const kind = parseKind(opts.kind);
      const reason = parseReason(opts.reason, kind);
      const report = deadlineReport(kind, reason, reportedAt, { notifiedBy: parseNotifiedBy(opts.notifiedBy) });
      ctx.print(report, () => formatDeadlineReport(report, reportedAt));
    });
}
