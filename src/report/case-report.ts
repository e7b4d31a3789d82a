/**
 * The evidence report for one case: the data behind every format. Counts
 * follow the CCADB incident-reporting guidelines' delayed-revocation updates
 * (revoked, not yet revoked, expired); every figure is derived from the same
 * certificate statuses `revwatch status` prints.
 */
import { createHash } from 'node:crypto';
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { streamStatus, type JudgedCertificate, type StatusReads } from '../status/status.js';
import { computeDeadline, type Rule } from '../rules/rules.js';
import { delayedReportDuties, delayedReportSentence, MISSED_VERDICTS, type IncidentDuty } from '../rules/incident-duties.js';
import { noVerdicts, type CertificateStatus, type Finding, type Verdict } from '../rules/verdict.js';
import { reasonName } from '../pki/oids.js';
import { isoOrNull } from '../time.js';
import { crtshSerialUrl, crtshUrl, subjectAltNames, subjectCommonName } from './certificate-details.js';
import type { CaseStore, CrlSnapshot, ObservationStore, StatusSpool, StoredCertificate } from '../ports/store.js';
import type { Observation } from '../domain.js';
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
  /** Who signed an OCSP answer (RFC 6960 4.2.2.2): the issuer itself or a delegated responder; null for CRLs. */
  readonly signer: string | null;
  /** The raw OCSP response, base64 (evidence). */
  readonly raw: string | null;
  /** Present on an answer taken from the sweep's revocation index when the certificate was tracked (evidence that predates tracking). */
  readonly sweepIndex?: { readonly firstSeenSweep: number; readonly notListedSweep: number | null; readonly notListedAt: string | null };
}

export interface ReportCertificate extends CertificateStatus {
  readonly crtshUrl: string;
  /** SHA-256 of the certificate that issued it (and signs its CRLs and OCSP answers or their responders). */
  readonly issuerSha256: string;
  /** The subject's common name (the last CN), or null; the full subject is `subject`. */
  readonly subjectCN: string | null;
  /** subjectAltName DNS names, IP addresses and "email:" entries, all of them (the Markdown appendix shows a few). */
  readonly sans: string[];
  /**
   * Seconds from the report to the effective revocation time (the claimed time, or the time revwatch first saw
   * it revoked when the claim is not credible); null while not revoked.
   */
  readonly reportToRevocationSeconds: number | null;
  readonly observations: ReportObservation[];
}

/** One batch of certificates that revwatch first saw revoked (or last saw good) at the same instant, one check. */
export interface ReportBatch {
  readonly at: string;
  readonly certificates: number;
  /** The earliest and latest revocation times the CA claims for the batch (first-seen batches only). */
  readonly claimedFrom: string | null;
  readonly claimedTo: string | null;
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
  /** Impact as the CCADB incident-reporting guidelines ask: how many certificates, from which issuers, valid when. */
  readonly impact: {
    readonly certificates: number;
    readonly issuers: { name: string; certificates: number }[];
    readonly earliestNotBefore: string | null;
    readonly latestNotAfter: string | null;
  };
  readonly firstSeenRevoked: ReportBatch[];
  readonly lastSeenGood: ReportBatch[];
  /** The latest check of any source of the case, and the sources whose latest answer was an error. */
  readonly lastCheckedAt: string | null;
  readonly failingSources: { kind: 'ocsp' | 'crl'; url: string; error: string | null }[];
  readonly issuers: { sha256: string; der: Uint8Array }[];
  /** Each certificate's DER (for the evidence bundle), by SHA-256; certificates whose DER is not stored are absent. */
  readonly certificateDers: { sha256: string; der: Uint8Array }[];
}

export function countsOf(certs: readonly CertificateStatus[]): ReportCounts {
  const n = noVerdicts();
  let unrevokedWithoutDeadline = 0;
  for (const c of certs) {
    n[c.verdict]++;
    if (c.verdict === 'no_deadline' && c.revocationTime === null) unrevokedWithoutDeadline++;
  }
  return countsFrom(n, certs.length, unrevokedWithoutDeadline);
}

function countsFrom(n: Readonly<Record<Verdict, number>>, total: number, unrevokedWithoutDeadline: number): ReportCounts {
  return {
    total,
    revoked: n.revoked_on_time + n.revoked_late,
    revokedOnTime: n.revoked_on_time,
    revokedLate: n.revoked_late,
    notYetRevoked: n.pending + n.overdue + n.undetermined + unrevokedWithoutDeadline,
    overdue: n.overdue,
    expired: n.expired + n.expired_overdue,
    undetermined: n.undetermined,
  };
}

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
    signer: o.source.kind === 'ocsp' ? (o.signer ?? null) : null,
    raw: o.raw ? Buffer.from(o.raw).toString('base64') : null,
    ...(o.sweepIndex
      ? {
          sweepIndex: {
            firstSeenSweep: o.sweepIndex.firstSeenSweep,
            notListedSweep: o.sweepIndex.notListedSweep,
            notListedAt: isoOrNull(o.sweepIndex.notListedAt),
          },
        }
      : {}),
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
  /**
   * false: no certificate lists its observations (`observations` is empty), for the formats that show none
   * (markdown, CSV, HTML). Their verdicts and findings are judged on the same evidence either way.
   */
  readonly observations?: boolean;
  /** Every certificate's DER in `certificateDers` (the evidence bundle's PEMs): one read per certificate. */
  readonly certificateBytes?: boolean;
  /** The imported CCADB disclosures: certificates are judged, and their CRLs listed, with their issuer's disclosed CRLs. */
  readonly disclosures?: DisclosureLookup;
  /** Called as each certificate is judged (the CLI's progress bar). */
  readonly onCertificate?: () => void;
}

/** A case report without its certificates and findings, which streamCaseReport hands out one by one. */
export interface StreamedCaseReport {
  /** `certificates` and `findings` are empty: they were handed out as they came. */
  readonly report: CaseReport;
  /** Certificates per verdict. */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /** Certificates per effective revocation time (epoch ms): the chart's steps (chart.ts). */
  readonly revokedAt: ReadonlyMap<number, number>;
  readonly findings: number;
}

export interface StreamCaseReportOptions extends CaseReportOptions {
  /**
   * Where verdicts wait to be handed out in serial order (the CLI's is a temporary file): with one, what the
   * report needs of each certificate travels with its verdict, and nothing grows with the case but the
   * running aggregates (counts, batches by instant, issuers, sources).
   */
  readonly openSpool?: () => StatusSpool;
}

/** What a report needs of a certificate beside its status, spooled with it. */
interface SpooledJudged {
  readonly judged: JudgedCertificate;
}

/** Certificates whose SANs are read from their DER are read this many at a time, in serial order still. */
const DER_BATCH = 256;

/**
 * The case report, each certificate handed to `onCertificate` (serial order) as it is judged and not kept:
 * the counts, timeline, impact and chart are built from running aggregates. A report of 3,000,000
 * certificates then holds the aggregates and whatever the renderer keeps, not the case.
 */
export async function streamCaseReport(
  store: CaseStore & ObservationStore,
  caseId: string,
  now: number,
  options: StreamCaseReportOptions,
  onCertificate: (c: ReportCertificate) => void | Promise<void>,
): Promise<StreamedCaseReport> {
  const kase: Case | null = await store.getCase(caseId);
  if (!kase) throw new InputError(`no case "${caseId}"`);
  // The formats that list observations take the record's, or every stored one read per certificate.
  const readEveryObservation = options.observations !== false && options.allObservations === true;
  const reads: StatusReads = {
    certificates: new Map(),
    snapshots: new Map(),
    observations: options.observations !== false && !readEveryObservation,
  };
  const innerSpool = options.openSpool;
  // A spool of text cannot keep the observations of a record: the formats that list them keep them in memory.
  const spooled = innerSpool !== undefined && !reads.observations;
  const d = computeDeadline(kase);
  const rule: Rule = d.rule;

  // Running aggregates of everything the report says about the whole case.
  const verdicts = noVerdicts();
  let total = 0;
  let unrevokedWithoutDeadline = 0;
  let missed = 0;
  let findings = 0;
  type Claimed = { t: number; text: string } | null;
  const firstSeen = new Map<string, { certificates: number; claimedFrom: Claimed; claimedTo: Claimed }>();
  const lastGood = new Map<string, number>();
  const issuerCounts = new Map<string, number>();
  const issuerShas = new Set<string>();
  const revokedAt = new Map<number, number>();
  let earliestNotBefore: number | null = null;
  let latestNotAfter: number | null = null;
  let lastChecked: number | null = null;
  const failing = new Map<string, { kind: 'ocsp' | 'crl'; url: string; error: string | null }>();

  const aggregate = (c: ReportCertificate): void => {
    total++;
    verdicts[c.verdict]++;
    if (c.verdict === 'no_deadline' && c.revocationTime === null) unrevokedWithoutDeadline++;
    if (MISSED_VERDICTS.has(c.verdict)) missed++;
    findings += c.findings.length;
    if (c.firstSeenRevokedAt !== null) {
      const b = firstSeen.get(c.firstSeenRevokedAt) ?? { certificates: 0, claimedFrom: null, claimedTo: null };
      b.certificates++;
      // The earliest and latest claimed times as the CA wrote them; the first of equal instants is kept.
      if (c.revocationTime !== null) {
        const t = Date.parse(c.revocationTime);
        if (b.claimedFrom === null || t < b.claimedFrom.t) b.claimedFrom = { t, text: c.revocationTime };
        if (b.claimedTo === null || t >= b.claimedTo.t) b.claimedTo = { t, text: c.revocationTime };
      }
      firstSeen.set(c.firstSeenRevokedAt, b);
    }
    if (c.lastSeenGoodAt !== null) lastGood.set(c.lastSeenGoodAt, (lastGood.get(c.lastSeenGoodAt) ?? 0) + 1);
    issuerCounts.set(c.issuer, (issuerCounts.get(c.issuer) ?? 0) + 1);
    issuerShas.add(c.issuerSha256);
    if (c.effectiveRevocationTime !== null) {
      const t = Date.parse(c.effectiveRevocationTime);
      revokedAt.set(t, (revokedAt.get(t) ?? 0) + 1);
    }
    const notBefore = Date.parse(c.notBefore);
    const notAfter = Date.parse(c.notAfter);
    if (earliestNotBefore === null || notBefore < earliestNotBefore) earliestNotBefore = notBefore;
    if (latestNotAfter === null || notAfter > latestNotAfter) latestNotAfter = notAfter;
    for (const src of c.sources) {
      const t = Date.parse(src.confirmedAt ?? src.checkedAt);
      if (lastChecked === null || t > lastChecked) lastChecked = t;
      if (src.status === 'error') failing.set(`${src.kind} ${src.url}`, { kind: src.kind, url: src.url, error: src.error });
    }
  };

  // Entries wait here, in order, until the SANs of those tracked before SANs were kept are read from their DERs.
  let waiting: ReportCertificate[] = [];
  let needDer: ReportCertificate[] = [];
  const release = async (): Promise<void> => {
    if (needDer.length > 0) {
      const derOf = await store.getCertificateDers(needDer.map((c) => c.sha256));
      for (const c of needDer) {
        const der = derOf.get(c.sha256);
        if (der) for (const san of subjectAltNames(der)) c.sans.push(san); // not push(...): 50,000 SANs overflow the stack
      }
    }
    const ready = waiting;
    waiting = [];
    needDer = [];
    for (const c of ready) {
      aggregate(c);
      const wait = onCertificate(c);
      if (wait) await wait;
    }
  };
  const add = async (
    s: CertificateStatus,
    judged: JudgedCertificate,
    listed: readonly (Observation & { raw?: Uint8Array | null })[],
  ): Promise<void> => {
    const effective = s.effectiveRevocationTime === null ? null : Date.parse(s.effectiveRevocationTime);
    const entry: ReportCertificate = {
      ...s,
      // An appendix row without a fingerprint is searched on crt.sh by its serial: its id is no fingerprint.
      crtshUrl: judged.idFromSerial ? crtshSerialUrl(s.serial) : crtshUrl({ sha256: s.sha256, crtshId: judged.crtshId }),
      issuerSha256: judged.issuerSha256,
      subjectCN: subjectCommonName(s.subject),
      sans: judged.sans ? [...judged.sans] : [],
      reportToRevocationSeconds: effective === null ? null : Math.floor((effective - kase.reportedAt) / 1000),
      observations: [...listed].sort((a, b) => a.observedAt - b.observedAt).map(reportObservation),
    };
    waiting.push(entry);
    // SANs are kept with each certificate since they were read at track; older ones are read from its DER.
    if (judged.sans === undefined) needDer.push(entry);
    if (needDer.length === 0 || waiting.length >= DER_BATCH) await release();
  };
  const openSpool = spooled
    ? (): StatusSpool => {
        const inner = innerSpool();
        return {
          add: (key: string, status: CertificateStatus, cert?: StoredCertificate) =>
            inner.add(
              key,
              cert
                ? ({
                    ...status,
                    judged: {
                      crtshId: cert.crtshId,
                      issuerSha256: cert.issuerSha256,
                      sans: cert.sans,
                      observations: null,
                      ...(cert.idFromSerial ? { idFromSerial: true } : {}),
                    },
                  } as CertificateStatus & SpooledJudged)
                : status,
            ),
          inOrder: () => inner.inOrder(),
          close: () => inner.close(),
        };
      }
    : undefined;
  await streamStatus(
    store,
    now,
    {
      caseStart: () => undefined,
      certificate: (spooledStatus) => {
        options.onCertificate?.();
        let s: CertificateStatus = spooledStatus;
        let judged: JudgedCertificate;
        if (spooled) {
          // The spool's own field is no part of the status the report shows.
          const { judged: kept, ...status } = spooledStatus as CertificateStatus & SpooledJudged;
          s = status;
          judged = kept;
        } else {
          judged = reads.certificates.get(s.sha256)!;
          reads.certificates.delete(s.sha256);
        }
        if (!readEveryObservation) return add(s, judged, judged.observations ?? []);
        return store.listObservations(s.sha256).then((listed) => add(s, judged, listed));
      },
      caseEnd: () => undefined,
    },
    { caseId, reads, rules: options.disclosures ? { disclosures: options.disclosures } : {}, ...(openSpool ? { openSpool } : {}) },
  );
  await release();
  // Status read the snapshots of every CRL it judged on, the disclosed ones included.
  const crls: CaseReport['crls'] = [];
  for (const url of [...reads.snapshots.keys()].sort()) {
    const snapshots = reads.snapshots.get(url)!.snapshots;
    for (const snap of [...snapshots].sort((a, b) => a.thisUpdate - b.thisUpdate || (a.sha256 < b.sha256 ? -1 : 1)))
      crls.push({ ...snap, localFile: options.crlFile?.(snap.sha256) ?? null });
  }
  const issuers: CaseReport['issuers'] = [];
  for (const sha of [...issuerShas].sort()) {
    const der = await store.getCertificateDer(sha);
    if (der) issuers.push({ sha256: sha, der });
  }

  const timeline: { at: number; event: string }[] = [
    {
      at: kase.reportedAt,
      event: kase.notifiedBy
        ? `Problem reported to the CA by ${kase.notifiedBy} (the deadline clock starts)`
        : 'Problem reported to the CA (the deadline clock starts, BR 4.9.5)',
    },
  ];
  if (kase.confirmedAt != null) timeline.push({ at: kase.confirmedAt, event: 'CA confirmed the problem' });
  if (d.shouldDeadline !== null) timeline.push({ at: d.shouldDeadline, event: `SHOULD deadline (${rule.section})` });
  if (d.deadline !== null) timeline.push({ at: d.deadline, event: `MUST deadline (${rule.section}, ${rule.mustHours} hours)` });
  // revwatch cannot know when a revocation was published, only what the CA claims (revocationDate, RFC 5280
  // 5.3.2 / RFC 6960 4.2.1) and when it first saw it: the timeline says which is which.
  const firstSeenRevoked: ReportBatch[] = [...firstSeen.entries()]
    .sort(([a], [b]) => Date.parse(a) - Date.parse(b))
    .map(([at, b]) => ({
      at,
      certificates: b.certificates,
      claimedFrom: b.claimedFrom?.text ?? null,
      claimedTo: b.claimedTo?.text ?? null,
    }));
  for (const b of firstSeenRevoked) {
    const claimed =
      b.claimedFrom === null
        ? ''
        : b.claimedFrom === b.claimedTo
          ? `; revocation time claimed by the CA ${b.claimedFrom}`
          : `; revocation times claimed by the CA ${b.claimedFrom} to ${b.claimedTo}`;
    timeline.push({ at: Date.parse(b.at), event: `${b.certificates} certificate(s) first seen revoked by revwatch${claimed}` });
  }
  // Last seen good: for a revoked certificate it bounds the revocation from below; for the rest it is the latest answer.
  const lastSeenGood: ReportBatch[] = [...lastGood.entries()]
    .sort(([a], [b]) => Date.parse(a) - Date.parse(b))
    .map(([at, certificates]) => ({ at, certificates, claimedFrom: null, claimedTo: null }));
  for (const b of lastSeenGood)
    timeline.push({ at: Date.parse(b.at), event: `${b.certificates} certificate(s) last seen good (not revoked) by revwatch` });
  timeline.push({ at: now, event: 'Now: this report' });

  const report: CaseReport = {
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
    incidentDuties:
      missed > 0
        ? { missed, duties: delayedReportDuties(d.deadline), statement: delayedReportSentence(d.deadline, kase.delayedReportUrl) }
        : { missed: 0, duties: [], statement: '' },
    deadline: isoOrNull(d.deadline),
    shouldDeadline: isoOrNull(d.shouldDeadline),
    counts: countsFrom(verdicts, total, unrevokedWithoutDeadline),
    certificates: [],
    findings: [],
    crls,
    timeline: timeline.sort((a, b) => a.at - b.at).map((t) => ({ at: isoOrNull(t.at)!, event: t.event })),
    impact: {
      certificates: total,
      issuers: [...issuerCounts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, certificates]) => ({ name, certificates })),
      earliestNotBefore: isoOrNull(earliestNotBefore),
      latestNotAfter: isoOrNull(latestNotAfter),
    },
    firstSeenRevoked,
    lastSeenGood,
    lastCheckedAt: isoOrNull(lastChecked),
    failingSources: [...failing.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0)),
    issuers,
    certificateDers: [],
  };
  return { report, verdicts, revokedAt, findings };
}

/** The whole case report in memory: what the evidence bundle and the site's pages are built from. */
export async function buildCaseReport(
  store: CaseStore & ObservationStore,
  caseId: string,
  now: number,
  options: CaseReportOptions = {},
): Promise<CaseReport> {
  const certificates: ReportCertificate[] = [];
  const { report } = await streamCaseReport(store, caseId, now, options, (c) => void certificates.push(c));
  const derOf = options.certificateBytes ? await store.getCertificateDers(certificates.map((c) => c.sha256)) : null;
  return {
    ...report,
    certificates,
    findings: certificates.flatMap((c) => c.findings.map((finding) => ({ serial: c.serial, finding }))),
    certificateDers: derOf ? [...derOf.entries()].map(([sha256, der]) => ({ sha256, der })) : [],
  };
}

export const fileSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
