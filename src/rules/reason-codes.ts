/**
 * Reason-code findings: what the CRLReason of a revoked certificate must be,
 * per certificate kind, judged on the revocation date the CA published (or on
 * the date given to `status --rules-as-of`).
 *
 * - Subordinate CA certificates (TLS from BR 1.7.1, 2020-09-30; S/MIME and
 *   code signing from CCADB Policy 2.1 section 3, 2026-03-20): every CRL entry
 *   and OCSP response carries a reasonCode, and it is not unspecified (0).
 * - TLS subscriber certificates: the CRLReason the reason calls for, from
 *   2022-10-01 (MRSP 2.8 section 6.1.1) and from 2023-07-15 (BR 1.8.7, SC061).
 *   A subscriber's own request may name keyCompromise, affiliationChanged,
 *   superseded or cessationOfOperation, or none (BR 4.9.1.1 #1, 7.2.2).
 *   keyCompromise is never held against a CA: BR 7.2.2 says it SHOULD update
 *   the entry to keyCompromise once it has evidence of key compromise.
 */
import type { Case, CertKind, Observation, ReasonSlug, TrackedCertificate } from '../domain.js';
import { reasonName } from '../pki/oids.js';
import { MOZILLA_TLS_REASON_CODES_FROM, TLS_ALLOWED_REASON_CODES, TLS_CRL_REASON, TLS_REASON_CODES_FROM } from './rules.js';
import type { Finding } from './verdict.js';

const KEY_COMPROMISE = 1;
const CERTIFICATE_HOLD = 6;

/** Codes a subscriber may choose for its own request (BR 7.2.2); null is no reasonCode (unspecified). */
export const SUBSCRIBER_REQUEST_CODES: ReadonlySet<number | null> = new Set([null, 1, 3, 4, 5]);

interface Duty {
  readonly from: number;
  readonly citation: string;
}

/** From when a revoked subordinate CA must carry a reasonCode, per kind. */
export const CA_REASON_CODE_DUTIES: Readonly<Partial<Record<CertKind, Duty>>> = {
  'tls-subca': { from: Date.parse('2020-09-30T00:00:00Z'), citation: 'BR 7.2.2 and 7.3 (from BR 1.7.1), CCADB Policy 2.1 section 3' },
  'smime-subca': { from: Date.parse('2026-03-20T00:00:00Z'), citation: 'CCADB Policy 2.1 section 3' },
  'codesigning-subca': { from: Date.parse('2026-03-20T00:00:00Z'), citation: 'CCADB Policy 2.1 section 3' },
};

/**
 * Reasons for which MRSP 2.8 section 6.1.1 itself names the CRLReason; for
 * the others, revocations between 2022-10-01 and 2023-07-15 are measured
 * against BR 1.8.7's later table only as a warning.
 */
const MRSP_NAMED: ReadonlySet<ReasonSlug> = new Set<ReasonSlug>([
  'key-compromise',
  'weak-key',
  'domain-validation',
  'domain-no-longer-permitted',
  'misuse',
  'agreement-violation',
  'subscriber-request',
]);

function tlsDuty(at: number): (Duty & { regime: 'mrsp' | 'br' }) | null {
  if (at >= TLS_REASON_CODES_FROM)
    return { from: TLS_REASON_CODES_FROM, citation: 'BR 4.9.1.1, 7.2.2 (from BR 1.8.7, SC061)', regime: 'br' };
  if (at >= MOZILLA_TLS_REASON_CODES_FROM)
    return { from: MOZILLA_TLS_REASON_CODES_FROM, citation: 'MRSP 2.8 section 6.1.1 (revocations from 2022-10-01)', regime: 'mrsp' };
  return null;
}

const describe = (code: number | null): string => (code === null ? 'no reasonCode (unspecified)' : reasonName(code)!);

export function isCaKind(kind: CertKind): boolean {
  return kind in CA_REASON_CODE_DUTIES;
}

export function reasonCodeFindings(
  kase: Case,
  _cert: TrackedCertificate,
  revokedObservations: readonly Observation[],
  options: { rulesAsOf?: number } = {},
): Finding[] {
  const out: Finding[] = [];
  for (const o of revokedObservations) {
    const code = o.reasonCode;
    const where = `${o.source.kind.toUpperCase()} ${o.source.url}`;
    if (code !== null && (code < 0 || code > 10 || code === 7)) {
      out.push({
        code: 'reason_code_invalid',
        severity: 'violation',
        message: `${where} carries reasonCode ${code}, which RFC 5280 5.3.1 does not define`,
      });
      continue;
    }
    if (o.revocationTime === null) continue;
    const at = options.rulesAsOf ?? o.revocationTime;

    const caDuty = CA_REASON_CODE_DUTIES[kase.kind];
    if (caDuty) {
      if (at < caDuty.from) continue;
      if (code === null || code === 0) {
        out.push({
          code: 'reason_code_missing',
          severity: 'violation',
          message: `${where} gives ${code === null ? 'no reasonCode' : 'reasonCode unspecified'} for a revoked subordinate CA certificate; ${caDuty.citation} require one that is not unspecified`,
        });
      } else if (code === CERTIFICATE_HOLD) {
        out.push({
          code: 'reason_code_invalid',
          severity: 'warning',
          message: `${where} carries certificateHold, which BR 7.2.2 does not allow`,
        });
      }
      continue;
    }

    if (kase.kind !== 'tls-subscriber') continue;
    const duty = tlsDuty(at);
    if (!duty) continue;
    if (code !== null && !TLS_ALLOWED_REASON_CODES.has(code)) {
      out.push({
        code: 'reason_code_invalid',
        severity: 'warning',
        message: `${where} carries ${reasonName(code)}, which ${duty.citation} does not allow for subscriber certificates`,
      });
      continue;
    }
    if (kase.reason === 'subscriber-request' ? SUBSCRIBER_REQUEST_CODES.has(code) : code === TLS_CRL_REASON[kase.reason]) continue;
    const expected =
      kase.reason === 'subscriber-request'
        ? 'no reasonCode, keyCompromise, affiliationChanged, superseded or cessationOfOperation'
        : describe(TLS_CRL_REASON[kase.reason]);
    if (code === KEY_COMPROMISE) {
      out.push({
        code: 'reason_code_mismatch',
        severity: 'info',
        message: `${where} gives keyCompromise where the case's reason (${kase.reason}) calls for ${expected}; BR 7.2.2 has the CA update the entry to keyCompromise once it has evidence of key compromise, so this is not held against it`,
      });
      continue;
    }
    const severity = duty.regime === 'br' || MRSP_NAMED.has(kase.reason) ? 'violation' : 'warning';
    out.push({
      code: 'reason_code_mismatch',
      severity,
      message: `${where} gives ${describe(code)}; the case's reason (${kase.reason}) calls for ${expected} (${duty.citation}${severity === 'warning' ? "; MRSP 2.8 names no code for this reason, so BR 1.8.7's table is applied as a warning" : ''})`,
    });
  }
  return out;
}
