/** `revwatch deadline`: the MUST and SHOULD revocation deadlines of one report (pure; no store, no network). */
import type { Command } from 'commander';
import { NOTIFYING_PARTIES } from '../../rules/programs.js';
import type { CliContext } from '../context.js';

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
    .action(
      async (opts: { reportedAt?: string; reason?: string; kind?: string; notifiedBy?: string; notifiedAt?: string; rule?: string }) => {
        const { parseInstant } = await import('../../time.js');
        const { deadlineReport, formatDeadlineReport, parseKind, parseReason } = await import('../../rules/deadline-report.js');
        const { checkNotifiedAt, parseNotifiedBy } = await import('../../rules/programs.js');
        const { factsWithRule, parseFixedDateRule } = await import('../../rules/fixed-date.js');
        const rule = parseFixedDateRule(opts.rule);
        const facts = factsWithRule(rule, opts);
        const reportedAt = parseInstant(facts.reportedAt, '--reported-at');
        const kind = parseKind(facts.kind);
        const reason = parseReason(facts.reason, kind);
        const notifiedBy = parseNotifiedBy(opts.notifiedBy);
        const notifiedAt = checkNotifiedAt(opts.notifiedAt ? parseInstant(opts.notifiedAt, '--notified-at') : null, notifiedBy, reportedAt);
        const report = deadlineReport(kind, reason, reportedAt, { notifiedBy, notifiedAt, rule: rule?.id ?? null });
        ctx.print(report, () => formatDeadlineReport(report, reportedAt));
      },
    );
}
