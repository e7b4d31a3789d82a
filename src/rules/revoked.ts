/**
 * What counts as "revoked" under a rule version (rule-versions.ts).
 *
 * - any-source (BR 4.9.5 as it stands): any verified CRL or OCSP answer.
 * - crl-and-ocsp (servercert PR 622, draft): listed on the CRL and, where
 *   the certificate has an OCSP URI, revoked in OCSP too. Until both say so
 *   the certificate is not revoked, and revocation is published only when the
 *   later of the two first said so.
 */
import type { Observation, TrackedCertificate } from '../domain.js';
import type { RuleVersion } from './rule-versions.js';

/** The revoked answers that make the certificate count as revoked; empty when it does not. */
export function countedRevocations(version: RuleVersion, cert: Pick<TrackedCertificate, 'ocspUrls'>, revoked: readonly Observation[]): readonly Observation[] {
  if (version.revokedMeans === 'any-source') return revoked;
  const onCrl = revoked.some((o) => o.source.kind === 'crl');
  const inOcsp = cert.ocspUrls.length === 0 || revoked.some((o) => o.source.kind === 'ocsp');
  return onCrl && inOcsp ? revoked : [];
}

/**
 * The earliest time the revocation was vouched for as published: a signed
 * "good" vouched for before it shows a claimed revocation time was not yet
 * published (the evidence bound). Under crl-and-ocsp, publication is complete
 * only when the later of the two sources first said revoked.
 */
export function firstRevocationEvidence(version: RuleVersion, counted: readonly Observation[], evidenceTime: (o: Observation) => number): number {
  if (version.revokedMeans === 'any-source') return Math.min(...counted.map(evidenceTime));
  const firstOf = (kind: 'crl' | 'ocsp'): number[] => {
    const times = counted.filter((o) => o.source.kind === kind).map(evidenceTime);
    return times.length ? [Math.min(...times)] : [];
  };
  return Math.max(...firstOf('crl'), ...firstOf('ocsp'));
}
