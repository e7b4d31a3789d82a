/**
 * Incident-report duties that follow a missed deadline. These are notices,
 * never verdicts: revwatch cannot see whether a CA filed, only whether it
 * was told where the report is. Selected by the time the deadline passed.
 * No text requires filing before the deadline, so nothing here is due earlier.
 */
import type { Verdict } from './verdict.js';

export interface IncidentDuty {
  readonly id: string;
  readonly level: 'MUST' | 'SHOULD';
  /** In force for deadlines that passed from this instant (inclusive)... */
  readonly from: string;
  /** ...until this one (exclusive), or null. */
  readonly until: string | null;
  readonly citation: string;
  readonly source: string;
  readonly duty: string;
}

export const DELAYED_REVOCATION_REPORT_DUTIES: readonly IncidentDuty[] = [
  {
    id: 'ccadb-irg-1',
    level: 'SHOULD',
    from: '2023-02-15T00:00:00Z',
    until: '2025-03-01T00:00:00Z',
    citation: 'CCADB Incident Reporting Guidelines 1.0/2.0',
    source: 'mozilla/www.ccadb.org@66510775 incident_archive/',
    duty: 'the CA should submit an additional, separate incident report for the delayed revocation',
  },
  {
    id: 'ccadb-irg-3',
    level: 'MUST',
    from: '2025-03-01T00:00:00Z',
    until: null,
    citation: 'CCADB Incident Reporting Guidelines 3.0+',
    source: 'mozilla/www.ccadb.org@66510775 cas/incident-report.md',
    duty: 'the CA MUST file a separate delayed-revocation incident report and update it at least every 7 days (SHOULD every 3)',
  },
  {
    id: 'chrome-1.6',
    level: 'MUST',
    from: '2025-02-15T00:00:00Z',
    until: null,
    citation: 'Chrome Root Program Policy 1.6+',
    source: 'GoogleChrome/chromerootprogram@41e424b4 content/index.md',
    duty: 'the CA MUST file a separate delayed-revocation incident report',
  },
];

/** The duties in force when a deadline passed at `deadline`. */
export function delayedReportDuties(deadline: number | null): IncidentDuty[] {
  if (deadline === null) return [];
  return DELAYED_REVOCATION_REPORT_DUTIES.filter(
    (d) => deadline >= Date.parse(d.from) && (d.until === null || deadline < Date.parse(d.until)),
  );
}

/** Verdicts that mean the MUST deadline was missed for that certificate. */
export const MISSED_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>(['overdue', 'expired_overdue', 'revoked_late']);

export function missedCount(certificates: readonly { verdict: Verdict }[]): number {
  return certificates.filter((c) => MISSED_VERDICTS.has(c.verdict)).length;
}

/** One sentence for notices and reports; empty when no duty applied at that deadline. */
export function delayedReportSentence(deadline: number | null, delayedReportUrl: string | null | undefined): string {
  const duties = delayedReportDuties(deadline);
  if (duties.length === 0) return '';
  const strongest = duties.some((d) => d.level === 'MUST') ? 'is required' : 'is expected';
  const cites = duties.map((d) => `${d.citation} (${d.level}, for deadlines from ${d.from.slice(0, 10)}): ${d.duty}`).join('; ');
  const known = delayedReportUrl
    ? `Delayed-revocation report: ${delayedReportUrl}.`
    : 'revwatch does not know of one yet (track the case again with --delayed-report-url).';
  return `A separate delayed-revocation incident report ${strongest}: ${cites}. ${known}`;
}
