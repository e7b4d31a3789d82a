/**
 * The evidence report for one case: the data behind every format. Counts
 * follow the CCADB incident-reporting guidelines' delayed-revocation updates
 * (revoked, not yet revoked, expired); every figure is derived from the same
 * certificate statuses `revwatch status` prints.
 */
import { createHash } from 'node:crypto';
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { buildStatus, SnapshotIndex, type CaseStatus } from '../check/status.js';
import { recordObservations } from '../rules/evidence.js';
import { computeDeadline, type Rule } from '../rules/rules.js';
import { delayedReportDuties, delayedReportSentence, missedCount, type IncidentDuty } from '../rules/incident-duties.js';
import type { CertificateStatus, Finding } from '../rules/verdict.js';
import { reasonName } from '../pki/oids.js';
import { isoOrNull } from '../time.js';
import type { CaseCertificate, CrlSnapshot, Store, StoredCertificate } from '../store/store.js';
import type { Observation } from '../domain.js';
import { crlSourceUrls } from '../revocation-sources.js';
import type { DisclosureLookup } from '../ccadb/store.js';

export interface ReportCounts {
  readonly total: number;
  readonly revoked: number;
  readonly revokedOnTime: number;
  readonly revokedLate: number;
  readonly notYetRevoked: number;
  readonly overdue: number;
  readonly expired: number;
  readonly undetermined: number;
}

export interface ReportObservation {
  readonly observedAt: string;
  readonly source: { kind: 'ocsp' | 'crl'; url: string };
  readonly status: string;
  readonly revocationTime: string | null;
  readonly reasonCode: string | null;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly producedAt: string | null;
  readonly crlNumber: string | null;
  readonly sha256: string | null;
  readonly error: string | null;
  /** The raw OCSP response, base64 (evidence). */
  readonly raw: string | null;
}

export interface ReportCertificate extends CertificateStatus {
  readonly crtshUrl: string;
  readonly observations: ReportObservation[];
}

export interface CaseReport {
  readonly generatedAt: string;
  readonly case: {
    id: string;
    title: string;
    reportedAt: string;
    confirmedAt: string | null;
    reason: string;
    kind: string;
    reportUrl: string | null;
    notifiedBy: string | null;
    delayedReportUrl: string | null;
  };
  readonly rule: {
    id: string;
    section: string;
    version: string;
    effectiveFrom: string | null;
    source: string;
    mustHours: number | null;
    shouldHours: number | null;
    note: string | null;
    interpretation: 'contested' | null;
  };
  /** Duties that follow a missed deadline (notices, not verdicts); missed is 0 when the deadline was met or is ahead. */
  readonly incidentDuties: { missed: number; duties: IncidentDuty[]; statement: string };
  readonly deadline: string | null;
  readonly shouldDeadline: string | null;
  readonly counts: ReportCounts;
  readonly certificates: ReportCertificate[];
  readonly findings: { serial: string; finding: Finding }[];
  readonly crls: (CrlSnapshot & { localFile: string | null })[];
  readonly timeline: { at: string; event: string }[];
  readonly issuers: { sha256: string; der: Uint8Array }[];
}

export function countsOf(certs: readonly CertificateStatus[]): ReportCounts {
  const by = (...v: string[]) => certs.filter((c) => v.includes(c.verdict)).length;
  return {
    total: certs.length,
    revoked: by('revoked_on_time', 'revoked_late'),
    revokedOnTime: by('revoked_on_time'),
    revokedLate: by('revoked_late'),
    notYetRevoked: by('pending', 'overdue', 'undetermined') + certs.filter((c) => c.verdict === 'no_deadline' && c.revocationTime === null).length,
    overdue: by('overdue'),
    expired: by('expired', 'expired_overdue'),
    undetermined: by('undetermined'),
  };
}

const crtshUrl = (cert: StoredCertificate): string => (cert.crtshId ? `https://crt.sh/?id=${cert.crtshId}` : `https://crt.sh/?q=${cert.sha256}`);

function reportObservation(o: Observation & { raw?: Uint8Array | null }): ReportObservation {
  return {
    observedAt: isoOrNull(o.observedAt)!,
    source: o.source,
    status: o.status,
    revocationTime: isoOrNull(o.revocationTime),
    reasonCode: reasonName(o.reasonCode),
    thisUpdate: isoOrNull(o.thisUpdate),
    nextUpdate: isoOrNull(o.nextUpdate),
    producedAt: isoOrNull(o.producedAt),
    crlNumber: o.crlNumber ?? null,
    sha256: o.sha256 ?? null,
    error: o.error?.message ?? null,
    raw: o.raw ? Buffer.from(o.raw).toString('base64') : null,
  };
}

export interface CaseReportOptions {
  readonly crlFile?: (sha256: string) => string | null;
  /**
   * Every observation of every certificate, raw OCSP responses included (the JSON export and the evidence
   * bundle): one Query per certificate. Otherwise each certificate lists the observations its evidence
   * record keeps, the ones its verdict and findings rest on, and the case is read with one Query.
   */
  readonly allObservations?: boolean;
  /** The imported CCADB disclosures: certificates are judged, and their CRLs listed, with their issuer's disclosed CRLs. */
  readonly disclosures?: DisclosureLookup;
}

export async function buildCaseReport(store: Store, caseId: string, now: number, options: CaseReportOptions = {}): Promise<CaseReport> {
  const kase: Case | null = await store.getCase(caseId);
  if (!kase) throw new InputError(`no case "${caseId}"`);
  const reads = { certificates: new Map<string, CaseCertificate[]>(), snapshots: new Map<string, SnapshotIndex>() };
  const status: CaseStatus = (await buildStatus(store, now, caseId, reads, options.disclosures ? { disclosures: options.disclosures } : {})).cases[0]!;
  const loaded = reads.certificates.get(caseId)!;
  const certificates: StoredCertificate[] = loaded.map((cc) => cc.cert);
  const bySha = new Map(certificates.map((c) => [c.sha256, c]));
  const observationsOf = new Map<string, (Observation & { raw?: Uint8Array | null })[]>();
  for (const cc of loaded) {
    const list: (Observation & { raw?: Uint8Array | null })[] = options.allObservations || cc.legacy ? await store.listObservations(cc.cert.sha256) : recordObservations(cc.record);
    observationsOf.set(cc.cert.sha256, list);
  }
  const d = computeDeadline(kase);
  const rule: Rule = d.rule;

  const reportCerts: ReportCertificate[] = [];
  for (const s of status.certificates) {
    const observations = [...(observationsOf.get(s.sha256) ?? [])].sort((a, b) => a.observedAt - b.observedAt).map(reportObservation);
    reportCerts.push({ ...s, crtshUrl: crtshUrl(bySha.get(s.sha256)!), observations });
  }
  // Status read the snapshots of every CRL it judged on, the disclosed ones included.
  const crlUrls = [...new Set([...certificates.flatMap((c) => crlSourceUrls(c)), ...reads.snapshots.keys()])].sort();
  const crls: CaseReport['crls'] = [];
  for (const url of crlUrls) {
    const snapshots = reads.snapshots.get(url)?.snapshots ?? (await store.listCrlSnapshots(url));
    for (const snap of [...snapshots].sort((a, b) => a.thisUpdate - b.thisUpdate || (a.sha256 < b.sha256 ? -1 : 1))) crls.push({ ...snap, localFile: options.crlFile?.(snap.sha256) ?? null });
  }
  const issuerShas = [...new Set(certificates.map((c) => c.issuerSha256))].sort();
  const issuers: CaseReport['issuers'] = [];
  for (const sha of issuerShas) {
    const der = await store.getCertificateDer(sha);
    if (der) issuers.push({ sha256: sha, der });
  }

  const missed = missedCount(reportCerts);
  const timeline: { at: number; event: string }[] = [
    { at: kase.reportedAt, event: kase.notifiedBy ? `Problem reported to the CA by ${kase.notifiedBy} (the deadline clock starts)` : 'Problem reported to the CA (the deadline clock starts, BR 4.9.5)' },
  ];
  if (kase.confirmedAt != null) timeline.push({ at: kase.confirmedAt, event: 'CA confirmed the problem' });
  if (d.shouldDeadline !== null) timeline.push({ at: d.shouldDeadline, event: `SHOULD deadline (${rule.section})` });
  if (d.deadline !== null) timeline.push({ at: d.deadline, event: `MUST deadline (${rule.section}, ${rule.mustHours} hours)` });
  const effective = reportCerts.map((c) => (c.effectiveRevocationTime ? Date.parse(c.effectiveRevocationTime) : null)).filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (effective.length) {
    timeline.push({ at: effective[0]!, event: 'First revocation published' });
    if (effective.length > 1) timeline.push({ at: effective[effective.length - 1]!, event: `Last of ${effective.length} revocations published` });
  }
  const seen = reportCerts.map((c) => (c.firstSeenRevokedAt ? Date.parse(c.firstSeenRevokedAt) : null)).filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (seen.length) timeline.push({ at: seen[0]!, event: 'First revocation observed by revwatch' });
  timeline.push({ at: now, event: 'This report' });

  return {
    generatedAt: isoOrNull(now)!,
    case: {
      id: kase.id,
      title: kase.title,
      reportedAt: isoOrNull(kase.reportedAt)!,
      confirmedAt: isoOrNull(kase.confirmedAt ?? null),
      reason: kase.reason,
      kind: kase.kind,
      reportUrl: kase.reportUrl ?? null,
      notifiedBy: kase.notifiedBy ?? null,
      delayedReportUrl: kase.delayedReportUrl ?? null,
    },
    rule: {
      id: rule.id,
      section: rule.section,
      version: rule.version,
      effectiveFrom: rule.effectiveFrom,
      source: rule.source,
      mustHours: rule.mustHours,
      shouldHours: rule.shouldHours,
      note: rule.note ?? null,
      interpretation: rule.interpretation ?? null,
    },
    incidentDuties: missed > 0 ? { missed, duties: delayedReportDuties(d.deadline), statement: delayedReportSentence(d.deadline, kase.delayedReportUrl) } : { missed: 0, duties: [], statement: '' },
    deadline: isoOrNull(d.deadline),
    shouldDeadline: isoOrNull(d.shouldDeadline),
    counts: countsOf(reportCerts),
    certificates: reportCerts,
    findings: reportCerts.flatMap((c) => c.findings.map((finding) => ({ serial: c.serial, finding }))),
    crls,
    timeline: timeline.sort((a, b) => a.at - b.at).map((t) => ({ at: isoOrNull(t.at)!, event: t.event })),
    issuers,
  };
}

export const fileSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
