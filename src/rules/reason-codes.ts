/**
 * Reason-code findings: what the CRLReason of a revoked certificate must be,
 * per certificate kind, judged on the revocation date the CA published (or on
 * the date given to `status --rules-as-of`).
 *
 * - Subordinate CA certificates: every CRL entry and OCSP response carries a
 *   reasonCode, and it is not unspecified (0): TLS from BR 1.7.1
 *   (2020-09-30), S/MIME from S/MIME BR 1.0.0 (2023-09-01), code signing
 *   from CCADB Policy 2.0 section 3.2 (2025-07-15).
 * - An explicit unspecified (0) on a subscriber entry: BR 7.2.2 from 1.7.1
 *   (2020-09-30), S/MIME BR 7.2.2 from 1.0.0 (2023-09-01).
 * - certificateHold (6): a suspension, never a revocation (evidence.ts does
 *   not count it as revoked); forbidden outright for TLS (BR 4.9.13), for
 *   S/MIME CA certificates, for S/MIME subscriber certificates of the Strict
 *   generation (their certificatePolicies, read at `track`) and, from
 *   2023-09-15, for code signing (CSBR 4.9.13).
 * - TLS subscriber certificates: the CRLReason the reason calls for, from
 *   2022-10-01 (MRSP 2.8 section 6.1.1) and from 2023-07-15 (BR 1.8.7, SC061).
 *   A subscriber's own request may name keyCompromise, affiliationChanged,
 *   superseded or cessationOfOperation, or none (BR 4.9.1.1 #1, 7.2.2).
 *   keyCompromise is never held against a CA: BR 7.2.2 says it SHOULD update
 *   the entry to keyCompromise once it has evidence of key compromise.
 *   A code that is itself a finding (0, 6, one outside the allowed set) is
 *   still measured against the code the reason calls for: one finding never
 *   hides another.
 */
import type { Case, CertKind, Observation, ReasonSlug, TrackedCertificate } from '../domain.js';
import { reasonName } from '../pki/oids.js';
import { MOZILLA_TLS_REASON_CODES_FROM, TLS_ALLOWED_REASON_CODES, TLS_CRL_REASON, TLS_REASON_CODES_FROM } from './rules.js';
import type { Finding } from './verdict.js';

const UNSPECIFIED = 0;
const KEY_COMPROMISE = 1;
export const CERTIFICATE_HOLD = 6;

/** Codes a subscriber may choose for its own request (BR 7.2.2); null is no reasonCode (unspecified). */
export const SUBSCRIBER_REQUEST_CODES: ReadonlySet<number | null> = new Set([null, 1, 3, 4, 5]);

export interface ReasonCodeDuty {
  /** In force for revocations from this instant; null: in every text revwatch encodes. */
  readonly from: number | null;
  readonly citation: string;
}

const from = (iso: string): number => Date.parse(iso);
const inForce = (duty: ReasonCodeDuty | undefined, at: number): duty is ReasonCodeDuty =>
  duty !== undefined && (duty.from === null || at >= duty.from);

/** From when a revoked subordinate CA must carry a reasonCode that is not unspecified, per kind. */
export const CA_REASON_CODE_DUTIES: Readonly<Partial<Record<CertKind, ReasonCodeDuty>>> = {
  // BR 1.7.1 7.2.2: "If a CRL entry is for a Root CA or Subordinate CA Certificate, this CRL entry extension MUST be present."
  'tls-subca': { from: from('2020-09-30T00:00:00Z'), citation: 'BR 7.2.2 and 7.3 (from BR 1.7.1), CCADB Policy 2.1 section 3' },
  // S/MIME BR 1.0.0 7.2.2: "this CRL entry extension SHALL be present"; "The CRLReason indicated SHALL NOT be unspecified (0)".
  'smime-subca': {
    from: from('2023-09-01T00:00:00Z'),
    citation: 'S/MIME BR 7.2.2 and 7.3 (from 1.0.0), CCADB Policy 2.1 section 3, Microsoft Trusted Root Program Requirements 2.1.7',
  },
  // CCADB Policy 2.0 section 3.2 (2025-07-15): the CRL entry of a revoked CA certificate "MUST include a reasonCode extension".
  'codesigning-subca': {
    from: from('2025-07-15T00:00:00Z'),
    citation: 'CCADB Policy 2.0 section 3.2 (from 2025-07-15), 2.1 section 3, Microsoft Trusted Root Program Requirements 2.1.7',
  },
};

/** From when an explicit unspecified (0) on a subscriber certificate's entry is forbidden, per kind. */
export const UNSPECIFIED_FORBIDDEN: Readonly<Partial<Record<CertKind, ReasonCodeDuty>>> = {
  // BR 1.7.1 7.2.2: "The CRLReason indicated MUST NOT be unspecified (0)"; BR 2.x 7.2.2: unspecified is
  // "Represented by the omission of a reasonCode", which "MUST be omitted".
  'tls-subscriber': {
    from: from('2020-09-30T00:00:00Z'),
    citation: 'BR 7.2.2 (from BR 1.7.1: "The CRLReason indicated MUST NOT be unspecified (0)")',
  },
  // S/MIME BR 1.0.0 7.2.2: "The CRLReason indicated SHALL NOT be unspecified (0)."
  'smime-subscriber': {
    from: from('2023-09-01T00:00:00Z'),
    citation: 'S/MIME BR 7.2.2 (from 1.0.0: "The CRLReason indicated SHALL NOT be unspecified (0)")',
  },
};

/** Where a certificateHold entry is forbidden, per kind. Elsewhere it is still a suspension, not a revocation. */
export const SUSPENSION_FORBIDDEN: Readonly<Partial<Record<CertKind, ReasonCodeDuty>>> = {
  // BR 4.9.13 (already in BR 1.3.1): "The Repository MUST NOT include entries that indicate that a Certificate is suspended."
  // BR 1.7.1 7.2.2: "If a CRL entry is for a Certificate subject to these Requirements, the CRLReason MUST NOT be certificateHold (6)."
  'tls-subscriber': {
    from: null,
    citation: 'BR 4.9.13 ("MUST NOT include entries that indicate that a Certificate is suspended") and 7.2.2',
  },
  'tls-subca': { from: null, citation: 'BR 4.9.13 ("MUST NOT include entries that indicate that a Certificate is suspended") and 7.2.2' },
  // S/MIME BR 1.0.0 7.2.2: "The CRLreason of certificateHold (6) SHALL NOT be used for Root CA or Subordinate CA Certificates."
  'smime-subca': {
    from: from('2023-09-01T00:00:00Z'),
    citation: 'S/MIME BR 7.2.2 (certificateHold "SHALL NOT be used for Root CA or Subordinate CA Certificates")',
  },
  // CSBR 4.9.13: "Effective 2023-09-15, the Repository MUST NOT include entries that indicate that a Certificate is suspended."
  'codesigning-subscriber': {
    from: from('2023-09-15T00:00:00Z'),
    citation: 'CSBR 4.9.13 ("Effective 2023-09-15, the Repository MUST NOT include entries that indicate that a Certificate is suspended")',
  },
  'codesigning-subca': {
    from: from('2023-09-15T00:00:00Z'),
    citation: 'CSBR 4.9.13 ("Effective 2023-09-15, the Repository MUST NOT include entries that indicate that a Certificate is suspended")',
  },
};

/**
 * Reasons MRSP 2.8 section 6.1.1 names no CRLReason for. For every other
 * reason it requires one with MUST: keyCompromise (key compromise, weak and
 * flawed keys), privilegeWithdrawn (misuse, agreement violations,
 * unauthorized requests, wildcard fraud, material changes, inaccurate
 * information), superseded ("domain authorization or compliance issues":
 * domain validation, CAA, misissuance, key policy), cessationOfOperation
 * (domains no longer permitted). For these two, revocations between
 * 2022-10-01 and 2023-07-15 are measured against BR 1.8.7's table only as a
 * warning.
 */
const MRSP_UNNAMED: ReadonlySet<ReasonSlug> = new Set<ReasonSlug>(['ca-rights-terminated', 'cps-required']);

function tlsDuty(at: number): (ReasonCodeDuty & { regime: 'mrsp' | 'br' }) | null {
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

/**
 * S/MIME BR 1.0.0 7.2.2: "The Repository SHALL NOT include CRL entries that have a CRLreason of
 * certificateHold (6) for Certificates that include the Certificate Policy identifiers for the Strict
 * Generation." The Strict identifiers (7.1.6.1) are 2.23.140.1.5.{1,2,3,4}.3: mailbox-, organization-,
 * sponsor- and individual-validated.
 */
export const SMIME_STRICT_POLICY_OIDS: ReadonlySet<string> = new Set([
  '2.23.140.1.5.1.3',
  '2.23.140.1.5.2.3',
  '2.23.140.1.5.3.3',
  '2.23.140.1.5.4.3',
]);
const SMIME_STRICT_HOLD: ReasonCodeDuty = {
  from: from('2023-09-01T00:00:00Z'),
  citation:
    'S/MIME BR 7.2.2 (from 1.0.0: "The Repository SHALL NOT include CRL entries that have a CRLreason of certificateHold (6) for Certificates that include the Certificate Policy identifiers for the Strict Generation")',
};

/** The duty against certificateHold for this certificate: by kind, or for an S/MIME Strict-generation subscriber certificate. */
function suspensionDuty(kind: CertKind, cert: TrackedCertificate): ReasonCodeDuty | undefined {
  if (kind === 'smime-subscriber' && cert.policyOids?.some((oid) => SMIME_STRICT_POLICY_OIDS.has(oid))) return SMIME_STRICT_HOLD;
  return SUSPENSION_FORBIDDEN[kind];
}

function suspensionFinding(kind: CertKind, cert: TrackedCertificate, at: number, where: string): Finding {
  const duty = suspensionDuty(kind, cert);
  const notRevoked = 'a suspension is not a revocation, so the certificate is not counted as revoked';
  return inForce(duty, at)
    ? {
        code: 'reason_code_invalid',
        severity: 'violation',
        message: `${where} carries certificateHold, which ${duty.citation} forbid; ${notRevoked}`,
      }
    : {
        code: 'reason_code_invalid',
        severity: 'warning',
        message: `${where} carries certificateHold (${kind === 'smime-subscriber' ? 'S/MIME BR 7.2.2 allows it for the Legacy and Multipurpose generations only' : 'a suspension'}); ${notRevoked}`,
      };
}

export function reasonCodeFindings(
  kase: Case,
  cert: TrackedCertificate,
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

    if (code === CERTIFICATE_HOLD) out.push(suspensionFinding(kase.kind, cert, at, where));

    const caDuty = CA_REASON_CODE_DUTIES[kase.kind];
    if (caDuty) {
      if (inForce(caDuty, at) && (code === null || code === UNSPECIFIED)) {
        out.push({
          code: 'reason_code_missing',
          severity: 'violation',
          message: `${where} gives ${code === null ? 'no reasonCode' : 'reasonCode unspecified'} for a revoked subordinate CA certificate; ${caDuty.citation} require one that is not unspecified`,
        });
      }
      continue;
    }

    const unspecifiedDuty = UNSPECIFIED_FORBIDDEN[kase.kind];
    if (code === UNSPECIFIED && inForce(unspecifiedDuty, at)) {
      out.push({
        code: 'reason_code_invalid',
        severity: 'violation',
        message: `${where} carries reasonCode unspecified (0), which ${unspecifiedDuty.citation} forbids: an unspecified reason is expressed by omitting the reasonCode`,
      });
    }

    if (kase.kind !== 'tls-subscriber') continue;
    const duty = tlsDuty(at);
    if (!duty) continue;
    if (code !== null && code !== UNSPECIFIED && code !== CERTIFICATE_HOLD && !TLS_ALLOWED_REASON_CODES.has(code)) {
      // MRSP 2.8 section 6.1.1: "when the CRLReason code is not one of the following, the reasonCode extension MUST NOT be provided".
      const mrsp = duty.regime === 'mrsp';
      out.push({
        code: 'reason_code_invalid',
        severity: mrsp ? 'violation' : 'warning',
        message: mrsp
          ? `${where} carries ${reasonName(code)}; ${duty.citation}: "when the CRLReason code is not one of the following, the reasonCode extension MUST NOT be provided"`
          : `${where} carries ${reasonName(code)}, which ${duty.citation} does not allow for subscriber certificates`,
      });
    }
    // An explicit unspecified is judged, as to its meaning, like the omission it should have been.
    const meant = code === UNSPECIFIED ? null : code;
    if (kase.reason === 'subscriber-request' ? SUBSCRIBER_REQUEST_CODES.has(meant) : meant === TLS_CRL_REASON[kase.reason]) continue;
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
    const severity = duty.regime === 'br' || !MRSP_UNNAMED.has(kase.reason) ? 'violation' : 'warning';
    out.push({
      code: 'reason_code_mismatch',
      severity,
      message: `${where} gives ${describe(code)}; the case's reason (${kase.reason}) calls for ${expected} (${duty.citation}${severity === 'warning' ? "; MRSP 2.8 names no code for this reason, so BR 1.8.7's table is applied as a warning" : ''})`,
    });
  }
  return out;
}
