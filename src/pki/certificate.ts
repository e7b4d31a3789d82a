/**
 * Certificates as revwatch tracks them: read from PEM or DER with
 * @peculiar/x509 (certificates are small), reduced to the fields the rules and
 * the probes need, and linked to the issuer whose key signs their CRLs and
 * OCSP responses.
 */
import { createHash } from 'node:crypto';
import type { X509Certificate } from '@peculiar/x509';
import { x509 } from './x509-lazy.js';
import { Oid } from './oids.js';
import { isSignedBy, certificateKey, notACaReason, parseRawCertificate, sameBytes, type RawCertificate } from './raw-certificate.js';
import { looksLikeCrl } from './crl.js';
import { looksLikeOcspResponse } from './ocsp.js';
import {
  authorityInfoAccessUrls,
  authorityKeyId,
  basicConstraintsCa,
  crlDistributionPointUrls,
  extendedKeyUsageOids,
  nameText,
  subjectKeyId,
} from './certificate-fields.js';

import { InputError } from '../errors.js';

export interface CertificateInfo {
  readonly der: Uint8Array;
  readonly raw: RawCertificate;
  readonly sha256: string;
  /** Lowercase hex, no separators, no leading zero bytes. */
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Carries the RFC 6962 poison extension. */
  readonly precertificate: boolean;
  /** A Precertificate Signing Certificate (RFC 6962 3.1): CT EKU. */
  readonly precertSigning: boolean;
  readonly isCA: boolean;
  readonly ocspUrls: readonly string[];
  readonly caIssuersUrls: readonly string[];
  readonly crlUrls: readonly string[];
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  /** Extensions that could not be decoded (their fields above are then empty). */
  readonly extensionErrors: readonly string[];
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 #]+)-----([\s\S]*?)-----END \1-----/g;
const CERT_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);

/**
 * Splits input into certificate DERs: PEM with one or many blocks (CRLF or LF,
 * any text around them) or a single DER certificate. Anything else is an
 * InputError naming what the input is not.
 */
export function readCertificateBlocks(bytes: Uint8Array, source: string): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  if (text.includes('-----BEGIN ')) {
    const blocks: Uint8Array[] = [];
    const others: string[] = [];
    for (const m of text.matchAll(PEM_BLOCK)) {
      const label = m[1]!;
      if (CERT_LABELS.has(label)) blocks.push(Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
      else others.push(label);
    }
    if (blocks.length === 0) {
      const what = others.length ? `it holds ${others.map((l) => `a PEM ${l}`).join(', ')}` : 'its PEM blocks are not terminated';
      throw new InputError(`${source} is not a certificate: ${what}`);
    }
    return blocks;
  }
  if (bytes.length === 0) throw new InputError(`${source} is not a certificate: it is empty`);
  return [Buffer.from(bytes)];
}

/**
 * Parses one certificate DER; throws InputError that says what it is instead.
 *
 * The fields are read with the DER reader (certificate-fields.ts): tracking
 * 100,000 certificates through @peculiar/x509's object model cost about a
 * millisecond each. Anything those readers do not handle exactly as
 * @peculiar/x509 would (an unusual string type in a name, an extension that
 * does not decode) is read by the full model instead, so the result never
 * depends on the path taken.
 */
export function describeCertificate(der: Uint8Array, source = 'input'): CertificateInfo {
  try {
    return describeFromDer(der);
  } catch {
    return describeCertificateWithX509(der, source);
  }
}

/** Issuer names repeat across a case's certificates: formatted once each. */
const issuerTexts = new Map<string, string>();

function describeFromDer(der: Uint8Array): CertificateInfo {
  const raw = parseRawCertificate(der);
  const issuerKey = Buffer.from(raw.issuerName.buffer, raw.issuerName.byteOffset, raw.issuerName.length).toString('latin1');
  let issuer = issuerTexts.get(issuerKey);
  if (issuer === undefined) {
    issuer = nameText(raw.issuerName);
    if (issuerTexts.size >= 1024) issuerTexts.clear();
    issuerTexts.set(issuerKey, issuer);
  }
  const aia = authorityInfoAccessUrls(raw);
  return {
    der,
    raw,
    sha256: createHash('sha256').update(der).digest('hex'),
    serial: raw.serial,
    subject: nameText(raw.subjectName),
    issuer,
    notBefore: raw.notBefore,
    notAfter: raw.notAfter,
    precertificate: raw.extensions.get(Oid.ctPrecertPoison)?.critical === true,
    precertSigning: extendedKeyUsageOids(raw).includes(Oid.ctPrecertSigning),
    isCA: basicConstraintsCa(raw),
    ocspUrls: aia.ocsp,
    caIssuersUrls: aia.caIssuers,
    crlUrls: crlDistributionPointUrls(raw),
    subjectKeyId: subjectKeyId(raw),
    authorityKeyId: authorityKeyId(raw),
    extensionErrors: [],
  };
}

/** describeCertificate through @peculiar/x509's full model: the fallback, and the tests' oracle. */
export function describeCertificateWithX509(der: Uint8Array, source = 'input'): CertificateInfo {
  let raw: RawCertificate;
  let cert: X509Certificate;
  try {
    raw = parseRawCertificate(der);
    cert = new (x509().X509Certificate)(Buffer.from(der));
  } catch (err) {
    throw new InputError(`${source} is not a certificate: ${whatItIs(der)}`, { cause: err });
  }
  // Extensions are decoded lazily by @peculiar/x509 and may throw; an
  // unreadable extension leaves its fields empty and is reported, since the
  // certificate itself is still one.
  const extensionErrors: string[] = [];
  const read = <T>(name: string, get: () => T): T | null => {
    try {
      return get();
    } catch (err) {
      extensionErrors.push(`${name}: ${(err as Error).message}`);
      return null;
    }
  };
  const {
    AuthorityInfoAccessExtension,
    AuthorityKeyIdentifierExtension,
    BasicConstraintsExtension,
    CRLDistributionPointsExtension,
    ExtendedKeyUsageExtension,
    SubjectKeyIdentifierExtension,
  } = x509();
  const aia = read('authorityInfoAccess', () => cert.getExtension(AuthorityInfoAccessExtension));
  const cdp = read('cRLDistributionPoints', () => cert.getExtension(CRLDistributionPointsExtension));
  const eku = read('extKeyUsage', () => cert.getExtension(ExtendedKeyUsageExtension));
  const bc = read('basicConstraints', () => cert.getExtension(BasicConstraintsExtension));
  const ski = read('subjectKeyIdentifier', () => cert.getExtension(SubjectKeyIdentifierExtension));
  const aki = read('authorityKeyIdentifier', () => cert.getExtension(AuthorityKeyIdentifierExtension));
  const urls = (names: { type: string; value: string }[] | undefined): string[] =>
    (names ?? []).filter((n) => n.type === 'url').map((n) => n.value);
  const crlUrls: string[] = [];
  for (const dp of cdp?.distributionPoints ?? []) {
    for (const gn of dp.distributionPoint?.fullName ?? []) {
      if (gn.uniformResourceIdentifier) crlUrls.push(gn.uniformResourceIdentifier);
    }
  }
  return {
    der,
    raw,
    sha256: createHash('sha256').update(der).digest('hex'),
    serial: raw.serial,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: raw.notBefore,
    notAfter: raw.notAfter,
    precertificate: raw.extensions.get(Oid.ctPrecertPoison)?.critical === true,
    precertSigning: (eku?.usages ?? []).map(String).includes(Oid.ctPrecertSigning),
    isCA: bc?.ca === true,
    ocspUrls: urls(aia?.ocsp),
    caIssuersUrls: urls(aia?.caIssuers),
    crlUrls,
    subjectKeyId: ski?.keyId ?? null,
    authorityKeyId: aki?.keyId ?? null,
    extensionErrors,
  };
}

function whatItIs(der: Uint8Array): string {
  if (der.length === 0) return 'it is empty';
  if (looksLikeCrl(der)) return 'it is a CRL';
  if (looksLikeOcspResponse(der)) return 'it is an OCSP response';
  if (der[0] !== 0x30) return 'it is neither PEM nor DER';
  return 'it is DER, but not an X.509 certificate';
}

/** PEM armour for a certificate's DER (RFC 7468), 64 columns. */
export function toPem(der: Uint8Array): string {
  return `-----BEGIN CERTIFICATE-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`.replace('\n\n-----END', '\n-----END');
}

/** Reads every certificate in a file's bytes (PEM bundle or DER). */
export function readCertificates(bytes: Uint8Array, source: string): CertificateInfo[] {
  return readCertificateBlocks(bytes, source).map((der, i, all) =>
    describeCertificate(der, all.length > 1 ? `${source} (block ${i + 1})` : source),
  );
}

/**
 * Certificates served at a caIssuers URL (RFC 5280 4.2.2.1): DER, PEM, or a
 * PKCS#7 certs-only bundle.
 */
export function readCaIssuersResponse(bytes: Uint8Array, source: string): CertificateInfo[] {
  try {
    return readCertificates(bytes, source);
  } catch (first) {
    try {
      const bundle = new (x509().X509Certificates)(Buffer.from(bytes));
      if (bundle.length > 0) return bundle.map((c) => describeCertificate(new Uint8Array(c.rawData), source));
    } catch {
      // not PKCS#7 either: report the first error
    }
    throw first;
  }
}

/** True when `candidate` issued `cert`: names match and the signature verifies. */
export function isIssuerOf(candidate: CertificateInfo, cert: CertificateInfo): boolean {
  if (!sameBytes(candidate.raw.subjectName, cert.raw.issuerName)) return false;
  // Only a CA's key may verify a certificate signature (RFC 5280 4.2.1.9, 6.1.4(k)).
  if (notACaReason(candidate.raw) !== null) return false;
  try {
    return isSignedBy(cert.raw, certificateKey(candidate.raw));
  } catch {
    return false;
  }
}

export interface IssuerResolution {
  /** The certificate that signed `cert`. */
  readonly issuer: CertificateInfo;
  /**
   * The CA whose CRLs and OCSP responses cover `cert`: the issuer itself, or
   * for a precertificate signed by a Precertificate Signing Certificate, the
   * CA that issued that signing certificate (RFC 6962 section 3.1).
   */
  readonly revocationIssuer: CertificateInfo;
  readonly via: 'given' | 'bundle' | 'ccadb' | 'aia';
}

/** Fetches the bytes at a caIssuers URL; supplied by the caller so the core does no I/O of its own. */
export type CaIssuersFetch = (url: string) => Promise<Uint8Array>;

/** The CA certificates the CCADB discloses that may have issued a certificate (ccadb/issuers.ts); each is still checked here. */
export type DisclosedIssuers = (cert: CertificateInfo) => Promise<readonly CertificateInfo[]>;

export interface IssuerSources {
  readonly given?: readonly CertificateInfo[];
  readonly bundle?: readonly CertificateInfo[];
  readonly disclosedIssuers?: DisclosedIssuers;
  readonly fetchCaIssuers?: CaIssuersFetch;
}

/**
 * Finds the issuer of `cert`: among `given` (an --issuer file), then the
 * other certificates of the same bundle, then the CA certificates the CCADB
 * discloses (no network: an imported report), then the AIA caIssuers URLs.
 */
export async function resolveIssuer(cert: CertificateInfo, options: IssuerSources): Promise<IssuerResolution> {
  // Why each caIssuers URL gave no issuer (refused by the address guard, unreachable, not certificates), so the
  // refusal says what to do about it rather than only that AIA was tried.
  const caIssuersFailures: string[] = [];
  const direct = await findSigner(cert, options, caIssuersFailures);
  if (!direct) {
    const tried = [
      options.given?.length ? '--issuer' : null,
      options.bundle?.length ? 'the bundle' : null,
      options.disclosedIssuers ? 'the CA certificates imported from the CCADB' : null,
      cert.caIssuersUrls.length && options.fetchCaIssuers
        ? `AIA caIssuers${caIssuersFailures.length ? ` (${caIssuersFailures.join('; ')})` : ''}`
        : null,
    ].filter(Boolean);
    const notCa = [...(options.given ?? []), ...(options.bundle ?? [])].find(
      (c) => c.sha256 !== cert.sha256 && sameBytes(c.raw.subjectName, cert.raw.issuerName) && notACaReason(c.raw) !== null,
    );
    throw new InputError(
      `no issuer found for ${cert.subject} (serial ${cert.serial}); tried ${tried.length ? tried.join(', ') : 'nothing: give --issuer'}${notCa ? `; ${notCa.subject} has the issuer's name but ${notACaReason(notCa.raw)}` : ''}`,
    );
  }
  if (!direct.issuer.precertSigning) return { issuer: direct.issuer, revocationIssuer: direct.issuer, via: direct.via };
  const upper = await findSigner(direct.issuer, options, []);
  if (!upper) {
    throw new InputError(`${cert.subject} was signed by a Precertificate Signing Certificate; the CA that issued it was not found`);
  }
  return { issuer: direct.issuer, revocationIssuer: upper.issuer, via: direct.via };
}

async function findSigner(
  cert: CertificateInfo,
  options: IssuerSources,
  caIssuersFailures: string[],
): Promise<{ issuer: CertificateInfo; via: IssuerResolution['via'] } | null> {
  for (const c of options.given ?? []) if (c.sha256 !== cert.sha256 && isIssuerOf(c, cert)) return { issuer: c, via: 'given' };
  for (const c of options.bundle ?? []) if (c.sha256 !== cert.sha256 && isIssuerOf(c, cert)) return { issuer: c, via: 'bundle' };
  if (options.disclosedIssuers)
    for (const c of await options.disclosedIssuers(cert))
      if (c.sha256 !== cert.sha256 && isIssuerOf(c, cert)) return { issuer: c, via: 'ccadb' };
  if (options.fetchCaIssuers) {
    for (const url of cert.caIssuersUrls) {
      let found: CertificateInfo[];
      try {
        found = readCaIssuersResponse(await options.fetchCaIssuers(url), url);
      } catch (err) {
        caIssuersFailures.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      for (const c of found) if (isIssuerOf(c, cert)) return { issuer: c, via: 'aia' };
      caIssuersFailures.push(`${url}: no certificate there issued it`);
    }
  }
  return null;
}
