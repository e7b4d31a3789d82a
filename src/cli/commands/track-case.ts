/** `revwatch track`'s case facts from its options: each checked, one line for the first that is wrong. */
import { requireEmailAddress, requireNotFuture } from '../validate.js';
import { defaultCaseId } from '../../track/track.js';
import type { Case } from '../../domain.js';
import { InputError } from '../../errors.js';
import { parseKind, parseReason } from '../../rules/deadline-report.js';
import { factsWithRule, parseFixedDateRule } from '../../rules/fixed-date.js';
import { checkNotifiedAt, parseNotifiedBy } from '../../rules/programs.js';
import { parseInstant } from '../../time.js';
import type { TrackOptions } from './track.js';

export function caseFromOptions(opts: TrackOptions, now: number): Case {
  const rule = parseFixedDateRule(opts.rule);
  const stated = factsWithRule(rule, opts);
  const instant = (value: string | undefined, flag: string): number | null =>
    value ? requireNotFuture(parseInstant(value, flag), now, flag) : null;
  const reportedAt = requireNotFuture(parseInstant(stated.reportedAt, '--reported-at'), now, '--reported-at');
  const confirmedAt = instant(opts.confirmedAt, '--confirmed-at');
  // "none": the CA sent no preliminary report (BR 4.9.5); a finding once its 24 hours have passed.
  const noPreliminaryReport = opts.preliminaryReportAt?.trim().toLowerCase() === 'none';
  const preliminaryReportAt = noPreliminaryReport ? null : instant(opts.preliminaryReportAt, '--preliminary-report-at');
  if (preliminaryReportAt !== null && preliminaryReportAt < reportedAt)
    throw new InputError('--preliminary-report-at is before --reported-at: a preliminary report answers the problem report');
  const kind = parseKind(stated.kind);
  const reason = parseReason(stated.reason, kind);
  const notifiedBy = parseNotifiedBy(opts.notifiedBy);
  const notifiedAt = checkNotifiedAt(instant(opts.notifiedAt, '--notified-at'), notifiedBy, reportedAt);
  for (const n of opts.notify ?? []) requireEmailAddress(n);
  const title = opts.title ?? (rule ? `${rule.id}: ${rule.selects}` : `${reason} reported ${new Date(reportedAt).toISOString()}`);
  const facts = { reportedAt, reason, kind, title, notifiedBy };
  return {
    id: opts.case ?? defaultCaseId(facts),
    ...facts,
    ...(rule ? { rule: rule.id } : {}),
    ...(notifiedAt !== null ? { notifiedAt } : {}),
    ...(preliminaryReportAt !== null ? { preliminaryReportAt } : {}),
    ...(noPreliminaryReport ? { noPreliminaryReport } : {}),
    confirmedAt,
    reportUrl: opts.reportUrl ?? null,
    notify: opts.notify ?? [],
    delayedReportUrl: opts.delayedReportUrl ?? null,
  };
}
