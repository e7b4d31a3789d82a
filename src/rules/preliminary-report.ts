/**
 * The preliminary report (BR 4.9.5, from BR 1.6.1, Ballot SC6, 2018-10-14):
 * "Within 24 hours after receiving a Certificate Problem Report, the CA SHALL
 * investigate the facts and circumstances related to a Certificate Problem
 * Report and provide a preliminary report on its findings to both the
 * Subscriber and the entity who filed the Certificate Problem Report."
 *
 * Given (`track --preliminary-report-at`), a report later than 24 hours is a
 * violation; `--preliminary-report-at none` says the CA sent none, which is the
 * same violation once the 24 hours have passed. Not given, nothing is said:
 * revwatch cannot tell whether one was sent, nor whether the case began with a
 * Certificate Problem Report at all (a CA may find a problem itself), and an
 * info finding on every case would carry the same doubt everywhere. The 4.9.5
 * duty applies to every Certificate Problem Report, so the statement that none
 * came is the user's to make (Sectigo bug 1994454: reports unanswered from
 * 2025-09-18 to 2025-10-13).
 */
import type { Case, CertKind } from '../domain.js';
import { iso } from '../time.js';
import type { Finding } from './verdict.js';

const HOUR = 3_600_000;

export const PRELIMINARY_REPORT = {
  hours: 24,
  from: Date.parse('2018-10-14T00:00:00Z'),
  kinds: new Set<CertKind>(['tls-subscriber', 'tls-subca']),
  citation: 'BR 4.9.5 (from BR 1.6.1)',
} as const;

export function preliminaryReportFinding(kase: Case, now: number): Finding | null {
  // A fixed-date rule (fixed-date.ts) has no problem report behind it.
  if (!PRELIMINARY_REPORT.kinds.has(kase.kind) || kase.reportedAt < PRELIMINARY_REPORT.from || kase.rule) return null;
  const due = kase.reportedAt + PRELIMINARY_REPORT.hours * HOUR;
  const text = `${PRELIMINARY_REPORT.citation}: "Within 24 hours after receiving a Certificate Problem Report, the CA SHALL investigate … and provide a preliminary report"`;
  if (kase.noPreliminaryReport === true) {
    if (now <= due) return null;
    return {
      code: 'preliminary_report_late',
      severity: 'violation',
      message: `no preliminary report was sent (track --preliminary-report-at none), and it was due by ${iso(due)} (${text})`,
    };
  }
  if (kase.preliminaryReportAt == null || kase.preliminaryReportAt <= due) return null;
  return {
    code: 'preliminary_report_late',
    severity: 'violation',
    message: `the preliminary report came at ${iso(kase.preliminaryReportAt)}, after ${iso(due)} (${text})`,
  };
}
