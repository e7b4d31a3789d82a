/** What `revwatch deadline` runs (src/cli/commands/deadline.ts declares its options): pure, no store, no network. */
import { parseInstant } from '../time.js';
import { deadlineReport, formatDeadlineReport, parseKind, parseReason } from '../rules/deadline-report.js';
import { checkNotifiedAt, parseNotifiedBy } from '../rules/programs.js';
import { factsWithRule, parseFixedDateRule } from '../rules/fixed-date.js';
import type { CliContext } from './context.js';
import type { DeadlineOptions } from './commands/deadline.js';

export function deadline(ctx: CliContext, opts: DeadlineOptions): void {
  const rule = parseFixedDateRule(opts.rule);
  const facts = factsWithRule(rule, opts);
  const reportedAt = parseInstant(facts.reportedAt, '--reported-at');
  const kind = parseKind(facts.kind);
  const reason = parseReason(facts.reason, kind);
  const notifiedBy = parseNotifiedBy(opts.notifiedBy);
  const notifiedAt = checkNotifiedAt(opts.notifiedAt ? parseInstant(opts.notifiedAt, '--notified-at') : null, notifiedBy, reportedAt);
  const report = deadlineReport(kind, reason, reportedAt, { notifiedBy, notifiedAt, rule: rule?.id ?? null });
  ctx.print(report, () => formatDeadlineReport(report, reportedAt));
}
