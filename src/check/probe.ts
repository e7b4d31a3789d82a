/**
 * Probes: ask a CA's OCSP responder or CRL about certificates and turn the
 * answer into observations. A remote fault (down, timeout, garbage, bad
 * signature) is an observation with status `error`, never an exception, and
 * only a verified answer ever says good, revoked or unknown.
 */
import { REVOCATION_AFTER_THIS_UPDATE_MS, scanCrl, type CrlScan } from '../pki/crl.js';
import { iso } from '../time.js';
import { DerError } from '../pki/der.js';
import {
  OcspFormatError,
  buildOcspRequest,
  parseOcspResponse,
  verifyOcspResponse,
  type OcspIssuer,
  type OcspProblemCode,
  type OcspVerification,
} from '../pki/ocsp.js';
import type { RawCertificate } from '../pki/raw-certificate.js';
import type { FetchFailureKind, Fetcher } from '../ports/index.js';
import { fetchOcsp } from './fetch-ocsp.js';

/** Default size caps: OCSP responses are small; real CRLs reach 100 MB. */
export const DEFAULT_OCSP_MAX_BYTES = 64 * 1024;
export const DEFAULT_CRL_MAX_BYTES = 256 * 1024 * 1024;

export type ProbeErrorKind =
  | FetchFailureKind
  | 'response-status'
  | 'malformed'
  | 'bad-signature'
  | 'unauthorized-signer'
  | 'certid-mismatch'
  | 'unusable-crl'
  | 'wrong-distribution-point'
  | 'not-yet-valid'
  | 'unsupported'
  /** The answer dates a revocation after itself, or carries a date before 1950. */
  | 'implausible-time'
  /** One OCSP response says two different things about the certificate asked. */
  | 'conflicting-answers'
  /** A CRL that covers only some reasons (onlySomeReasons) does not list the certificate: its silence proves nothing. */
  | 'partial-crl';

export interface ProbeSource {
  readonly kind: 'ocsp' | 'crl';
  readonly url: string;
}

interface ProbeCommon {
  readonly source: ProbeSource;
  readonly serial: string;
  readonly checkedAt: number;
  /** SHA-256 of the raw response or CRL, when one was received. */
  readonly sha256: string | null;
}

export interface ProbeAnswer extends ProbeCommon {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime: number | null;
  readonly reasonCode: number | null;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  /** OCSP producedAt; null for CRLs. */
  readonly producedAt: number | null;
  readonly signer: 'issuer' | 'delegated' | 'crl-issuer';
  readonly crlNumber: string | null;
  /** A CRL's signature algorithm (BR 7.1.3.2.1); absent for OCSP. */
  readonly signatureAlgorithm?: string | null;
  /** A CRL listing the serial more than once: every revocationDate it gives (revocationTime is the earliest). */
  readonly listedRevocationDates?: readonly number[] | null;
  /** Non-fatal problems found in a verified answer (stale, weak algorithm, ...). */
  readonly problems: readonly string[];
  /** The raw OCSP response, kept as evidence (CRLs are referenced by hash and number). */
  readonly raw: Uint8Array | null;
}

export interface ProbeError extends ProbeCommon {
  readonly status: 'error';
  readonly error: { readonly kind: ProbeErrorKind; readonly message: string };
  readonly raw: Uint8Array | null;
}

export type ProbeOutcome = ProbeAnswer | ProbeError;

const OCSP_FATAL: Partial<Record<OcspProblemCode, ProbeErrorKind>> = {
  'response-status': 'response-status',
  'bad-signature': 'bad-signature',
  'unauthorized-signer': 'unauthorized-signer',
  'malformed-certificate': 'malformed',
  'certid-mismatch': 'certid-mismatch',
  'unsupported-signature-algorithm': 'unsupported',
  'unknown-critical-extension': 'unsupported',
  // RFC 6960 3.2: an answer whose thisUpdate or producedAt lies in the future
  // (beyond clock skew) is not accepted; its time claims cannot be believed.
  future: 'not-yet-valid',
  'time-before-1950': 'implausible-time',
  'revocation-after-answer': 'implausible-time',
  'conflicting-responses': 'conflicting-answers',
};

/** The reason recorded for an answer that could not be read: DER damage as is, anything else with its class. */
function unreadable(what: 'response' | 'CRL', err: unknown): string {
  if (err instanceof OcspFormatError) return err.message;
  if (err instanceof DerError) return `not ${what === 'CRL' ? 'a CRL' : 'an OCSP response'}: ${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  return `unreadable ${what} (${e.name}): ${e.message}`;
}

/** Clock skew tolerated before a CRL's thisUpdate counts as in the future (as for OCSP). */
const CRL_FUTURE_SKEW_MS = 5 * 60_000;

export interface OcspProbeInput {
  readonly url: string;
  readonly serial: string;
  readonly issuer: OcspIssuer;
  readonly fetcher: Fetcher;
  readonly now: () => number;
  readonly hash?: 'sha1' | 'sha256';
  readonly maxBytes?: number;
}

/**
 * Asks one responder about one certificate (fetchOcsp: POST, then GET when
 * the responder refuses POST).
 */
export async function probeOcsp(input: OcspProbeInput): Promise<ProbeOutcome> {
  const source: ProbeSource = { kind: 'ocsp', url: input.url };
  const request = buildOcspRequest(input.serial, input.issuer, input.hash ?? 'sha1');
  const maxBytes = input.maxBytes ?? DEFAULT_OCSP_MAX_BYTES;
  const fetched = await fetchOcsp(input.fetcher, input.url, request, maxBytes);
  const checkedAt = input.now();
  const common = { source, serial: input.serial, checkedAt };
  if (!fetched.ok) {
    return { ...common, status: 'error', sha256: null, raw: null, error: { kind: fetched.kind, message: fetched.message } };
  }
  const raw = fetched.body;
  let v: OcspVerification;
  try {
    v = verifyOcspResponse(parseOcspResponse(raw), { issuer: input.issuer, serial: input.serial, at: checkedAt });
  } catch (err) {
    // Whatever reading or verifying a remote answer throws is that source's
    // fault, recorded like garbage: an exception here would end the run for
    // every other source. A class other than DerError is named, so a parser
    // bug still shows in the record.
    return { ...common, status: 'error', sha256: fetched.sha256, raw, error: { kind: 'malformed', message: unreadable('response', err) } };
  }
  if (!v.trusted || !v.match || v.problems.some((p) => p.code === 'future')) {
    const fatal = v.problems.find((p) => OCSP_FATAL[p.code]) ?? v.problems[0];
    const kind = fatal ? (OCSP_FATAL[fatal.code] ?? 'malformed') : 'malformed';
    return { ...common, status: 'error', sha256: fetched.sha256, raw, error: { kind, message: fatal?.message ?? 'response not trusted' } };
  }
  const m = v.match;
  return {
    ...common,
    status: m.status,
    sha256: fetched.sha256,
    revocationTime: m.revocationTime,
    reasonCode: m.reasonCode,
    thisUpdate: m.thisUpdate,
    nextUpdate: m.nextUpdate,
    producedAt: v.producedAt,
    signer: v.signer ?? 'issuer',
    crlNumber: null,
    problems: v.problems.map((p) => p.code),
    raw,
  };
}

export interface CrlProbeInput {
  readonly url: string;
  readonly serials: readonly string[];
  /** The issuer of the certificates, which must have signed the CRL (indirect CRLs are not supported). */
  readonly issuer: RawCertificate;
  readonly fetcher: Fetcher;
  readonly now: () => number;
  /** Whether the certificates are CA certificates, for IDP scope checks (RFC 5280 5.2.5). */
  readonly certificatesAreCAs?: boolean;
  /** The CRL is a shard of a partitioned set: without a critical IDP naming `url` it proves nothing for these serials. */
  readonly requireIdp?: boolean;
  readonly maxBytes?: number;
  readonly etag?: string | null;
  readonly lastModified?: string | null;
}

export interface CrlProbeResult {
  readonly url: string;
  /** One outcome per serial asked, in order; empty when `notModified`. */
  readonly outcomes: readonly ProbeOutcome[];
  readonly notModified: boolean;
  readonly scan: CrlScan | null;
  readonly sha256: string | null;
  readonly bytes: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** The CRL itself, for callers that keep a copy (local mode evidence). */
  readonly raw: Uint8Array | null;
}

/** Fetches one CRL once and answers for every serial that points at it. */
export async function probeCrl(input: CrlProbeInput): Promise<CrlProbeResult> {
  const source: ProbeSource = { kind: 'crl', url: input.url };
  const fetched = await input.fetcher.fetch({
    url: input.url,
    maxBytes: input.maxBytes ?? DEFAULT_CRL_MAX_BYTES,
    etag: input.etag,
    lastModified: input.lastModified,
    purpose: 'crl',
  });
  const checkedAt = input.now();
  const errorAll = (kind: ProbeErrorKind, message: string, sha256: string | null): ProbeOutcome[] =>
    input.serials.map((serial) => ({ source, serial, checkedAt, status: 'error', sha256, raw: null, error: { kind, message } }));
  const base = { url: input.url, notModified: false, scan: null, raw: null, etag: null, lastModified: null };
  if (!fetched.ok) return { ...base, outcomes: errorAll(fetched.kind, fetched.message, null), sha256: null, bytes: 0 };
  if (fetched.notModified) {
    return { ...base, outcomes: [], notModified: true, sha256: null, bytes: 0, etag: fetched.etag, lastModified: fetched.lastModified };
  }
  const meta = {
    sha256: fetched.sha256,
    bytes: fetched.body.length,
    etag: fetched.etag,
    lastModified: fetched.lastModified,
    raw: fetched.body,
  };
  let scan: CrlScan;
  try {
    scan = await scanCrl(fetched.body, { serials: input.serials, issuer: input.issuer, at: checkedAt });
  } catch (err) {
    return { ...base, ...meta, outcomes: errorAll('malformed', unreadable('CRL', err), fetched.sha256) };
  }
  const scopeProblem =
    (input.requireIdp ? shardIdpProblem(scan, input.url) : null) ?? idpProblem(scan, input.url, input.certificatesAreCAs === true);
  // RFC 5280 6.3.3 (a)(1): thisUpdate after the time of checking: not yet valid.
  const future = scan.thisUpdate > checkedAt + CRL_FUTURE_SKEW_MS ? scan.problems.find((p) => p.code === 'not-yet-valid') : undefined;
  if (!scan.usable || scopeProblem || future) {
    const bad = scan.problems.find((p) => p.code === 'bad-signature' || p.code === 'issuer-name-mismatch');
    const kind: ProbeErrorKind = bad
      ? 'bad-signature'
      : scan.problems.some((p) => p.code === 'issuer-not-crl-signer')
        ? 'unauthorized-signer'
        : scopeProblem
          ? 'wrong-distribution-point'
          : future && scan.usable
            ? 'not-yet-valid'
            : 'unusable-crl';
    const message = scopeProblem ?? scan.problems.map((p) => p.message).join('; ');
    return { ...base, ...meta, scan, outcomes: errorAll(kind, message, fetched.sha256) };
  }
  const problems = scan.problems.map((p) => p.code);
  const partial = scan.issuingDistributionPoint?.onlySomeReasons === true;
  const outcomes: ProbeOutcome[] = input.serials.map((serial): ProbeOutcome => {
    const hit = scan.matches.get(serial);
    const refuse = (kind: ProbeErrorKind, message: string): ProbeOutcome => ({
      source,
      serial,
      checkedAt,
      status: 'error',
      sha256: fetched.sha256,
      raw: null,
      error: { kind, message },
    });
    if (hit && hit.revocationDate > scan.thisUpdate + REVOCATION_AFTER_THIS_UPDATE_MS) {
      return refuse(
        'implausible-time',
        `the CRL dates the revocation of ${serial} (${iso(hit.revocationDate)}) after its own thisUpdate ${iso(scan.thisUpdate)}`,
      );
    }
    if (!hit && partial) {
      // RFC 5280 5.2.5 / 6.3.3(d): a CRL scoped to some reasons speaks only for those;
      // a certificate it does not list may be revoked for another reason.
      return refuse('partial-crl', 'the CRL covers only some revocation reasons (onlySomeReasons): not being listed on it proves nothing');
    }
    return {
      source,
      serial,
      checkedAt,
      status: hit ? 'revoked' : 'good',
      sha256: fetched.sha256,
      revocationTime: hit?.revocationDate ?? null,
      reasonCode: hit?.reasonCode ?? null,
      thisUpdate: scan.thisUpdate,
      nextUpdate: scan.nextUpdate,
      producedAt: null,
      signer: 'crl-issuer',
      crlNumber: scan.crlNumber,
      signatureAlgorithm: scan.signatureAlgorithm,
      ...(hit && scan.duplicates.has(serial) ? { listedRevocationDates: scan.duplicates.get(serial) } : {}),
      problems,
      raw: null,
    };
  });
  return { ...base, ...meta, scan, outcomes };
}

/**
 * RFC 5280 5.2.5 / 6.3.3: a CRL with an issuing distribution point only
 * speaks for the certificates in its scope. The URL fetched must be one the
 * IDP names, and the scope must include the kind of certificate asked about.
 */
function idpProblem(scan: CrlScan, url: string, caCertificates: boolean): string | null {
  const idp = scan.issuingDistributionPoint;
  if (!idp) return null;
  if (idp.uris.length > 0 && !idp.uris.some((u) => sameUrl(u, url))) {
    return `wrong distribution point: the CRL at ${url} names ${idp.uris.join(', ')} in its issuingDistributionPoint`;
  }
  if (idp.onlyContainsCACerts && !caCertificates) return 'the CRL covers only CA certificates';
  if (idp.onlyContainsUserCerts && caCertificates) return 'the CRL covers only end-entity certificates';
  if (idp.onlyContainsAttributeCerts) return 'the CRL covers only attribute certificates';
  return null;
}

/**
 * A partitioned CRL speaks only for the certificates of its partition, which
 * its issuingDistributionPoint names (RFC 5280 5.2.5: the extension is
 * critical). A shard without one, or with a non-critical one, could be taken
 * for the full CRL: its silence about a serial proves nothing. The Apple Root
 * Program (2.1.2) and the CCADB require each disclosed shard to carry one
 * naming the disclosed URL.
 */
function shardIdpProblem(scan: CrlScan, url: string): string | null {
  const idp = scan.issuingDistributionPoint;
  if (!idp) return `wrong distribution point: the partitioned CRL at ${url} carries no issuingDistributionPoint extension`;
  if (idp.critical === false)
    return `wrong distribution point: the partitioned CRL at ${url} carries a non-critical issuingDistributionPoint (RFC 5280 5.2.5 requires it critical)`;
  if (!idp.uris.some((u) => sameUrl(u, url)))
    return `wrong distribution point: the partitioned CRL at ${url} names ${idp.uris.join(', ') || 'no URL'} in its issuingDistributionPoint`;
  return null;
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).toString() === new URL(b).toString();
  } catch {
    return a === b;
  }
}
