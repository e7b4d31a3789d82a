/**
 * A polling index as an upgrade finds it: certificates of one issuer on one CRL (every other one also on an OCSP
 * responder), their answers, and what planning makes of them (jobs, verdicts) in a form two plans can be compared
 * in. The local migration on open (poll-migration.test.ts) and the AWS backfill (poll-backfill.test.ts) both
 * check that planning after the upgrade equals planning before it.
 */
import type { CheckPlan } from '../../src/check/plan.js';
import type { Observation } from '../../src/domain.js';
import type { StoredCertificate, StoredObservation } from '../../src/ports/store.js';
import { recordObservations } from '../../src/rules/evidence.js';
import { verdictAt, verdictOf } from '../../src/rules/verdict.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2026-06-01T00:00:00Z');
export const CRL = 'http://127.0.0.1:9/ca.crl';
export const OCSP = 'http://127.0.0.1:9/ocsp';
export const ISSUER = 'cd'.repeat(32);

export function cert(i: number, caseId: string, over: Partial<StoredCertificate> = {}): StoredCertificate {
  return {
    caseId,
    sha256: `${i.toString(16).padStart(2, '0')}`.repeat(32),
    serial: (0x1000 + i).toString(16).padStart(32, '0'),
    subject: `CN=leaf${i}.example`,
    issuer: 'CN=Example CA',
    notBefore: T0 - 100 * DAY,
    notAfter: T0 + 200 * DAY,
    precertificate: false,
    ocspUrls: i % 2 === 0 ? [OCSP] : [],
    crlUrls: [CRL],
    issuerSha256: ISSUER,
    isCA: false,
    trackedAt: T0 - 3 * DAY,
    ...over,
  };
}

export function answer(
  c: StoredCertificate,
  kind: 'crl' | 'ocsp',
  at: number,
  status: Observation['status'],
  revokedAt: number | null = null,
): StoredObservation {
  return {
    sha256Cert: c.sha256,
    observedAt: at,
    source: { kind, url: kind === 'crl' ? CRL : OCSP },
    status,
    revocationTime: status === 'revoked' ? revokedAt : null,
    reasonCode: status === 'revoked' ? 1 : null,
    thisUpdate: status === 'error' ? null : at - HOUR,
    nextUpdate: status === 'error' ? null : at + 6 * DAY,
    producedAt: kind === 'ocsp' && status !== 'error' ? at - 60_000 : null,
    crlNumber: kind === 'crl' && status !== 'error' ? '7' : null,
    signer: status === 'error' ? null : 'ca',
    sha256: kind === 'crl' && status !== 'error' ? 'ee'.repeat(32) : null,
    error: status === 'error' ? { kind: 'http', message: 'HTTP 503' } : null,
  };
}

/** What a job says about its certificates, whichever way the planner read them. */
export function jobsOf(plan: CheckPlan): unknown {
  const certs = (
    list: readonly {
      sha256: string;
      serial: string;
      notAfter: number;
      caseIds: readonly string[];
      previous: unknown;
      sources: number;
      settled?: boolean;
    }[],
  ) =>
    list
      .map((c) => ({
        sha256: c.sha256,
        serial: c.serial,
        notAfter: c.notAfter,
        caseIds: [...c.caseIds].sort(),
        previous: c.previous,
        sources: c.sources,
        settled: c.settled ?? false,
      }))
      .sort((a, b) => a.sha256.localeCompare(b.sha256));
  return {
    crl: plan.crlJobs.map((j) => ({
      url: j.url,
      issuer: j.issuerSha256,
      cas: j.certificatesAreCAs,
      conditional: j.conditional !== null,
      certificates: certs(j.certificates),
    })),
    ocsp: plan.ocspJobs
      .map((j) => ({ url: j.url, issuer: j.issuerSha256, certificate: certs([j.certificate])[0] }))
      .sort((a, b) => a.certificate!.sha256.localeCompare(b.certificate!.sha256)),
    certificates: plan.certificates,
    retired: plan.retiredExpired,
  };
}

/** Each due certificate's verdict per case at `at`, as the local check counts them (run-check.ts judge). */
export function verdictsOf(plan: CheckPlan, at: number): Record<string, string> {
  const cases = new Map(plan.cases.map((c) => [c.id, c]));
  const out: Record<string, string> = {};
  for (const ref of plan.refs.values())
    for (const caseId of ref.caseIds)
      out[`${caseId} ${ref.cert.sha256}`] = ref.verdicts
        ? verdictAt(ref.verdicts.get(caseId)!, ref.cert.notAfter, at)
        : verdictOf(cases.get(caseId)!, ref.cert, recordObservations(ref.record), at);
  return out;
}
