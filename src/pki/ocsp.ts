/**
 * OCSP (RFC 6960, with the RFC 5019 profile): build requests, parse and
 * verify responses.
 *
 * Requests are built with the DER writer in der.ts (a request is a CertID of
 * a few dozen bytes: an object-building encoder spent ~0.3 ms on each, more
 * than verifying the answer). Responses are read with the DER reader in
 * der.ts: verifying a response must stay well under 0.3 ms, and
 * object-building parsers cost several times that before any crypto runs.
 * A response is evidence only when verifyOcspResponse says `trusted`.
 */
import { createHash } from 'node:crypto';
import {
  DerError,
  Tag,
  bytesOf,
  children,
  contentOf,
  derNull,
  encodeOid,
  expectElement,
  octetString,
  seq,
  serialContent,
  tlv,
  parseTime,
  RFC5280_EARLIEST_TIME,
  readBoolean,
  readElement,
  readOid,
  readSmallInt,
  serialHex,
  type DerElement,
} from './der.js';
import { Oid } from './oids.js';
import { certificateKey, extendedKeyUsages, isSignedBy, notACaReason, sameBytes, type RawCertificate } from './raw-certificate.js';
import { cachedCertificateKey, cachedRawCertificate } from './key-cache.js';
import {
  keyHash,
  md5Refusal,
  readSignatureAlgorithm,
  signatureBytes,
  verifySignature,
  type HashName,
  type SignatureAlgorithm,
} from './signature.js';
import { iso } from '../time.js';

/** OCSPResponseStatus (RFC 6960 4.2.1); 4 is not used. */
export const OCSP_RESPONSE_STATUSES: Readonly<Record<number, string>> = {
  0: 'successful',
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

export type CertStatus = 'good' | 'revoked' | 'unknown';

export interface OcspCertId {
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  readonly serial: string;
}

export interface OcspSingleResponse {
  readonly certId: OcspCertId;
  readonly serial: string;
  readonly status: CertStatus;
  readonly revocationTime: number | null;
  readonly reasonCode: number | null;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly unknownCriticalExtension: boolean;
  /** BR 7.3 forbids a reasonCode in singleExtensions; noted when present. */
  readonly reasonInSingleExtensions: boolean;
}

export type ResponderId = { readonly byName: Uint8Array } | { readonly byKey: Uint8Array };

export interface BasicOcspResponse {
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm | null;
  readonly signatureAlgorithmError: string | null;
  readonly signature: Uint8Array;
  readonly responderId: ResponderId;
  readonly producedAt: number;
  readonly responses: readonly OcspSingleResponse[];
  readonly certs: readonly Uint8Array[];
  readonly unknownCriticalExtension: boolean;
}

export interface ParsedOcspResponse {
  readonly responseStatus: string;
  readonly basic: BasicOcspResponse | null;
}

export class OcspFormatError extends DerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OcspFormatError';
  }
}

const HASH_BY_OID: Record<string, HashName> = {
  [Oid.sha1]: 'sha1',
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};
/** The hashes a CertID may be built with (RFC 6960 4.1.1; RFC 5019 2.1.1 asks for SHA-1, which every responder answers). */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const OID_BY_HASH: Record<CertIdHash, string> = { sha1: Oid.sha1, sha256: Oid.sha256, sha384: Oid.sha384, sha512: Oid.sha512 };

/** Parses an OCSPResponse (RFC 6960 4.2.1). Throws OcspFormatError when the bytes are not one. */
export function parseOcspResponse(der: Uint8Array): ParsedOcspResponse {
  try {
    const outer = expectElement(der, 0, der.length, Tag.SEQUENCE, 'OCSPResponse');
    if (outer.end !== der.length) throw new DerError('trailing bytes after OCSPResponse');
    const statusEl = expectElement(der, outer.contentStart, outer.end, Tag.ENUMERATED, 'responseStatus');
    const code = readSmallInt(der, statusEl);
    const responseStatus = OCSP_RESPONSE_STATUSES[code] ?? `invalid(${code})`;
    if (statusEl.end === outer.end) {
      if (code === 0) throw new DerError('successful response without responseBytes');
      return { responseStatus, basic: null };
    }
    if (code !== 0) return { responseStatus, basic: null };
    const bytesWrapper = expectElement(der, statusEl.end, outer.end, 0xa0, 'responseBytes');
    const responseBytes = expectElement(der, bytesWrapper.contentStart, bytesWrapper.end, Tag.SEQUENCE, 'ResponseBytes');
    const [typeEl, octets] = children(der, responseBytes);
    if (!typeEl || !octets || octets.tag !== Tag.OCTET_STRING) throw new DerError('malformed ResponseBytes');
    const responseType = readOid(der, typeEl);
    if (responseType !== Oid.ocspBasic) throw new DerError(`unsupported responseType ${responseType}`);
    return { responseStatus, basic: parseBasic(der, octets.contentStart, octets.end) };
  } catch (err) {
    if (err instanceof OcspFormatError) throw err;
    throw new OcspFormatError(`not an OCSP response: ${(err as Error).message}`, { cause: err });
  }
}

function parseBasic(der: Uint8Array, start: number, end: number): BasicOcspResponse {
  const basic = expectElement(der, start, end, Tag.SEQUENCE, 'BasicOCSPResponse');
  if (basic.end !== end) throw new DerError('trailing bytes after BasicOCSPResponse');
  const [tbsEl, algEl, sigEl, certsEl] = children(der, basic);
  if (!tbsEl || !algEl || !sigEl || tbsEl.tag !== Tag.SEQUENCE) throw new DerError('BasicOCSPResponse is missing fields');
  const { algorithm: signatureAlgorithm, error: signatureAlgorithmError } = readSignatureAlgorithm(der, algEl);
  const fields = children(der, tbsEl);
  let i = 0;
  if (fields[0]?.tag === 0xa0) i++; // version [0] EXPLICIT, v1 by default
  const ridEl = fields[i++];
  const producedEl = fields[i++];
  const listEl = fields[i++];
  if (!ridEl || !producedEl || !listEl || producedEl.tag !== Tag.GENERALIZED_TIME || listEl.tag !== Tag.SEQUENCE) {
    throw new DerError('ResponseData is missing fields');
  }
  let responderId: ResponderId;
  const ridInner = readElement(der, ridEl.contentStart, ridEl.end);
  if (ridEl.tag === 0xa1) responderId = { byName: bytesOf(der, ridInner) };
  else if (ridEl.tag === 0xa2 && ridInner.tag === Tag.OCTET_STRING) responderId = { byKey: contentOf(der, ridInner) };
  else throw new DerError('malformed ResponderID');
  let unknownCriticalExtension = false;
  const extWrapper = fields[i];
  if (extWrapper?.tag === 0xa1) {
    // responseExtensions: the nonce is understood; anything else critical is not.
    unknownCriticalExtension = hasUnknownCritical(der, extWrapper, new Set([Oid.ocspNonce]));
  }
  const responses = children(der, listEl).map((el) => parseSingle(der, el));
  const certs: Uint8Array[] = [];
  if (certsEl) {
    if (certsEl.tag !== 0xa0) throw new DerError('malformed certs field');
    const seqEl = readElement(der, certsEl.contentStart, certsEl.end);
    for (const c of children(der, seqEl)) certs.push(bytesOf(der, c));
  }
  return {
    tbs: bytesOf(der, tbsEl),
    signatureAlgorithm,
    signatureAlgorithmError,
    signature: signatureBytes(der, sigEl),
    responderId,
    producedAt: parseTime(der, producedEl),
    responses,
    certs,
    unknownCriticalExtension,
  };
}

function parseSingle(der: Uint8Array, el: DerElement): OcspSingleResponse {
  const parts = children(der, el);
  const [certIdEl, statusEl, thisUpdateEl] = parts;
  if (!certIdEl || !statusEl || !thisUpdateEl) throw new DerError('SingleResponse is missing fields');
  const certId = parseCertId(der, certIdEl);
  let status: CertStatus;
  let revocationTime: number | null = null;
  let reasonCode: number | null = null;
  if (statusEl.tag === 0x80) status = 'good';
  else if (statusEl.tag === 0x82) status = 'unknown';
  else if (statusEl.tag === 0xa1) {
    status = 'revoked';
    const info = children(der, statusEl);
    revocationTime = parseTime(der, info[0]!);
    if (info[1]?.tag === 0xa0) reasonCode = readSmallInt(der, readElement(der, info[1].contentStart, info[1].end));
  } else throw new DerError(`unknown CertStatus tag 0x${statusEl.tag.toString(16)}`);
  let nextUpdate: number | null = null;
  let unknownCriticalExtension = false;
  let reasonInSingleExtensions = false;
  for (const extra of parts.slice(3)) {
    if (extra.tag === 0xa0) nextUpdate = parseTime(der, readElement(der, extra.contentStart, extra.end));
    else if (extra.tag === 0xa1) {
      const list = readElement(der, extra.contentStart, extra.end);
      for (const ext of children(der, list)) {
        const ep = children(der, ext);
        const oid = readOid(der, ep[0]!);
        const critical = ep[1]?.tag === Tag.BOOLEAN && readBoolean(der, ep[1]);
        if (oid === Oid.reasonCode) reasonInSingleExtensions = true;
        if (critical) unknownCriticalExtension = true;
      }
    }
  }
  return {
    certId,
    serial: certId.serial,
    status,
    revocationTime,
    reasonCode,
    thisUpdate: parseTime(der, thisUpdateEl),
    nextUpdate,
    unknownCriticalExtension,
    reasonInSingleExtensions,
  };
}

function parseCertId(der: Uint8Array, el: DerElement): OcspCertId {
  const [algEl, nameHashEl, keyHashEl, serialEl] = children(der, el);
  if (!algEl || !nameHashEl || !keyHashEl || !serialEl || serialEl.tag !== Tag.INTEGER) throw new DerError('malformed CertID');
  return {
    hashAlgorithm: readOid(der, readElement(der, algEl.contentStart, algEl.end)),
    issuerNameHash: contentOf(der, nameHashEl),
    issuerKeyHash: contentOf(der, keyHashEl),
    serial: serialHex(contentOf(der, serialEl)),
  };
}

function hasUnknownCritical(der: Uint8Array, wrapper: DerElement, known: ReadonlySet<string>): boolean {
  const list = readElement(der, wrapper.contentStart, wrapper.end);
  for (const ext of children(der, list)) {
    const ep = children(der, ext);
    const critical = ep[1]?.tag === Tag.BOOLEAN && readBoolean(der, ep[1]);
    if (critical && !known.has(readOid(der, ep[0]!))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Issuer identity and requests
// ---------------------------------------------------------------------------

/** What an issuer contributes to CertIDs and signer checks, computed once per issuer. */
export class OcspIssuer {
  private readonly nameHashes = new Map<HashName, Buffer>();
  private readonly keyHashes = new Map<HashName, Buffer>();
  private readonly certIdPrefixes = new Map<CertIdHash, Buffer>();

  constructor(readonly certificate: RawCertificate) {}

  nameHash(hash: HashName): Buffer {
    let h = this.nameHashes.get(hash);
    if (!h) {
      h = createHash(hash).update(this.certificate.subjectName).digest();
      this.nameHashes.set(hash, h);
    }
    return h;
  }

  keyHash(hash: HashName): Buffer {
    let h = this.keyHashes.get(hash);
    if (!h) {
      h = keyHash(this.certificate.spki, hash);
      this.keyHashes.set(hash, h);
    }
    return h;
  }

  /**
   * The DER of a CertID's first three fields (hashAlgorithm, issuerNameHash,
   * issuerKeyHash): the same for every serial under this issuer, so a
   * request costs only the serial and four SEQUENCE headers.
   */
  certIdPrefix(hash: CertIdHash): Buffer {
    let p = this.certIdPrefixes.get(hash);
    if (!p) {
      // parameters NULL: RFC 5754 section 2 lets SHA-2 omit it, but what
      // deployed clients (openssl, the oracle in the tests) send is NULL.
      p = Buffer.concat([seq(encodeOid(OID_BY_HASH[hash]), derNull()), octetString(this.nameHash(hash)), octetString(this.keyHash(hash))]);
      this.certIdPrefixes.set(hash, p);
    }
    return p;
  }
}

/**
 * Builds a DER OCSPRequest for one certificate (RFC 6960 4.1.1):
 * OCSPRequest { tbsRequest { requestList { Request { reqCert CertID } } } },
 * no version (v1 is the DEFAULT, so DER omits it), no nonce and no extensions:
 * RFC 5019 responders answer from a cache and ignore nonces.
 */
export function buildOcspRequest(serial: string, issuer: OcspIssuer, hash: CertIdHash = 'sha1'): Buffer {
  const certId = seq(issuer.certIdPrefix(hash), tlv(Tag.INTEGER, serialContent(serial)));
  return seq(seq(seq(seq(certId))));
}

/**
 * The GET form of a request (RFC 6960 Appendix A.1, RFC 5019 section 5):
 * the URL-encoded base64 of the DER appended to the responder URL.
 */
export function ocspGetUrl(responderUrl: string, request: Uint8Array): string {
  const b64 = encodeURIComponent(Buffer.from(request).toString('base64'));
  return responderUrl.endsWith('/') ? `${responderUrl}${b64}` : `${responderUrl}/${b64}`;
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

export type OcspProblemCode =
  | 'response-status'
  | 'bad-signature'
  | 'unauthorized-signer'
  | 'malformed-certificate'
  | 'unsupported-signature-algorithm'
  | 'weak-signature-algorithm'
  | 'certid-mismatch'
  | 'stale'
  | 'future'
  | 'no-next-update'
  | 'unknown-critical-extension'
  | 'reason-in-single-extensions'
  | 'time-before-1950'
  | 'revocation-after-answer'
  | 'conflicting-responses';

export interface OcspProblem {
  readonly code: OcspProblemCode;
  readonly message: string;
}

export interface OcspVerification {
  readonly responseStatus: string;
  /** true when signed by the issuer or an authorised delegated responder; null when no issuer was given. */
  readonly signatureValid: boolean | null;
  readonly signer: 'issuer' | 'delegated' | null;
  readonly producedAt: number | null;
  readonly responses: readonly OcspSingleResponse[];
  /** The SingleResponse for the serial asked about, when one was asked and found. */
  readonly match: OcspSingleResponse | null;
  /** The answer may be relied on: successful, signature valid, CertID matched, no unknown critical extension. */
  readonly trusted: boolean;
  readonly problems: readonly OcspProblem[];
}

export interface VerifyOcspOptions {
  readonly issuer?: OcspIssuer | null;
  /** The serial the request asked about; its SingleResponse must be present and match the issuer. */
  readonly serial?: string | null;
  /** Time of the check (epoch ms): staleness and "from the future" are judged against it. */
  readonly at: number;
  /** Clock skew tolerated before a response counts as from the future. */
  readonly skewMs?: number;
}

const DEFAULT_SKEW_MS = 5 * 60_000;

/**
 * Delegated responder certificates repeat across thousands of responses; the
 * checks that do not depend on time are cached. The key covers every input
 * delegationProblem reads: the issuer's subject name (compared with the
 * responder certificate's issuer name), the issuer's key (which must verify
 * the responder certificate) and the responder certificate's bytes. Keying on
 * less let one issuer's verdict answer for another with the same key and a
 * different name (openssl ocsp-tests WSNIC_D1), in either order.
 */
const delegatedCache = new Map<string, string | null>();
const DELEGATED_CACHE_LIMIT = 1024;

/** Empties the delegated-responder cache, so a test can start each order of cases from a cold process state. */
export function clearDelegatedResponderCache(): void {
  delegatedCache.clear();
}

/** Problems that make a response no evidence even with a valid signature. */
const UNTRUSTWORTHY: ReadonlySet<OcspProblemCode> = new Set<OcspProblemCode>([
  'unknown-critical-extension',
  'unsupported-signature-algorithm',
  'time-before-1950',
  'revocation-after-answer',
  'conflicting-responses',
]);

const describeSingle = (r: OcspSingleResponse): string =>
  r.status === 'revoked'
    ? `revoked at ${r.revocationTime === null ? '?' : iso(r.revocationTime)}, reason ${r.reasonCode ?? 'none'}`
    : r.status;

export function verifyOcspResponse(parsed: ParsedOcspResponse, options: VerifyOcspOptions): OcspVerification {
  const problems: OcspProblem[] = [];
  const basic = parsed.basic;
  if (!basic) {
    problems.push({ code: 'response-status', message: `the responder answered ${parsed.responseStatus}` });
    return {
      responseStatus: parsed.responseStatus,
      signatureValid: null,
      signer: null,
      producedAt: null,
      responses: [],
      match: null,
      trusted: false,
      problems,
    };
  }
  const at = options.at;
  const skew = options.skewMs ?? DEFAULT_SKEW_MS;
  if (basic.signatureAlgorithmError) {
    problems.push({ code: 'unsupported-signature-algorithm', message: basic.signatureAlgorithmError });
  } else if (basic.signatureAlgorithm?.hash === 'md5') {
    problems.push({ code: 'unsupported-signature-algorithm', message: md5Refusal(basic.signatureAlgorithm.name) });
  } else if (basic.signatureAlgorithm?.weak) {
    problems.push({ code: 'weak-signature-algorithm', message: `signed with ${basic.signatureAlgorithm.name}` });
  }
  if (basic.unknownCriticalExtension || basic.responses.some((r) => r.unknownCriticalExtension)) {
    problems.push({ code: 'unknown-critical-extension', message: 'the response carries an unrecognised critical extension' });
  }
  if (basic.responses.some((r) => r.reasonInSingleExtensions)) {
    problems.push({ code: 'reason-in-single-extensions', message: 'a reasonCode in singleExtensions (BR 7.3 forbids it)' });
  }

  let signatureValid: boolean | null = null;
  let signer: 'issuer' | 'delegated' | null = null;
  const issuer = options.issuer ?? null;
  if (issuer) {
    const result = checkSigner(basic, issuer);
    signatureValid = result.ok;
    signer = result.ok ? result.signer : null;
    if (!result.ok) problems.push(result.problem);
  }

  let match: OcspSingleResponse | null = null;
  if (options.serial != null) {
    const serial = options.serial;
    const asked = basic.responses.filter((r) => r.serial === serial && (!issuer || certIdMatchesIssuer(r.certId, issuer)));
    match = asked[0] ?? null;
    if (!match) {
      problems.push({ code: 'certid-mismatch', message: `no SingleResponse for serial ${serial}${issuer ? ' under this issuer' : ''}` });
    }
    // Two SingleResponses for the CertID asked that disagree (good and revoked,
    // or two revocations): the answer contradicts itself, and taking either
    // would let the order of the list decide the verdict.
    const differs = asked.find(
      (r) => r.status !== match!.status || r.revocationTime !== match!.revocationTime || r.reasonCode !== match!.reasonCode,
    );
    if (differs) {
      problems.push({
        code: 'conflicting-responses',
        message: `the response holds ${asked.length} SingleResponses for serial ${serial} that disagree (${asked.map(describeSingle).join(' / ')})`,
      });
      match = null;
    }
  }
  if (options.serial == null && issuer) {
    // No serial asked (inspect without --cert): every SingleResponse must still
    // name the given issuer (RFC 6960 4.2.2.3; openssl's WSNIC cases: same key,
    // other name), or the signature proves nothing about that issuer's certificates.
    for (const r of basic.responses) {
      const mismatch = certIdMismatch(r.certId, issuer);
      if (mismatch) problems.push({ code: 'certid-mismatch', message: `the SingleResponse for serial ${r.serial}: ${mismatch}` });
    }
  }
  const judged = match ? [match] : basic.responses;
  for (const r of judged) {
    if (r.nextUpdate === null) {
      problems.push({
        code: 'no-next-update',
        message: `serial ${r.serial}: no nextUpdate, so the response never expires (RFC 5019 2.2.4 requires one)`,
      });
    } else if (r.nextUpdate < at) {
      problems.push({ code: 'stale', message: `serial ${r.serial}: stale, nextUpdate ${iso(r.nextUpdate)} has passed` });
    }
    if (r.thisUpdate > at + skew) {
      problems.push({ code: 'future', message: `serial ${r.serial}: thisUpdate ${iso(r.thisUpdate)} is in the future` });
    }
    // A revocation the answer dates after it was signed (producedAt) has not
    // happened as far as the answer knows (RFC 6960 4.2.1: revocationTime is
    // when it was revoked); a lateness counted from it would be fiction.
    // thisUpdate alone is not the bound: responders date it back for slow
    // clocks, or to the start of the hour.
    if (r.revocationTime !== null && r.revocationTime > basic.producedAt + skew) {
      problems.push({
        code: 'revocation-after-answer',
        message: `serial ${r.serial}: revocationTime ${iso(r.revocationTime)} is after the answer was produced (producedAt ${iso(basic.producedAt)})`,
      });
    }
    // As for CRLs (RFC 5280 5.1.2.4): GeneralizedTime before 1950 is no real date in this PKI.
    for (const [field, time] of [
      ['revocationTime', r.revocationTime],
      ['thisUpdate', r.thisUpdate],
      ['nextUpdate', r.nextUpdate],
    ] as const) {
      if (time !== null && time < RFC5280_EARLIEST_TIME) {
        problems.push({ code: 'time-before-1950', message: `serial ${r.serial}: ${field} ${iso(time)} is before 1950` });
      }
    }
  }
  if (basic.producedAt < RFC5280_EARLIEST_TIME) {
    problems.push({ code: 'time-before-1950', message: `producedAt ${iso(basic.producedAt)} is before 1950` });
  }
  if (basic.producedAt > at + skew) {
    problems.push({ code: 'future', message: `producedAt ${iso(basic.producedAt)} is in the future` });
  }
  const trusted =
    signatureValid === true &&
    (options.serial == null ? !problems.some((p) => p.code === 'certid-mismatch') : match !== null) &&
    !problems.some((p) => UNTRUSTWORTHY.has(p.code));
  return {
    responseStatus: parsed.responseStatus,
    signatureValid,
    signer,
    producedAt: basic.producedAt,
    responses: basic.responses,
    match,
    trusted,
    problems,
  };
}

export function certIdMatchesIssuer(certId: OcspCertId, issuer: OcspIssuer): boolean {
  const hash = HASH_BY_OID[certId.hashAlgorithm];
  if (!hash) return false;
  return sameBytes(certId.issuerNameHash, issuer.nameHash(hash)) && sameBytes(certId.issuerKeyHash, issuer.keyHash(hash));
}

/** What in a CertID does not name `issuer`, or null when it does. */
function certIdMismatch(certId: OcspCertId, issuer: OcspIssuer): string | null {
  const hash = HASH_BY_OID[certId.hashAlgorithm];
  if (!hash) return `its CertID uses the unsupported hash ${certId.hashAlgorithm}`;
  const name = sameBytes(certId.issuerNameHash, issuer.nameHash(hash));
  const key = sameBytes(certId.issuerKeyHash, issuer.keyHash(hash));
  if (name && key) return null;
  const which = !name && !key ? 'issuerNameHash and issuerKeyHash' : !name ? 'issuerNameHash' : 'issuerKeyHash';
  return `its ${which} do${!name && !key ? '' : 'es'} not match the given issuer`;
}

type SignerResult = { ok: true; signer: 'issuer' | 'delegated' } | { ok: false; problem: OcspProblem };

function responderIdMatches(rid: ResponderId, subjectName: Uint8Array, spki: Uint8Array, keySha1?: Buffer): boolean {
  if ('byName' in rid) return sameBytes(rid.byName, subjectName);
  return sameBytes(rid.byKey, keySha1 ?? keyHash(spki, 'sha1'));
}

/**
 * RFC 6960 4.2.2.2: the signer must be the issuing CA itself, or a
 * responder certificate issued directly by it that carries id-kp-OCSPSigning.
 * The ResponderID must name the key that signed.
 */
function checkSigner(basic: BasicOcspResponse, issuer: OcspIssuer): SignerResult {
  const alg = basic.signatureAlgorithm;
  if (!alg)
    return {
      ok: false,
      problem: { code: 'unsupported-signature-algorithm', message: basic.signatureAlgorithmError ?? 'unsupported signature algorithm' },
    };
  const ca = issuer.certificate;
  // RFC 6960 4.2.2.2: the signer is the CA that issued the certificate, or a
  // responder that CA certified; a certificate that may not sign certificates
  // (RFC 5280 4.2.1.9) is neither.
  const notCa = notACaReason(ca);
  if (notCa)
    return { ok: false, problem: { code: 'unauthorized-signer', message: `the issuer certificate cannot vouch for answers: ${notCa}` } };
  if (responderIdMatches(basic.responderId, ca.subjectName, ca.spki, issuer.keyHash('sha1'))) {
    return verifySignature(alg, basic.tbs, cachedCertificateKey(ca), basic.signature)
      ? { ok: true, signer: 'issuer' }
      : { ok: false, problem: { code: 'bad-signature', message: "the response signature does not verify with the issuer's key" } };
  }
  let unreadable: string | null = null;
  for (const certDer of basic.certs) {
    // An included certificate is the responder's claim, not trusted input: one
    // that cannot be read (a damaged SubjectPublicKeyInfo throws in keyHash)
    // cannot be the signer, and must not stop the verification of the response.
    let cert: RawCertificate;
    try {
      cert = cachedRawCertificate(certDer);
      if (!responderIdMatches(basic.responderId, cert.subjectName, cert.spki)) continue;
    } catch (err) {
      unreadable ??= (err as Error).message;
      continue;
    }
    let key: ReturnType<typeof cachedCertificateKey>;
    try {
      key = cachedCertificateKey(cert);
    } catch {
      return { ok: false, problem: { code: 'unauthorized-signer', message: "the responder certificate's key cannot be read" } };
    }
    if (!verifySignature(alg, basic.tbs, key, basic.signature)) {
      return {
        ok: false,
        problem: { code: 'bad-signature', message: "the response signature does not verify with the responder certificate's key" },
      };
    }
    const cacheKey = delegationCacheKey(ca, certDer);
    let reason = delegatedCache.get(cacheKey);
    if (reason === undefined) {
      reason = delegationProblem(cert, ca);
      if (delegatedCache.size >= DELEGATED_CACHE_LIMIT) delegatedCache.clear();
      delegatedCache.set(cacheKey, reason);
    }
    if (reason) return { ok: false, problem: { code: 'unauthorized-signer', message: reason } };
    if (basic.producedAt < cert.notBefore || basic.producedAt > cert.notAfter) {
      return {
        ok: false,
        problem: { code: 'unauthorized-signer', message: `the responder certificate was not valid at producedAt ${iso(basic.producedAt)}` },
      };
    }
    return { ok: true, signer: 'delegated' };
  }
  if (unreadable) {
    return {
      ok: false,
      problem: { code: 'malformed-certificate', message: `an included responder certificate cannot be read: ${unreadable}` },
    };
  }
  return {
    ok: false,
    problem: { code: 'unauthorized-signer', message: 'the responder ID names neither the issuer nor an included responder certificate' },
  };
}

/**
 * SHA-256 over each input with its length in front, so no two different
 * (name, key, certificate) triples can concatenate to the same bytes.
 */
export function delegationCacheKey(ca: RawCertificate, responderCertDer: Uint8Array): string {
  const hash = createHash('sha256');
  for (const part of [ca.subjectName, ca.spki, responderCertDer]) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest('base64');
}

function delegationProblem(cert: RawCertificate, ca: RawCertificate): string | null {
  if (!sameBytes(cert.issuerName, ca.subjectName)) return "the responder certificate was not issued by the certificate's issuer";
  const notCa = notACaReason(ca);
  if (notCa) return `the issuer certificate cannot certify a responder: ${notCa}`;
  if (!isSignedBy(cert, certificateKey(ca))) return "the responder certificate's signature does not verify with the issuer's key";
  let ekus: string[] | null;
  try {
    ekus = extendedKeyUsages(cert);
  } catch (err) {
    return `the responder certificate's extendedKeyUsage cannot be read: ${(err as Error).message}`;
  }
  if (!ekus?.includes(Oid.kpOcspSigning)) return 'the responder certificate lacks id-kp-OCSPSigning (RFC 6960 4.2.2.2)';
  return null;
}

/** True when the bytes parse as an OCSPResponse envelope. */
export function looksLikeOcspResponse(der: Uint8Array): boolean {
  try {
    const outer = readElement(der, 0);
    if (outer.tag !== Tag.SEQUENCE || outer.end !== der.length) return false;
    return readElement(der, outer.contentStart, outer.end).tag === Tag.ENUMERATED;
  } catch {
    return false;
  }
}
