/**
 * The policy-forum digest: per CA, the open cases, certificates revoked on
 * time and late, those overdue with the worst delay, and findings that are new
 * since the previous digest, as plain text a person can paste into the
 * dev-security-policy forum (or Markdown); and, once a sweep has run, the CRL
 * health findings opened and resolved since then (digest-crl-health.ts).
 */
import { buildStatus, statusRulesOf, type JudgingInputs } from '../status/status.js';
import { computeDeadline } from '../rules/rules.js';
import { delayedReportDuties, MISSED_VERDICTS, missedCount } from '../rules/incident-duties.js';
import { formatDuration, isoOrNull } from '../time.js';
import type { CaseStore, ObservationStore, RunStore } from '../ports/store.js';
import type { SweepStateStore } from '../ports/revocation-index.js';
import { digestCrlHealth, formatCrlHealthSection, type DigestCrlHealth } from './digest-crl-health.js';

export interface DigestCa {
  readonly ca: string;
  readonly openCases: { id: string; title: string; reportedAt: string; deadline: string | null; notYetRevoked: number }[];
  readonly revokedOnTime: number;
  readonly revokedLate: number;
  readonly overdue: number;
  readonly worstDelay: { serial: string; caseId: string; seconds: number } | null;
  readonly newFindings: { caseId: string; serial: string; sha256: string; severity: string; code: string; message: string }[];
}

/** A case whose MUST deadline was missed and whose delayed-revocation report revwatch does not know (CCADB IRG 3.0+). */
export interface MissingDelayedReport {
  readonly caseId: string;
  readonly title: string;
  readonly deadline: string | null;
  readonly missed: number;
  readonly reportUrl: string | null;
  readonly duties: string[];
}

export interface Digest {
  readonly generatedAt: string;
  readonly since: string;
  readonly cas: DigestCa[];
  readonly missingDelayedReports: MissingDelayedReport[];
  /** The CRL-health findings opened and resolved since `since`; null when no sweep has run. */
  readonly crlHealth: DigestCrlHealth | null;
}

/**
 * Builds the digest and hands it over (printed, or mailed). Only a delivery
 * (`recordDelivery`: `digest --send`, the weekly function) is recorded, and
 * only after it succeeded, so the next digest counts findings as new from
 * here; looking at a digest changes nothing, and a digest that could not be
 * delivered leaves nothing out of the next. Without `since`, findings are new
 * since the last delivered digest (or the past week, before the first).
 */
export async function produceDigest(
  store: CaseStore & ObservationStore & RunStore,
  now: number,
  since: number | undefined,
  deliver: (digest: Digest) => Promise<void>,
  options: {
    readonly recordDelivery: boolean;
    /** Where the sweep keeps its CRL-health findings; absent or null: no sweep has run here. */
    readonly sweepState?: SweepStateStore | null;
  } & JudgingInputs,
): Promise<Digest> {
  const from = since ?? (await store.lastDigestAt()) ?? now - 7 * 86_400_000;
  // Without --since, "new" is exact: not reported by any earlier delivered digest.
  const reported = since === undefined ? await store.digestedFindings() : undefined;
  const health = digestCrlHealth(options.sweepState ? await options.sweepState.load() : null, from, reported);
  const digest = await buildDigest(store, now, from, options, reported, health.section);
  await deliver(digest);
  if (options.recordDelivery)
    await store.recordDigest(now, [...digest.cas.flatMap((ca) => ca.newFindings.map(findingKey)), ...health.keys]);
  return digest;
}

const findingKey = (f: { caseId: string; sha256: string; code: string }): string => `${f.caseId}#${f.sha256}#${f.code}`;

/**
 * `reported`: findings earlier digests carried; those are not new. Without it,
 * a finding is new when its certificate has an answer recorded after `since`.
 */
export async function buildDigest(
  store: CaseStore & ObservationStore & RunStore,
  now: number,
  since: number,
  judging: JudgingInputs,
  reported?: ReadonlySet<string>,
  crlHealth: DigestCrlHealth | null = null,
): Promise<Digest> {
  const report = await buildStatus(store, now, undefined, statusRulesOf(judging));
  const cases = new Map((await store.listCases()).map((c) => [c.id, c]));
  const missingDelayedReports: MissingDelayedReport[] = [];
  for (const kase of report.cases) {
    const missed = missedCount(kase.certificates);
    const stored = cases.get(kase.id);
    if (missed === 0 || !stored || stored.delayedReportUrl) continue;
    const deadline = computeDeadline(stored).deadline;
    const duties = delayedReportDuties(deadline);
    if (duties.length === 0) continue;
    missingDelayedReports.push({
      caseId: kase.id,
      title: kase.title,
      deadline: isoOrNull(deadline),
      missed,
      reportUrl: stored.reportUrl ?? null,
      duties: duties.map((d) => `${d.citation} (${d.level})`),
    });
  }
  const byCa = new Map<
    string,
    {
      open: Map<string, DigestCa['openCases'][number]>;
      onTime: number;
      late: number;
      overdue: number;
      worst: DigestCa['worstDelay'];
      findings: DigestCa['newFindings'];
    }
  >();
  for (const kase of report.cases) {
    for (const c of kase.certificates) {
      const entry = byCa.get(c.issuer) ?? {
        open: new Map(),
        onTime: 0,
        late: 0,
        overdue: 0,
        worst: null,
        findings: [] as DigestCa['newFindings'][number][],
      };
      byCa.set(c.issuer, entry);
      if (c.verdict === 'revoked_on_time') entry.onTime++;
      if (c.verdict === 'revoked_late') entry.late++;
      if (c.verdict === 'overdue') entry.overdue++;
      if (MISSED_VERDICTS.has(c.verdict) && c.lateBySeconds !== null && (!entry.worst || c.lateBySeconds > entry.worst.seconds)) {
        entry.worst = { serial: c.serial, caseId: kase.id, seconds: c.lateBySeconds };
      }
      if (c.verdict === 'pending' || c.verdict === 'overdue' || c.verdict === 'undetermined') {
        const open = entry.open.get(kase.id) ?? {
          id: kase.id,
          title: kase.title,
          reportedAt: kase.reportedAt,
          deadline: c.deadline,
          notYetRevoked: 0,
        };
        open.notYetRevoked++;
        entry.open.set(kase.id, open);
      }
      const recorded = [c.firstSeenRevokedAt, c.lastSeenGoodAt].filter((t): t is string => t !== null).map(Date.parse);
      const freshEvidence = recorded.some((t) => t > since);
      for (const f of c.findings) {
        if (f.severity === 'info') continue;
        const isNew = reported ? !reported.has(findingKey({ caseId: kase.id, sha256: c.sha256, code: f.code })) : freshEvidence;
        if (isNew)
          entry.findings.push({
            caseId: kase.id,
            serial: c.serial,
            sha256: c.sha256,
            severity: f.severity,
            code: f.code,
            message: f.message,
          });
      }
    }
  }
  return {
    generatedAt: isoOrNull(now)!,
    since: isoOrNull(since)!,
    cas: [...byCa.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([ca, e]) => ({
        ca,
        openCases: [...e.open.values()],
        revokedOnTime: e.onTime,
        revokedLate: e.late,
        overdue: e.overdue,
        worstDelay: e.worst,
        newFindings: e.findings,
      })),
    missingDelayedReports,
    crlHealth,
  };
}

export function formatDigest(d: Digest, format: 'text' | 'markdown'): string {
  const md = format === 'markdown';
  const out: string[] = [
    md ? `## Revocation deadline digest, ${d.generatedAt.slice(0, 10)}` : `Revocation deadline digest, ${d.generatedAt.slice(0, 10)}`,
    '',
  ];
  out.push(`Tracked by revwatch; deadlines per CA/B Forum BR 4.9.1.1/4.9.1.2. New findings are those since ${d.since}.`, '');
  if (d.cas.length === 0) out.push('No certificates are being tracked.');
  for (const ca of d.cas) {
    out.push(md ? `### ${ca.ca}` : ca.ca, md ? '' : '='.repeat(Math.min(ca.ca.length, 72)));
    out.push(`${md ? '- ' : ''}Revoked on time: ${ca.revokedOnTime}; revoked late: ${ca.revokedLate}; overdue: ${ca.overdue}`);
    if (ca.worstDelay)
      out.push(
        `${md ? '- ' : ''}Worst delay: ${formatDuration(ca.worstDelay.seconds)} (serial ${ca.worstDelay.serial}, case ${ca.worstDelay.caseId})`,
      );
    if (ca.openCases.length) {
      out.push(`${md ? '- ' : ''}Open cases:`);
      for (const c of ca.openCases)
        out.push(
          `${md ? '  - ' : '  * '}${c.title} (reported ${c.reportedAt}, deadline ${c.deadline ?? 'none'}): ${c.notYetRevoked} not yet revoked`,
        );
    }
    if (ca.newFindings.length) {
      out.push(`${md ? '- ' : ''}New findings:`);
      for (const f of ca.newFindings)
        out.push(`${md ? '  - ' : '  * '}${f.severity} ${f.code}, serial ${f.serial} (case ${f.caseId}): ${f.message}`);
    }
    out.push('');
  }
  if (d.missingDelayedReports.length) {
    out.push(
      md ? '### Missed deadlines without a known delayed-revocation report' : 'Missed deadlines without a known delayed-revocation report',
      md ? '' : '-'.repeat(58),
    );
    for (const m of d.missingDelayedReports) {
      out.push(
        `${md ? '- ' : '  * '}${m.title} (case ${m.caseId}): deadline ${m.deadline ?? 'none'} missed for ${m.missed} certificate(s); ${m.duties.join(' and ')} call for a separate report${m.reportUrl ? ` (incident: ${m.reportUrl})` : ''}`,
      );
    }
    out.push('');
  }
  out.push(...formatCrlHealthSection(d.crlHealth, md));
  return out.join('\n');
}
