/**
 * The end of RSASSA-PKCS1-v1_5 with SHA-1 in the TLS hierarchy (BR 2.2.5,
 * Ballot SC097, effective 2026-02-25; BR 7.1.3.2.1), read from the
 * certificate and the CRLs themselves, so a case need not name the rule:
 *
 * - a tracked Subordinate CA certificate signed sha1WithRSAEncryption and
 *   unexpired on 2026-09-15 must be revoked before that date ("Prior to
 *   2026-09-15, the CA SHALL revoke any unexpired Subordinate CA Certificate
 *   that contains RSASSA-PKCS1-v1_5 with SHA-1"). A case filed under the
 *   fixed-date rule (`track --rule sha1-subca-sunset`) is judged by that date
 *   already; any other `tls-subca` case gets the finding `sha1_subca_sunset`:
 *   info while the date is ahead (it names the rule), a violation once the
 *   date has passed with the certificate unrevoked. The case's own deadline
 *   and verdict are left as the report made them: a finding, not a second
 *   deadline, so tracking a certificate never changes a case's verdict
 *   behind the user's back.
 * - a CRL whose thisUpdate is on or after 2026-09-15 and which is signed
 *   sha1WithRSAEncryption is the violation `crl_signed_sha1`: the same
 *   section allows that encoding only "Until 2026-09-15" ("If used within a
 *   CRL, such as the signatureAlgorithm field of a CertificateList", and then
 *   only under conditions revwatch does not judge). Before the date nothing
 *   is said (pki/crl.ts already notes the weak algorithm).
 */
import type { Observation, TrackedCertificate } from '../domain.js';
import { iso } from '../time.js';
import { fixedDateRule } from './fixed-date.js';
import type { Finding } from './verdict.js';

/** The only RSASSA-PKCS1-v1_5 with SHA-1 AlgorithmIdentifier (RFC 4055 5; pki/signature.ts names it so). */
export const SHA1_WITH_RSA = 'sha1WithRSAEncryption';
const RULE = fixedDateRule('sha1-subca-sunset')!;
/** 2026-09-15T00:00:00Z: "Prior to 2026-09-15" ends here. */
export const SHA1_SUNSET = Date.parse(RULE.deadline);
const CITATION = `${RULE.section} (BR ${RULE.version})`;

/** A verified CRL answer from a CRL signed with RSASSA-PKCS1-v1_5 with SHA-1: the evidence record keeps the latest-issued. */
export const isSha1RsaCrlAnswer = (o: Observation): boolean =>
  o.source.kind === 'crl' && o.status !== 'error' && o.signatureAlgorithm === SHA1_WITH_RSA;

export function sha1SubCaFinding(
  kase: { kind: string; rule?: string | null },
  cert: TrackedCertificate,
  effectiveRevocationTime: number | null,
  now: number,
): Finding | null {
  if (kase.kind !== RULE.kind || kase.rule || cert.signatureAlgorithm !== SHA1_WITH_RSA) return null;
  // "unexpired": a certificate that expires before the date owes nothing.
  if (cert.notAfter < SHA1_SUNSET) return null;
  if (effectiveRevocationTime !== null && effectiveRevocationTime < SHA1_SUNSET) return null;
  const text = `${CITATION}: "Prior to 2026-09-15, the CA SHALL revoke any unexpired Subordinate CA Certificate that contains RSASSA-PKCS1-v1_5 with SHA-1"`;
  if (now < SHA1_SUNSET)
    return {
      code: 'sha1_subca_sunset',
      severity: 'info',
      message: `a Subordinate CA certificate signed with ${SHA1_WITH_RSA}: it must be revoked before ${iso(SHA1_SUNSET)} (${text}); \`track --rule ${RULE.id}\` judges it by that date`,
    };
  const when = effectiveRevocationTime === null ? 'not revoked' : `revoked only at ${iso(effectiveRevocationTime)}`;
  return {
    code: 'sha1_subca_sunset',
    severity: 'violation',
    message: `a Subordinate CA certificate signed with ${SHA1_WITH_RSA}, ${when}, past ${iso(SHA1_SUNSET)} (${text})`,
  };
}

export function sha1CrlFinding(source: { url: string; latestSha1RsaCrl: Observation | null }): Finding | null {
  const o = source.latestSha1RsaCrl;
  const issued = o?.thisUpdate ?? null;
  if (issued === null || issued < SHA1_SUNSET) return null;
  return {
    code: 'crl_signed_sha1',
    severity: 'violation',
    message: `the CRL at ${source.url} issued ${iso(issued)} is signed with ${SHA1_WITH_RSA}; ${CITATION} allows RSASSA-PKCS1-v1_5 with SHA-1 "Until 2026-09-15" ("If used within a CRL, such as the signatureAlgorithm field of a CertificateList")`,
  };
}
