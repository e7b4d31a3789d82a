/**
 * Incident-report duties that follow a missed deadline. These are notices,
 * never verdicts: revwatch cannot see whether a CA filed, only whether it
 * was told where the report is. Selected by the time the deadline passed.
 *
 * Some are due before the deadline too: the CCADB Incident Reporting
 * Guidelines ask for the separate report when the deadline "will not be or
 * has not been met", within 72 hours of the CA becoming aware. revwatch
 * cannot know when a CA knew, so it does not accuse; while certificates are
 * still pending in the last 24 hours it says the report may already be due.
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

const HOUR = 3_600_000;
/** How long before the deadline revwatch starts saying the report may already be due. */
export const REPORT_MAY_BE_DUE_WITHIN_MS = 24 * HOUR;

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
    id: 'chrome-1.4',
    level: 'SHOULD',
    from: '2023-03-03T00:00:00Z',
    until: '2025-02-15T00:00:00Z',
    citation: 'Chrome Root Program Policy 1.4/1.5',
    source: 'GoogleChrome/chromerootprogram@41e424b4 content/policy-archive/',
    duty: 'the CA should file a separate delayed-revocation incident report',
  },
  {
    id: 'ccadb-irg-3',
    level: 'MUST',
    from: '2025-03-01T00:00:00Z',
    until: null,
    citation: 'CCADB Incident Reporting Guidelines 3.0+',
    source: 'mozilla/www.ccadb.org@66510775 cas/incident-report.md',
    duty: 'the CA MUST file a separate delayed-revocation incident report (when the deadline "will not be or has not been met", within 72 hours) and update it at least every 7 days (SHOULD every 3)',
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
  {
    id: 'mrsp-3.0',
    level: 'MUST',
    from: '2025-03-15T00:00:00Z',
    until: null,
    citation: 'MRSP 3.0+ section 6.1.3',
    source: 'mozilla/pkipolicy@3b7d84f5 rootstore/policy.md (MRSP 3.0)',
    duty: 'the CCADB Incident Reporting Guidelines MUST be followed, and the delayed revocation MUST be listed as a finding in the next TLS BR audit statement',
  },
  {
    id: 'microsoft-2.1.18',
    level: 'MUST',
    from: '2026-05-20T00:00:00Z',
    until: null,
    citation: 'Microsoft Trusted Root Program Requirements v1.2 2.1.18',
    source: 'TrustedRootProgram/Program-Requirements@4425856 (Requirements v1.2)',
    duty: 'incident reports, the delayed-revocation report included, follow the CCADB format and timelines',
  },
];

/** The duties in force when a deadline passed at `deadline`. */
/**
 * The duties whose text asks for the report once the deadline "will not be" met, not only after it passed:
 * the CCADB guidelines, and MRSP 3.0, which makes them a MUST. (A set beside the table, not a field of it:
 * reports print the duties as they are, per docs/schemas/report.schema.json.)
 */
export const DUE_BEFORE_DEADLINE: ReadonlySet<string> = new Set(['ccadb-irg-1', 'ccadb-irg-3', 'mrsp-3.0']);

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

/**
 * For certificates still pending in the last 24 hours before the deadline: the duties that ask for the
 * report once the deadline "will not be" met may already be due. Empty when none applies at that deadline.
 */
export function delayedReportMayBeDueSentence(deadline: number | null, now: number, pending: number): string {
  if (deadline === null || pending === 0 || now >= deadline || now < deadline - REPORT_MAY_BE_DUE_WITHIN_MS) return '';
  const early = delayedReportDuties(deadline).filter((d) => DUE_BEFORE_DEADLINE.has(d.id));
  if (early.length === 0) return '';
  const cites = early.map((d) => `${d.citation} (${d.level})`).join('; ');
  return `If the deadline will not be met, the separate delayed-revocation incident report may already be due: ${cites} ask for it when the deadline "will not be or has not been met", within 72 hours of the CA knowing.`;
}
