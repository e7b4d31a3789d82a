/**
 * Per-certificate verdicts (design.md, "Verdicts"): a pure function of the
 * case, the certificate, its observations and `now`. Observations may arrive
 * in any order and more than once; the result does not change.
 */
import type { Case, Observation, TrackedCertificate } from '../domain.js';
import { reasonName } from '../pki/oids.js';
import { iso, isoOrNull } from '../time.js';
import { computeDeadline, rulesInstant, type Deadline, type RuleOptions } from './rules.js';
import { backdatingSeverity } from './backdating.js';
import { reasonCodeFindings } from './reason-codes.js';
import { countedRevocations, firstRevocationEvidence } from './revoked.js';
import { ruleVersionAt } from './rule-versions.js';

export type Verdict =
  | 'pending'
  | 'overdue'
  | 'revoked_on_time'
  | 'revoked_late'
  | 'expired'
  | 'expired_overdue'
  | 'no_deadline'
  | 'undetermined';

export type FindingCode =
  | 'ocsp_unknown_for_issued'
  | 'ocsp_crl_disagree'
  | 'revocation_backdated'
  | 'reason_code_mismatch'
  | 'reason_code_missing'
  | 'reason_code_invalid'
  | 'stale_response'
  | 'bad_signature'
  | 'revocation_reversed'
  | 'should_deadline_missed'
  | 'no_revocation_source'
  | 'confirmed_after_report';

export interface Finding {
  readonly code: FindingCode;
  readonly severity: 'violation' | 'warning' | 'info';
  readonly message: string;
}

export interface SourceStatus {
  readonly kind: 'ocsp' | 'crl';
  readonly url: string;
  readonly status: Observation['status'];
  readonly checkedAt: string;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly error: string | null;
}

/** The certificate entry of `status --json` (design.md, CLI contract). */
export interface CertificateStatus {
  readonly sha256: string;
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly deadline: string | null;
  readonly shouldDeadline: string | null;
  readonly verdict: Verdict;
  readonly revocationTime: string | null;
  readonly effectiveRevocationTime: string | null;
  readonly reasonCode: string | null;
  readonly firstSeenRevokedAt: string | null;
  readonly lastSeenGoodAt: string | null;
  readonly lateBySeconds: number | null;
  readonly sources: readonly SourceStatus[];
  readonly findings: readonly Finding[];
  /** Present when the deadline rests on a contested reading of the texts (see the rule's note). */
  readonly interpretation?: 'contested';
  readonly interpretationNote?: string;
}

/** Numeric form of the result, for reports and properties. */
export interface Judgement {
  readonly deadline: Deadline;
  readonly verdict: Verdict;
  readonly revoked: boolean;
  readonly claimedRevocationTime: number | null;
  readonly effectiveRevocationTime: number | null;
  readonly reasonCode: number | null;
  readonly firstSeenRevokedAt: number | null;
  readonly lastSeenGoodAt: number | null;
  readonly lateBySeconds: number | null;
  readonly findings: readonly Finding[];
  readonly sources: readonly SourceStatus[];
}

const isEvidence = (o: Observation): boolean => o.status !== 'error';
/** When the source vouched for its answer: OCSP producedAt, CRL thisUpdate (BR 4.9.5 "published"). */
const evidenceTime = (o: Observation): number => o.producedAt ?? o.thisUpdate ?? o.observedAt;

function observationKey(o: Observation): string {
  return JSON.stringify([o.observedAt, o.source.kind, o.source.url, o.status, o.revocationTime, o.reasonCode, o.thisUpdate, o.nextUpdate, o.producedAt, o.sha256 ?? null, o.error?.kind ?? null]);
}

/** Canonical order, duplicates removed: the input order can never matter. */
export function canonicalObservations(observations: readonly Observation[]): Observation[] {
  const byKey = new Map<string, Observation>();
  for (const o of observations) byKey.set(observationKey(o), o);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

export function judge(kase: Case, cert: TrackedCertificate, observations: readonly Observation[], now: number, deadlineOverride?: Deadline, rules: RuleOptions = {}): Judgement {
  const deadline = deadlineOverride ?? computeDeadline(kase, cert, rules);
  const version = deadline.ruleVersion ?? ruleVersionAt(rulesInstant(kase, rules), rules.versions);
  const all = canonicalObservations(observations);
  const evidence = all.filter(isEvidence);
  const everyRevokedObs = evidence.filter((o) => o.status === 'revoked' && o.revocationTime !== null);
  // The answers that make the certificate count as revoked under the rule version (rule-versions.ts).
  const revokedObs = countedRevocations(version, cert, everyRevokedObs);
  const goodObs = evidence.filter((o) => o.status === 'good');
  const findings: Finding[] = [];

  // Revocation as claimed by the CA: the earliest revocationTime among verified sources.
  const revoked = revokedObs.length > 0;
  const claimed = revoked ? Math.min(...revokedObs.map((o) => o.revocationTime!)) : null;
  const firstSeenRevokedAt = revoked ? Math.min(...revokedObs.map((o) => o.observedAt)) : null;
  const firstRevokedEvidence = revoked ? firstRevocationEvidence(version, revokedObs, evidenceTime) : null;
  const lastSeenGoodAt = goodObs.length ? Math.max(...goodObs.map((o) => o.observedAt)) : null;
  // The reason code as the CA says it now: the most recently observed revoked answer.
  const latestRevoked = revokedObs.reduce<Observation | null>((a, o) => (a === null || o.observedAt >= a.observedAt ? o : a), null);
  const reasonCode = latestRevoked?.reasonCode ?? null;

  // Evidence bound: a verified `good` vouched for after the claimed time (but
  // before revocation was first published) shows the claim is backdated.
  let effective = claimed;
  if (claimed !== null && firstRevokedEvidence !== null) {
    const contradicting = goodObs.map(evidenceTime).filter((t) => t > claimed && t <= firstRevokedEvidence);
    if (contradicting.length) {
      const latestGood = Math.max(...contradicting);
      effective = latestGood;
      const backdating = backdatingSeverity(kase, revokedObs);
      findings.push({
        code: 'revocation_backdated',
        severity: backdating.severity,
        message: `revocationTime ${iso(claimed)} is earlier than a signed "good" answer of ${iso(latestGood)}${backdating.why}; counted from ${iso(latestGood)}`,
      });
    }
  }

  // A revocation after expiry does not count: at notAfter the certificate was unrevoked.
  const revokedInLife = effective !== null && effective <= cert.notAfter;
  const d = deadline.deadline;
  let verdict: Verdict;
  let lateBySeconds: number | null = null;
  if (evidence.length === 0) {
    verdict = d === null ? 'no_deadline' : 'undetermined';
  } else if (d === null) {
    verdict = 'no_deadline';
  } else if (revokedInLife) {
    // Revoked before the report counts as on time (rules.md edge case 4).
    if (effective! <= d) verdict = 'revoked_on_time';
    else {
      verdict = 'revoked_late';
      lateBySeconds = Math.floor((effective! - d) / 1000);
    }
  } else if (cert.notAfter <= now) {
    if (cert.notAfter <= d) verdict = 'expired';
    else {
      verdict = 'expired_overdue';
      lateBySeconds = Math.floor((cert.notAfter - d) / 1000);
    }
  } else if (now <= d) {
    verdict = 'pending';
  } else {
    verdict = 'overdue';
    lateBySeconds = Math.floor((now - d) / 1000);
  }

  // SHOULD deadline (5-day reasons: SHOULD within 24 hours).
  const should = deadline.shouldDeadline;
  if (should !== null && verdict !== 'no_deadline' && verdict !== 'undetermined') {
    const end = revokedInLife ? effective! : Math.min(now, cert.notAfter);
    if (end > should && cert.notAfter > should) {
      findings.push({ code: 'should_deadline_missed', severity: 'warning', message: `not revoked by the SHOULD deadline ${iso(should)} (${deadline.rule.section})` });
    }
  }

  if (cert.ocspUrls.length === 0 && cert.crlUrls.length === 0) {
    findings.push({ code: 'no_revocation_source', severity: 'violation', message: 'the certificate names neither an OCSP responder nor a CRL distribution point' });
  }

  for (const o of evidence.filter((x) => x.source.kind === 'ocsp' && x.status === 'unknown')) {
    findings.push({
      code: 'ocsp_unknown_for_issued',
      severity: 'violation',
      message: `${o.source.url} answered "unknown" at ${iso(o.observedAt)} for an issued ${cert.precertificate ? 'precertificate' : 'certificate'} (BR 4.9.10)`,
    });
  }

  for (const o of all.filter((x) => x.status === 'error' && (x.error?.kind === 'bad-signature' || x.error?.kind === 'unauthorized-signer'))) {
    findings.push({ code: 'bad_signature', severity: 'violation', message: `${o.source.url} at ${iso(o.observedAt)}: ${o.error!.message}` });
  }

  // Staleness: judged on the latest verified answer of each source.
  const sources = latestPerSource(all);
  for (const o of latestPerSource(evidence)) {
    if (o.nextUpdate !== null && o.nextUpdate < o.observedAt) {
      findings.push({ code: 'stale_response', severity: 'warning', message: `${o.source.url} served an answer whose nextUpdate ${iso(o.nextUpdate)} had passed at ${iso(o.observedAt)}` });
    }
  }

  // Reversal: revoked, then good again from the same source before expiry (BR 4.10.1).
  for (const r of revokedObs) {
    const later = goodObs.find((g) => g.source.kind === r.source.kind && g.source.url === r.source.url && g.observedAt > r.observedAt && g.observedAt < cert.notAfter);
    if (later) {
      findings.push({
        code: 'revocation_reversed',
        severity: 'violation',
        message: `${r.source.url} said revoked at ${iso(r.observedAt)} and ${r.source.kind === 'crl' ? 'dropped the entry' : 'answered good'} at ${iso(later.observedAt)}, before expiry`,
      });
      break;
    }
  }

  // OCSP and CRL disagree: their latest verified answers differ on revoked vs good.
  const latestOcsp = latestOf(evidence.filter((o) => o.source.kind === 'ocsp' && o.status !== 'unknown'));
  const latestCrl = latestOf(evidence.filter((o) => o.source.kind === 'crl'));
  if (latestOcsp && latestCrl && (latestOcsp.status === 'revoked') !== (latestCrl.status === 'revoked')) {
    findings.push({
      code: 'ocsp_crl_disagree',
      severity: 'warning',
      message: `OCSP said ${latestOcsp.status} at ${iso(latestOcsp.observedAt)} while the CRL said ${latestCrl.status} at ${iso(latestCrl.observedAt)}`,
    });
  }

  findings.push(...reasonCodeFindings(kase, cert, everyRevokedObs, { rulesAsOf: rules.rulesAsOf }));

  if (kase.confirmedAt != null && kase.confirmedAt > kase.reportedAt) {
    findings.push({
      code: 'confirmed_after_report',
      severity: 'info',
      message: `the CA confirmed at ${iso(kase.confirmedAt)}, ${Math.round((kase.confirmedAt - kase.reportedAt) / 60_000)} minutes after the report; the deadline counts from the report (BR 4.9.5)`,
    });
  }

  return {
    deadline,
    verdict,
    revoked,
    claimedRevocationTime: claimed,
    effectiveRevocationTime: effective,
    reasonCode,
    firstSeenRevokedAt,
    lastSeenGoodAt,
    lateBySeconds,
    findings: dedupeFindings(findings),
    sources: sources.map((o) => ({
      kind: o.source.kind,
      url: o.source.url,
      status: o.status,
      checkedAt: iso(o.observedAt),
      thisUpdate: isoOrNull(o.thisUpdate),
      nextUpdate: isoOrNull(o.nextUpdate),
      error: o.error?.message ?? null,
    })),
  };
}

function latestOf(list: readonly Observation[]): Observation | null {
  return list.reduce<Observation | null>((a, o) => (a === null || o.observedAt > a.observedAt || (o.observedAt === a.observedAt && observationKey(o) > observationKey(a)) ? o : a), null);
}

function latestPerSource(list: readonly Observation[]): Observation[] {
  const bySource = new Map<string, Observation[]>();
  for (const o of list) {
    const k = `${o.source.kind} ${o.source.url}`;
    bySource.set(k, [...(bySource.get(k) ?? []), o]);
  }
  return [...bySource.keys()].sort().map((k) => latestOf(bySource.get(k)!)!);
}

function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(`${f.code}\u0000${f.severity}\u0000${f.message}`, f);
  return [...seen.values()].sort((a, b) => (a.code === b.code ? (a.message < b.message ? -1 : 1) : a.code < b.code ? -1 : 1));
}

/** The `status --json` certificate entry. */
export function certificateStatus(kase: Case, cert: TrackedCertificate, observations: readonly Observation[], now: number, rules: RuleOptions = {}): CertificateStatus {
  const j = judge(kase, cert, observations, now, undefined, rules);
  return {
    sha256: cert.sha256,
    serial: cert.serial,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: iso(cert.notBefore),
    notAfter: iso(cert.notAfter),
    deadline: isoOrNull(j.deadline.deadline),
    shouldDeadline: isoOrNull(j.deadline.shouldDeadline),
    verdict: j.verdict,
    revocationTime: isoOrNull(j.claimedRevocationTime),
    effectiveRevocationTime: isoOrNull(j.effectiveRevocationTime),
    reasonCode: reasonName(j.reasonCode),
    firstSeenRevokedAt: isoOrNull(j.firstSeenRevokedAt),
    lastSeenGoodAt: isoOrNull(j.lastSeenGoodAt),
    lateBySeconds: j.lateBySeconds,
    sources: j.sources,
    findings: j.findings,
    ...(j.deadline.rule.interpretation ? { interpretation: j.deadline.rule.interpretation, interpretationNote: j.deadline.rule.note ?? '' } : {}),
  };
}
