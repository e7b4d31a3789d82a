/**
 * The case report as text: Markdown in the shape of the CCADB Incident
 * Reporting Guidelines (the sections an outside observer can fill: Summary,
 * Impact, Timeline, and a per-certificate Appendix), CSV per certificate with
 * the same fields as the appendix, and JSON. The HTML page and the evidence
 * bundle live in html.ts and bundle.ts.
 */
import { APPENDIX_VALIDITY_NOTE, type CaseStatus } from '../status/status.js';
import { countVerdicts, VERDICT_REPORT_ORDER, type Verdict } from '../rules/verdict.js';
import { formatDuration } from '../time.js';
import { crtshUrl, subjectCommonName } from './certificate-details.js';
import type { CaseReport, ReportCertificate } from './case-report.js';

/** How many SANs the Markdown appendix shows per certificate; CSV and JSON carry all of them. */
export const MARKDOWN_SAN_LIMIT = 3;

export const mdCell = (s: string): string =>
  s
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');

/** A certificate as the JSON report lists it: its lateness in words beside the seconds. */
export const jsonCertificate = (c: ReportCertificate): ReportCertificate & { lateBy: string | null } => ({
  ...c,
  lateBy: c.lateBySeconds === null ? null : formatDuration(c.lateBySeconds),
});

export function toJson(r: CaseReport): string {
  const { issuers, certificateDers, ...rest } = r;
  return JSON.stringify(
    {
      ...rest,
      certificates: rest.certificates.map(jsonCertificate),
      issuers: issuers.map((i) => ({ sha256: i.sha256, der: Buffer.from(i.der).toString('base64') })),
    },
    null,
    2,
  );
}

/**
 * A text cell that starts with =, +, -, @, a tab or a CR is a formula to a
 * spreadsheet (a certificate CN of `=HYPERLINK(...)` would run as one): it is
 * neutralised with a leading ' and quoted (OWASP, CSV Injection). Numbers are
 * written as they are, so a negative count stays a number.
 */
export function csvCell(v: string | number | boolean | null): string {
  const text = v === null ? '' : String(v);
  const formula = typeof v === 'string' && /^[=+\-@\t\r]/.test(text);
  const s = formula ? `'${text}` : text;
  return formula || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The appendix fields, one column each; `sans` is space-separated (DNS names hold no spaces). */
export const CSV_COLUMNS: readonly { name: string; value: (c: ReportCertificate) => string | number | boolean | null }[] = [
  { name: 'sha256', value: (c) => c.sha256 },
  { name: 'crtsh', value: (c) => c.crtshUrl },
  { name: 'serial', value: (c) => c.serial },
  { name: 'subject_cn', value: (c) => c.subjectCN },
  { name: 'sans', value: (c) => c.sans.join(' ') },
  { name: 'not_before', value: (c) => c.notBefore },
  { name: 'not_after', value: (c) => c.notAfter },
  { name: 'issuer', value: (c) => c.issuer },
  { name: 'is_revoked', value: (c) => c.revocationTime !== null },
  { name: 'claimed_revocation_date', value: (c) => c.revocationTime },
  { name: 'revocation_reason', value: (c) => c.reasonCode },
  { name: 'effective_revocation_date', value: (c) => c.effectiveRevocationTime },
  { name: 'first_seen_revoked', value: (c) => c.firstSeenRevokedAt },
  { name: 'last_seen_good', value: (c) => c.lastSeenGoodAt },
  { name: 'deadline', value: (c) => c.deadline },
  { name: 'verdict', value: (c) => c.verdict },
  { name: 'late_by_seconds', value: (c) => c.lateBySeconds },
  { name: 'late_by', value: (c) => (c.lateBySeconds === null ? null : formatDuration(c.lateBySeconds)) },
  { name: 'report_to_revocation_seconds', value: (c) => c.reportToRevocationSeconds },
  // Last, so the columns before it keep their places: 'appendix' when the validity is the CA's appendix's.
  { name: 'validity_from', value: (c) => c.validityFrom ?? 'certificate' },
];

export const CSV_HEADER: readonly string[] = CSV_COLUMNS.map((c) => c.name);

/** One certificate's CSV row, without its line end. */
export const csvRow = (c: ReportCertificate): string => CSV_COLUMNS.map((col) => csvCell(col.value(c))).join(',');

export function toCsv(r: Pick<CaseReport, 'certificates'>): string {
  const rows = r.certificates.map(csvRow);
  return `${[CSV_HEADER.join(','), ...rows].join('\r\n')}\r\n`;
}

/** The CSV of a status alone (notice emails): no DER at hand, so no SANs; every other field as in the report. */
export function statusCsv(status: CaseStatus): string {
  const reportedAt = Date.parse(status.reportedAt);
  return toCsv({
    certificates: status.certificates.map((c) => ({
      ...c,
      crtshUrl: crtshUrl(c),
      issuerSha256: '',
      subjectCN: subjectCommonName(c.subject),
      sans: [],
      reportToRevocationSeconds:
        c.effectiveRevocationTime === null ? null : Math.floor((Date.parse(c.effectiveRevocationTime) - reportedAt) / 1000),
      observations: [],
    })),
  });
}

function sansCell(sans: readonly string[]): string {
  if (sans.length <= MARKDOWN_SAN_LIMIT) return sans.join(', ');
  return `${sans.slice(0, MARKDOWN_SAN_LIMIT).join(', ')} (+${sans.length - MARKDOWN_SAN_LIMIT} more)`;
}

/** The appendix columns, in order; the parse-back test reads rows by these names. */
export const APPENDIX_COLUMNS = [
  'crt.sh',
  'serial',
  'subject CN',
  'SANs',
  'notBefore',
  'notAfter',
  'claimed revocation',
  'reason',
  'first seen revoked',
  'last seen good',
  'verdict',
  'late by',
] as const;

export function appendixRow(x: ReportCertificate): string[] {
  const link = x.crtshUrl.includes('?id=')
    ? `[${x.crtshUrl.slice(x.crtshUrl.indexOf('?id=') + 4)}](${x.crtshUrl})`
    : `[search](${x.crtshUrl})`;
  return [
    link,
    x.serial,
    x.subjectCN ?? '',
    sansCell(x.sans),
    x.notBefore,
    x.notAfter,
    x.revocationTime ?? '',
    x.reasonCode ?? '',
    // An answer from the sweep's index predates tracking: said where it came from (docs/evidence.md).
    x.firstSeenRevokedBySweep
      ? `${x.firstSeenRevokedAt ?? ''} (sweep ${x.firstSeenRevokedBySweep.sweep}, from the sweep index)`
      : (x.firstSeenRevokedAt ?? ''),
    x.lastSeenGoodAt ?? '',
    x.validityFrom === 'appendix' ? `${x.verdict} (${APPENDIX_VALIDITY_NOTE})` : x.verdict,
    x.lateBySeconds === null ? '' : formatDuration(x.lateBySeconds),
  ].map(mdCell);
}

const DAY_MS = 86_400_000;

/**
 * The update a delayed-revocation report carries: CCADB Incident Reporting Guidelines, "Report lifecycle
 * management", "When are reports updated?": reports with the revocation-delay whiteboard SHOULD be updated every
 * 3 days and MUST be at least every 7, with the number of certificates revoked, not yet revoked, and planned for
 * revocation that have expired. Shown once a deadline was missed; the next update is counted from this report
 * (revwatch cannot see when the CA last posted one). The CA's estimate of completion is the CA's to give.
 */
export function delayedRevocationUpdate(r: Pick<CaseReport, 'counts' | 'generatedAt' | 'incidentDuties'>): string[] {
  if (r.incidentDuties.missed === 0) return [];
  const at = Date.parse(r.generatedAt);
  const day = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const c = r.counts;
  return [
    '### Delayed-revocation update',
    '',
    `As of ${r.generatedAt} (CCADB Incident Reporting Guidelines, "When are reports updated?": every 3 days, at least every 7):`,
    '',
    `- Revoked: ${c.revoked}`,
    `- Not yet revoked: ${c.notYetRevoked}`,
    `- Planned for revocation and expired: ${c.expired}`,
    `- Next update expected by ${day(at + 3 * DAY_MS)} (SHOULD, 3 days), and no later than ${day(at + 7 * DAY_MS)} (MUST, 7 days)`,
    '',
  ];
}

export function toMarkdown(r: CaseReport): string {
  const out = markdownBeforeAppendix(r, countVerdicts(r.certificates));
  for (const x of r.certificates) out.push(appendixLine(x));
  out.push(...markdownFindingsHead());
  if (r.findings.length === 0) out.push('None.');
  for (const f of r.findings) out.push(findingLine(f));
  out.push(...markdownAfterFindings(r));
  return `${out.join('\n')}\n`;
}

/** The appendix's line for one certificate. */
export const appendixLine = (x: ReportCertificate): string => `| ${appendixRow(x).join(' | ')} |`;

/** The Findings section's line for one finding. */
export const findingLine = (f: CaseReport['findings'][number]): string =>
  `- **${f.finding.severity}** \`${f.finding.code}\` (serial ${f.serial}): ${mdCell(f.finding.message)}`;

export const markdownFindingsHead = (): string[] => ['', '### Findings', ''];

/**
 * The Markdown report up to the appendix's rows (its header included), one line each: what a streamed report
 * (report/stream-report.ts) writes once every certificate is counted, before the rows it spooled.
 */
export function markdownBeforeAppendix(r: CaseReport, counts: Readonly<Record<Verdict, number>>): string[] {
  const c = r.counts;
  const out: string[] = [];
  out.push(`## Incident report: ${mdCell(r.case.title)}`, '');
  out.push(
    `Written by revwatch at ${r.generatedAt} from the signed CRLs and OCSP responses it collected.${r.case.reportUrl ? ` Incident: ${r.case.reportUrl}` : ''}`,
    '',
  );

  out.push('### Summary', '');
  out.push('| | |', '|---|---|');
  out.push(
    `| Certificates | ${c.total} |`,
    `| Revoked | ${c.revoked} (${c.revokedOnTime} on time, ${c.revokedLate} late) |`,
    `| Not yet revoked | ${c.notYetRevoked} (${c.overdue} overdue) |`,
    `| Expired | ${c.expired} |`,
  );
  out.push(`| Reported to the CA | ${r.case.reportedAt} |`);
  if (r.case.notifiedBy) out.push(`| Notified by | ${mdCell(r.case.notifiedBy)} |`);
  if (r.case.confirmedAt) out.push(`| Confirmed by the CA | ${r.case.confirmedAt} |`);
  out.push(`| Reason | ${r.case.reason} (${r.case.kind}) |`);
  out.push(
    `| MUST deadline | ${r.deadline ?? 'none: no rule applied'}${r.rule.interpretation ? ` (${r.rule.interpretation} interpretation, see the note)` : ''} |`,
  );
  if (r.shouldDeadline) out.push(`| SHOULD deadline | ${r.shouldDeadline} |`);
  if (r.case.delayedReportUrl) out.push(`| Delayed-revocation report | ${mdCell(r.case.delayedReportUrl)} |`);
  const hoursText = [
    r.rule.mustHours === null ? null : `MUST within ${r.rule.mustHours} hours`,
    r.rule.shouldHours === null ? null : `SHOULD within ${r.rule.shouldHours} hours`,
  ]
    .filter(Boolean)
    .join(', ');
  out.push(
    `| Rule | ${r.rule.id}: ${r.rule.section}, version ${r.rule.version}${hoursText ? ` (${hoursText})` : ''}; source ${mdCell(r.rule.source)} |`,
    '',
  );
  out.push('| verdict | certificates |', '|---|---|');
  for (const v of VERDICT_REPORT_ORDER) if (counts[v] > 0) out.push(`| ${v} | ${counts[v]} |`);
  out.push('');
  if (r.rule.note) out.push(`Interpretation note: ${r.rule.note}`, '');
  out.push(
    'Revocation times are those the CA claims in its signed answers; revwatch cannot know when a revocation was published, only when it first saw it. A claimed time found to be backdated is replaced by the time first seen revoked (see Findings).',
    '',
  );
  if (r.incidentDuties.statement)
    out.push(
      '### Incident-report duties',
      '',
      `The MUST deadline was missed for ${r.incidentDuties.missed} certificate(s). ${r.incidentDuties.statement}`,
      '',
    );

  out.push(...delayedRevocationUpdate(r));

  out.push('### Impact', '');
  out.push(
    `${r.impact.certificates} certificate(s)${r.impact.earliestNotBefore ? `, valid from ${r.impact.earliestNotBefore} (earliest notBefore) to ${r.impact.latestNotAfter} (latest notAfter)` : ''}.`,
    '',
  );
  out.push('| issuer | certificates |', '|---|---|');
  for (const i of r.impact.issuers) out.push(`| ${mdCell(i.name)} | ${i.certificates} |`);
  out.push('');

  out.push('### Timeline (UTC)', '');
  for (const t of r.timeline) out.push(`- ${t.at}: ${t.event}`);

  out.push('', '### Appendix: certificates', '');
  out.push(`| ${APPENDIX_COLUMNS.join(' | ')} |`, `|${APPENDIX_COLUMNS.map(() => '---').join('|')}|`);
  return out;
}

/** The Markdown report after its findings, one line each. */
export function markdownAfterFindings(r: Pick<CaseReport, 'case'>): string[] {
  const out: string[] = [];
  out.push('', '### Verifying the evidence', '');
  out.push('Every answer above was signed by the CA. Export the evidence and check every file with openssl:', '');
  out.push(
    '```sh',
    `revwatch report --case ${r.case.id} --format bundle --out evidence/`,
    'cd evidence && sh verify.sh',
    '# or one file at a time; README.md in the bundle gives the exact command for each file:',
  );
  out.push(
    'openssl ocsp -respin ocsp/<serial>-<time>.der -issuer certs/issuer-<sha256>.pem -VAfile <the certificate that signed it> -resp_text',
  );
  out.push('openssl crl -inform DER -in crls/<sha256>.crl -CAfile certs/issuer-<sha256>.pem -noout', '```');
  return out;
}
