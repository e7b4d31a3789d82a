/**
 * The core's vocabulary: cases, tracked certificates and observations, as
 * docs/data-model.md describes how they are stored. Times are epoch milliseconds (UTC).
 */

export const CERT_KINDS = [
  'tls-subscriber',
  'tls-subca',
  'smime-subscriber',
  'smime-subca',
  'codesigning-subscriber',
  'codesigning-subca',
] as const;
export type CertKind = (typeof CERT_KINDS)[number];

/** Reason slugs (docs/rules.md; BR 4.9.1.1 numbering as of BR 2.2.x, plus code signing's Suspect Code). */
export const REASON_SLUGS = [
  'subscriber-request',
  'unauthorized-request',
  'key-compromise',
  'weak-key',
  'domain-validation',
  'caa-failure',
  'key-policy',
  'misuse',
  'agreement-violation',
  'domain-no-longer-permitted',
  'wildcard-fraud',
  'material-change',
  'misissuance',
  'inaccurate-information',
  'ca-rights-terminated',
  'cps-required',
  'key-generation-flawed',
  'suspect-code',
] as const;
export type ReasonSlug = (typeof REASON_SLUGS)[number];

export interface Case {
  readonly id: string;
  readonly title: string;
  /** When the CA was made aware: the clock start (BR 4.9.5). */
  readonly reportedAt: number;
  /** When the CA confirmed the problem, if known (Let's Encrypt counted from confirmation in 2020). */
  readonly confirmedAt?: number | null;
  readonly reason: ReasonSlug;
  readonly kind: CertKind;
  readonly reportUrl?: string | null;
  readonly notify?: readonly string[];
  /**
   * The root program that notified the CA, when the report came from one
   * (`microsoft`): its own deadline can be shorter than the BR's (see
   * src/rules/programs.ts). A fact of the case, like the reason.
   */
  readonly notifiedBy?: string | null;
  /** When that program's notice came, when later than the report (`--notified-at`): its deadline counts from it. */
  readonly notifiedAt?: number | null;
  /**
   * The CA's separate delayed-revocation incident report, once known (CCADB
   * Incident Reporting Guidelines 3.0+): the digest lists missed deadlines
   * without one.
   */
  readonly delayedReportUrl?: string | null;
  /** When the CA sent its preliminary report on a Certificate Problem Report (BR 4.9.5), if known (`--preliminary-report-at`). */
  readonly preliminaryReportAt?: number | null;
  /** The CA sent no preliminary report (`--preliminary-report-at none`): late once the 24 hours have passed. */
  readonly noPreliminaryReport?: boolean;
  /** A fixed-date rule (src/rules/fixed-date.ts, `track --rule`): its date is the deadline, not hours after the report. */
  readonly rule?: string | null;
}

export interface TrackedCertificate {
  readonly sha256: string;
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly precertificate: boolean;
  readonly ocspUrls: readonly string[];
  readonly crlUrls: readonly string[];
  /** CRL URLs given by hand at `track` (--crl-url): polled like the certificate's own CDPs (revocation-sources.ts). */
  readonly givenCrlUrls?: readonly string[];
  /** OCSP responder URLs given by hand at `track` (--ocsp-url). */
  readonly givenOcspUrls?: readonly string[];
  /**
   * CRLs the issuer disclosed in the CCADB (the full CRL, or every shard of a partitioned set), attached by
   * the planner from the latest imported disclosure; used only when the certificate has no CDP.
   */
  readonly disclosedCrlUrls?: readonly string[];
  /** The disclosed CRLs are shards of a partitioned set: each must carry a critical IDP naming its URL (RFC 5280 5.2.5). */
  readonly disclosedCrlsPartitioned?: boolean;
  /** When the CCADB disclosure behind disclosedCrlUrls was last imported (epoch ms), attached with them (ccadb_disclosure_stale). */
  readonly disclosureImportedAt?: number;
  /** Its signature algorithm (e.g. `sha1WithRSAEncryption`), read at `track`; absent on certificates tracked before (src/rules/sha1-sunset.ts). */
  readonly signatureAlgorithm?: string | null;
  /** Its certificatePolicies OIDs, read at `track` (the S/MIME generation, S/MIME BR 7.1.6.1); absent when none or tracked before. */
  readonly policyOids?: readonly string[];
  /**
   * 'appendix': tracked from a CA's incident appendix (`track --appendix`, CCADB Incident Reporting Guidelines,
   * "Appendix") by issuer and serial, without the certificate itself: notBefore, notAfter, subject and dNSNames
   * are what the CA wrote in the row, not read from a certificate, and the reports say so. Absent when read from
   * the certificate.
   */
  readonly validityFrom?: 'appendix';
  /**
   * The appendix row gave neither SHA-256: `sha256` is then derived from the issuer and the serial
   * (src/track/appendix.ts), an id and not a fingerprint, and no report links or prints it as one.
   */
  readonly idFromSerial?: boolean;
}

export type ObservationStatus = 'good' | 'revoked' | 'unknown' | 'error';

/**
 * One answer from one source at one time. Only good/revoked/unknown are
 * verified evidence; `error` records that a source could not be read or did
 * not verify (bad signature, timeout, garbage...).
 */
export interface Observation {
  readonly observedAt: number;
  readonly source: { readonly kind: 'ocsp' | 'crl'; readonly url: string };
  readonly status: ObservationStatus;
  readonly revocationTime: number | null;
  readonly reasonCode: number | null;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  /** OCSP producedAt; null for CRLs. */
  readonly producedAt: number | null;
  readonly crlNumber?: string | null;
  readonly signer?: string | null;
  /** SHA-256 of the raw response or CRL. */
  readonly sha256?: string | null;
  readonly error?: { readonly kind: string; readonly message: string } | null;
  /**
   * The CRL's signature algorithm (e.g. `sha1WithRSAEncryption`): BR 7.1.3.2.1 (2.2.5, SC097) ends
   * RSASSA-PKCS1-v1_5 with SHA-1 on 2026-09-15. Optional: answers recorded before it have none.
   */
  readonly signatureAlgorithm?: string | null;
  /**
   * A CRL that lists the certificate's serial more than once: every revocationDate it gives, in the order listed
   * (revocationTime is the earliest). Absent when the serial is listed once, and on every other answer.
   */
  readonly listedRevocationDates?: readonly number[] | null;
  /**
   * Evidence that predates tracking, taken from the sweep's revocation index when the certificate was tracked
   * (track/index-evidence.ts): the answer the swept CRL snapshot gave, re-verified then from the archived
   * bytes. Absent on every answer a check read itself.
   */
  readonly sweepIndex?: SweepIndexOrigin | null;
}

/** Where an index-derived answer comes from: the sweep that first read a CRL listing the serial, and the bracket's other end. */
export interface SweepIndexOrigin {
  /** The sweep that first read a CRL of this URL listing the serial (its read time is the answer's observedAt). */
  readonly firstSeenSweep: number;
  /** The last sweep that read this URL's CRL without the serial before that, and when it ran; null when there was none. */
  readonly notListedSweep: number | null;
  readonly notListedAt: number | null;
}

/**
 * An observation as stored and compared: exactly its own fields, every
 * optional one present (null when absent), nothing that rode along (raw bytes,
 * the certificate's hash on a stored copy).
 */
export function plainObservation(o: Observation): Observation {
  return {
    observedAt: o.observedAt,
    source: { kind: o.source.kind, url: o.source.url },
    status: o.status,
    revocationTime: o.revocationTime,
    reasonCode: o.reasonCode,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    producedAt: o.producedAt,
    crlNumber: o.crlNumber ?? null,
    signer: o.signer ?? null,
    sha256: o.sha256 ?? null,
    error: o.error ? { kind: o.error.kind, message: o.error.message } : null,
    // Present only when known, so the many answers without it (OCSP, older records) keep their shape.
    ...(o.signatureAlgorithm ? { signatureAlgorithm: o.signatureAlgorithm } : {}),
    ...(o.listedRevocationDates && o.listedRevocationDates.length > 1 ? { listedRevocationDates: [...o.listedRevocationDates] } : {}),
    ...(o.sweepIndex
      ? {
          sweepIndex: {
            firstSeenSweep: o.sweepIndex.firstSeenSweep,
            notListedSweep: o.sweepIndex.notListedSweep,
            notListedAt: o.sweepIndex.notListedAt,
          },
        }
      : {}),
  };
}
