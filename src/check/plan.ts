/**
 * Planning a check run: which certificates need asking, grouped into one job
 * per CRL URL (one fetch answers for all of its serials) and one job per OCSP
 * request.
 */
import type { Case, Observation } from '../domain.js';
import { sourceKey, type LastAnswer, type Store, type StoredCertificate } from '../store/store.js';
import { previousAnswer, type CrlJob, type JobCertificate, type OcspJob } from './jobs.js';

const DAY = 86_400_000;

export interface PlanOptions {
  readonly caseId?: string;
  /** A settled (verified revoked) certificate is asked again this often, to catch a reversed revocation. */
  readonly settledIntervalMs?: number;
}

export interface CertificateRef {
  readonly cert: StoredCertificate;
  readonly caseIds: string[];
}

export interface CheckPlan {
  readonly startedAt: number;
  readonly cases: readonly Case[];
  /** Certificates counted once per case that tracks them. */
  readonly certificates: number;
  readonly skippedExpired: number;
  readonly skippedSettled: number;
  readonly crlJobs: readonly CrlJob[];
  readonly ocspJobs: readonly OcspJob[];
  /** Every tracked certificate once, with the cases that track it. */
  readonly refs: ReadonlyMap<string, CertificateRef>;
  /** Last answers per `lastAnswerKey`. */
  readonly last: ReadonlyMap<string, Observation>;
}

export const lastAnswerKey = (caseId: string, sha256: string, kind: 'ocsp' | 'crl', url: string): string => `${caseId}|${sha256}|${sourceKey(kind, url)}`;

export async function planCheck(store: Store, now: number, options: PlanOptions = {}): Promise<CheckPlan> {
  const settledInterval = options.settledIntervalMs ?? DAY;
  const cases = options.caseId ? [await store.getCase(options.caseId)].filter((c) => c !== null) : await store.listCases();
  const refs = new Map<string, CertificateRef>();
  const last = new Map<string, Observation>();
  let certificates = 0;
  for (const kase of cases) {
    const loaded = await store.loadCase(kase.id);
    for (const l of loaded.last as LastAnswer[]) last.set(lastAnswerKey(l.caseId, l.sha256, l.observation.source.kind, l.observation.source.url), l.observation);
    for (const cert of loaded.certificates) {
      certificates++;
      const ref = refs.get(cert.sha256);
      if (ref) ref.caseIds.push(kase.id);
      else refs.set(cert.sha256, { cert, caseIds: [kase.id] });
    }
  }
  /** The most recent last answer across the cases that track this certificate. */
  const lastFor = (ref: CertificateRef, kind: 'ocsp' | 'crl', url: string): Observation | undefined => {
    let best: Observation | undefined;
    for (const caseId of ref.caseIds) {
      const o = last.get(lastAnswerKey(caseId, ref.cert.sha256, kind, url));
      if (o && (!best || o.observedAt > best.observedAt)) best = o;
    }
    return best;
  };

  const sourceStates = await store.getSourceStates();
  const crlGroups = new Map<string, { url: string; issuerSha256: string; isCA: boolean; certificates: JobCertificate[]; allAnswered: boolean }>();
  const ocspJobs: OcspJob[] = [];
  let skippedExpired = 0;
  let skippedSettled = 0;
  for (const ref of refs.values()) {
    const c = ref.cert;
    // BR 4.10.1: entries may leave CRLs after expiry; an expired certificate is no longer polled.
    if (c.notAfter < now) {
      skippedExpired++;
      continue;
    }
    const sources = [...c.crlUrls.map((url) => ({ kind: 'crl' as const, url })), ...c.ocspUrls.map((url) => ({ kind: 'ocsp' as const, url }))];
    const settled = sources.some((s) => lastFor(ref, s.kind, s.url)?.status === 'revoked');
    let planned = false;
    for (const s of sources) {
      const prev = lastFor(ref, s.kind, s.url);
      if (settled && prev && prev.observedAt + settledInterval > now) continue;
      planned = true;
      const certificate: JobCertificate = { sha256: c.sha256, serial: c.serial, caseIds: ref.caseIds, previous: previousAnswer(prev) };
      if (s.kind === 'crl') {
        const key = `${s.url}|${c.issuerSha256}`;
        const g = crlGroups.get(key) ?? { url: s.url, issuerSha256: c.issuerSha256, isCA: c.isCA, certificates: [], allAnswered: true };
        g.certificates.push(certificate);
        if (prev === undefined || prev.status === 'error') g.allAnswered = false;
        crlGroups.set(key, g);
      } else {
        ocspJobs.push({ kind: 'ocsp', url: s.url, issuerSha256: c.issuerSha256, certificate });
      }
    }
    if (settled && !planned) skippedSettled++;
  }

  const crlJobs: CrlJob[] = [...crlGroups.values()].map((g) => {
    const state = sourceStates.get(sourceKey('crl', g.url));
    // A conditional GET only helps when every certificate already has an answer from this CRL:
    // a 304 carries no answers for the new ones.
    const conditional = g.allAnswered && state?.ok ? state : null;
    return { kind: 'crl', url: g.url, issuerSha256: g.issuerSha256, certificatesAreCAs: g.isCA, conditional, certificates: g.certificates };
  });
  return { startedAt: now, cases, certificates, skippedExpired, skippedSettled, crlJobs, ocspJobs, refs, last };
}
