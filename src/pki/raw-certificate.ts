/**
 * The few fields of an X.509 certificate that signature checks need, read
 * straight from DER (RFC 5280 section 4.1).
 *
 * Used on the verification hot path (CRL issuer keys, delegated OCSP
 * responders embedded in every response), where building a full certificate
 * object per response would cost more than the signature check itself. The
 * user-facing certificate model lives in certificate.ts on @peculiar/x509.
 */
import {
  DerError,
  Tag,
  bytesOf,
  children,
  contentOf,
  expectElement,
  parseTime,
  readBoolean,
  readElement,
  readOid,
  readSmallInt,
  bitStringBytes,
  serialHex,
  type DerElement,
} from './der.js';
import { Oid } from './oids.js';
import { publicKeyFromSpki, readSignatureAlgorithm, signatureBytes, verifySignature, type SignatureAlgorithm } from './signature.js';
import type { KeyObject } from 'node:crypto';

export interface RawExtension {
  readonly critical: boolean;
  /** The extnValue OCTET STRING contents. */
  readonly value: Uint8Array;
}

export interface RawCertificate {
  readonly der: Uint8Array;
  /** 1, 2 or 3 (the DER INTEGER plus one; absent means v1). */
  readonly version: number;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: SignatureAlgorithm | null;
  readonly signatureAlgorithmError: string | null;
  readonly signature: Uint8Array;
  readonly serial: string;
  /** DER of the issuer Name, compared byte-for-byte (RFC 5280 7.1 allows binary comparison for names issued by the same CA). */
  readonly issuerName: Uint8Array;
  readonly subjectName: Uint8Array;
  readonly spki: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: ReadonlyMap<string, RawExtension>;
}

export function parseRawCertificate(der: Uint8Array): RawCertificate {
  const cert = expectElement(der, 0, der.length, Tag.SEQUENCE, 'Certificate');
  if (cert.end !== der.length) throw new DerError('trailing bytes after Certificate');
  const [tbsEl, algEl, sigEl] = children(der, cert);
  if (!tbsEl || !algEl || !sigEl) throw new DerError('Certificate is missing fields');
  const tbsParts = children(der, tbsEl);
  let i = 0;
  let version = 1;
  if (tbsParts[0]?.tag === 0xa0) {
    // version [0] EXPLICIT INTEGER DEFAULT v1
    version = readSmallInt(der, readElement(der, tbsParts[0].contentStart, tbsParts[0].end)) + 1;
    i++;
  }
  const serialEl = tbsParts[i++];
  i++; // signature AlgorithmIdentifier (inner copy)
  const issuerEl = tbsParts[i++];
  const validityEl = tbsParts[i++];
  const subjectEl = tbsParts[i++];
  const spkiEl = tbsParts[i++];
  if (!serialEl || !issuerEl || !validityEl || !subjectEl || !spkiEl || serialEl.tag !== Tag.INTEGER) {
    throw new DerError('TBSCertificate is missing fields');
  }
  const [nb, na] = children(der, validityEl);
  if (!nb || !na) throw new DerError('Validity is missing fields');
  const extensions = new Map<string, RawExtension>();
  for (; i < tbsParts.length; i++) {
    const el = tbsParts[i]!;
    if (el.tag === 0xa3) {
      const list = readElement(der, el.contentStart, el.end);
      for (const ext of children(der, list)) readExtensionInto(der, ext, extensions);
    }
  }
  const { algorithm: signatureAlgorithm, error: signatureAlgorithmError } = readSignatureAlgorithm(der, algEl);
  return {
    der,
    version,
    tbs: bytesOf(der, tbsEl),
    signatureAlgorithm,
    signatureAlgorithmError,
    signature: signatureBytes(der, sigEl),
    serial: serialHex(contentOf(der, serialEl)),
    issuerName: bytesOf(der, issuerEl),
    subjectName: bytesOf(der, subjectEl),
    spki: bytesOf(der, spkiEl),
    notBefore: parseTime(der, nb),
    notAfter: parseTime(der, na),
    extensions,
  };
}

export function readExtensionInto(buf: Uint8Array, ext: DerElement, into: Map<string, RawExtension>): void {
  const parts = children(buf, ext);
  const oidEl = parts[0];
  if (!oidEl) throw new DerError('empty Extension');
  let critical = false;
  let valueEl = parts[1];
  if (valueEl?.tag === Tag.BOOLEAN) {
    critical = readBoolean(buf, valueEl);
    valueEl = parts[2];
  }
  if (!valueEl || valueEl.tag !== Tag.OCTET_STRING) throw new DerError('Extension without extnValue');
  const oid = readOid(buf, oidEl);
  if (into.has(oid)) throw new DerError(`duplicate extension ${oid}`);
  into.set(oid, { critical, value: contentOf(buf, valueEl) });
}

/** The extended key usage OIDs, or null when the extension is absent. */
export function extendedKeyUsages(cert: RawCertificate): string[] | null {
  const ext = cert.extensions.get(Oid.extKeyUsage);
  if (!ext) return null;
  const list = readElement(ext.value, 0);
  return children(ext.value, list).map((el) => readOid(ext.value, el));
}

/** KeyUsage bits (RFC 5280 4.2.1.3), numbered from the first bit of the BIT STRING. */
export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/**
 * Whether the keyUsage extension asserts `bit`; true when the certificate has
 * no keyUsage (RFC 5280 4.2.1.3 and 6.3.3(f) restrict only when it is present).
 * Throws DerError when the extension cannot be read.
 */
export function keyUsageAllows(cert: RawCertificate, bit: number): boolean {
  const ext = cert.extensions.get(Oid.keyUsage);
  if (!ext) return true;
  const bits = bitStringBytes(ext.value, readElement(ext.value, 0));
  const byte = bits[bit >> 3];
  return byte !== undefined && (byte & (0x80 >> (bit & 7))) !== 0;
}

/**
 * Why `cert` may not verify certificate signatures, or null when it may.
 * RFC 5280 4.2.1.9: without basicConstraints cA TRUE "the certified public key
 * MUST NOT be used to verify certificate signatures"; 4.2.1.3: with keyUsage,
 * keyCertSign must be set. A v1 or v2 certificate has no extensions at all:
 * 6.1.4(k) leaves it to the relying party, and one given as the issuer is taken
 * as a CA (as openssl does for v1 roots).
 */
export function notACaReason(cert: RawCertificate): string | null {
  if (cert.version < 3) return null;
  try {
    const bc = cert.extensions.get(Oid.basicConstraints);
    let ca = false;
    if (bc) {
      const first = children(bc.value, readElement(bc.value, 0))[0];
      ca = first?.tag === Tag.BOOLEAN && readBoolean(bc.value, first);
    }
    if (!ca) return 'it is not a CA certificate (no basicConstraints cA, RFC 5280 4.2.1.9)';
    if (!keyUsageAllows(cert, KeyUsageBit.keyCertSign)) return 'its keyUsage lacks keyCertSign (RFC 5280 4.2.1.3)';
    return null;
  } catch (err) {
    return `its basicConstraints or keyUsage cannot be read: ${(err as Error).message}`;
  }
}

export function certificateKey(cert: RawCertificate): KeyObject {
  return publicKeyFromSpki(cert.spki);
}

/** True when `cert` carries a valid signature by `issuerKey`. */
export function isSignedBy(cert: RawCertificate, issuerKey: KeyObject): boolean {
  if (!cert.signatureAlgorithm) return false;
  return verifySignature(cert.signatureAlgorithm, cert.tbs, issuerKey, cert.signature);
}

export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
