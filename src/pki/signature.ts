/**
 * Signature verification over raw DER with node:crypto.
 *
 * CRLs (RFC 5280 5.1.1.2) and OCSP responses (RFC 6960 4.2.1) are signed over
 * the exact bytes of their TBS structure, so verification needs no re-encoding:
 * we hand the TBS slice, the AlgorithmIdentifier and the key to OpenSSL.
 */
import { createHash, createPublicKey, constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DerError, Tag, bitStringBytes, children, readElement, readOid, readSmallInt, type DerElement } from './der.js';
import { Oid } from './oids.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'md5';

export interface SignatureAlgorithm {
  /** Dotted OID of the AlgorithmIdentifier. */
  readonly oid: string;
  /** A short, stable name for reports, e.g. `sha256WithRSAEncryption`. */
  readonly name: string;
  readonly family: 'rsa' | 'rsa-pss' | 'ecdsa' | 'ed25519' | 'ed448' | 'dsa';
  /** Digest passed to node:crypto; null for EdDSA, which hashes internally. */
  readonly hash: HashName | null;
  /** RSASSA-PSS salt length (RFC 4055 section 3.1; default 20). */
  readonly saltLength?: number;
  /** SHA-1 and MD5 signatures are verified but reported as weak (BR 7.1.3.2 forbids them). */
  readonly weak: boolean;
}

interface AlgorithmEntry {
  name: string;
  family: SignatureAlgorithm['family'];
  hash: HashName | null;
}

const ALGORITHMS: Record<string, AlgorithmEntry> = {
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', family: 'rsa', hash: 'md5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', family: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'sha512' },
  '1.2.840.113549.1.1.10': { name: 'rsassa-pss', family: 'rsa-pss', hash: 'sha1' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', family: 'ecdsa', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', family: 'ecdsa', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', family: 'ecdsa', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', family: 'ecdsa', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', family: 'ed25519', hash: null },
  '1.3.101.113': { name: 'Ed448', family: 'ed448', hash: null },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', family: 'dsa', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256', family: 'dsa', hash: 'sha256' },
};

const HASH_BY_OID: Record<string, HashName> = {
  [Oid.sha1]: 'sha1',
  [Oid.sha256]: 'sha256',
  [Oid.sha384]: 'sha384',
  [Oid.sha512]: 'sha512',
};

export class UnsupportedAlgorithmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedAlgorithmError';
  }
}

/** Parses an AlgorithmIdentifier element (RFC 5280 4.1.1.2). */
export function parseSignatureAlgorithm(buf: Uint8Array, el: DerElement): SignatureAlgorithm {
  if (el.tag !== Tag.SEQUENCE) throw new DerError('AlgorithmIdentifier is not a SEQUENCE');
  const parts = children(buf, el);
  const oid = readOid(
    buf,
    parts[0] ??
      (() => {
        throw new DerError('empty AlgorithmIdentifier');
      })(),
  );
  const entry = ALGORITHMS[oid];
  if (!entry) throw new UnsupportedAlgorithmError(`unsupported signature algorithm ${oid}`);
  if (entry.family !== 'rsa-pss') {
    return { oid, ...entry, weak: entry.hash === 'sha1' || entry.hash === 'md5' };
  }
  // RSASSA-PSS-params (RFC 4055 section 3.1): every field has a default.
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  const params = parts[1];
  if (params && params.tag === Tag.SEQUENCE) {
    for (const field of children(buf, params)) {
      const inner = readElement(buf, field.contentStart, field.end);
      if (field.tag === 0xa0) {
        const h = HASH_BY_OID[readOid(buf, readElement(buf, inner.contentStart, inner.end))];
        if (!h) throw new UnsupportedAlgorithmError('unsupported RSASSA-PSS hash');
        hash = h;
      } else if (field.tag === 0xa1) {
        const mgfParts = children(buf, inner);
        if (readOid(buf, mgfParts[0]!) !== Oid.mgf1) throw new UnsupportedAlgorithmError('unsupported RSASSA-PSS mask generation function');
        const mgfAlg = mgfParts[1];
        const h = mgfAlg ? HASH_BY_OID[readOid(buf, readElement(buf, mgfAlg.contentStart, mgfAlg.end))] : 'sha1';
        if (!h) throw new UnsupportedAlgorithmError('unsupported MGF1 hash');
        mgfHash = h;
      } else if (field.tag === 0xa2) {
        saltLength = readSmallInt(buf, inner);
      }
    }
  }
  // node:crypto's verify() uses the message digest for MGF1 as well.
  if (mgfHash !== hash) throw new UnsupportedAlgorithmError(`RSASSA-PSS with MGF1-${mgfHash} over ${hash} is not supported`);
  return { oid, name: `rsassa-pss-${hash}`, family: 'rsa-pss', hash, saltLength, weak: hash === 'sha1' };
}

/**
 * Why an MD5 signature is no evidence: MD5 collisions are practical (RFC 6151
 * section 2), so whoever can get one thing signed can forge another; the
 * Baseline Requirements (7.1.3.2) do not allow it. Such answers are refused,
 * in inspect and in check alike; SHA-1 is verified and reported as weak.
 */
export const md5Refusal = (algorithmName: string): string =>
  `signed with ${algorithmName}: MD5 signatures can be forged (RFC 6151), so the answer proves nothing`;

/**
 * Like parseSignatureAlgorithm, but an unsupported algorithm is returned as a
 * message instead of thrown: the structure is still readable, and the caller
 * reports it as a problem of the response or certificate.
 */
export function readSignatureAlgorithm(buf: Uint8Array, el: DerElement): { algorithm: SignatureAlgorithm | null; error: string | null } {
  try {
    return { algorithm: parseSignatureAlgorithm(buf, el), error: null };
  } catch (err) {
    return { algorithm: null, error: (err as Error).message };
  }
}

/**
 * KeyObjects are cached by the SubjectPublicKeyInfo bytes: a run verifies
 * thousands of responses from a handful of issuers, and importing a key costs
 * more than verifying with it.
 */
const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_LIMIT = 4096;

export function publicKeyFromSpki(spki: Uint8Array): KeyObject {
  const cacheKey = Buffer.from(spki.buffer, spki.byteOffset, spki.length).toString('base64');
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

function verifyArgs(alg: SignatureAlgorithm, key: KeyObject) {
  if (alg.family === 'rsa-pss') {
    return { digest: alg.hash, key: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.saltLength ?? 20 } };
  }
  return { digest: alg.hash, key };
}

/**
 * Verifies `signature` over `data`. Returns false for a wrong signature and
 * also for a key that does not fit the algorithm (an RSA key under an ECDSA
 * signature is simply not a valid signature).
 */
export function verifySignature(alg: SignatureAlgorithm, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  const { digest, key: keyArg } = verifyArgs(alg, key);
  try {
    return cryptoVerify(digest, data, keyArg, signature);
  } catch {
    return false;
  }
}

/** The signature bytes of a BIT STRING element. */
export function signatureBytes(buf: Uint8Array, el: DerElement): Uint8Array {
  return bitStringBytes(buf, el);
}

/**
 * SHA-1 over the subjectPublicKey BIT STRING contents (excluding tag, length
 * and unused-bits octet): the OCSP issuerKeyHash and byKey ResponderID
 * (RFC 6960 section 4.1.1 and 4.2.1).
 */
export function keyHash(spki: Uint8Array, hash: HashName = 'sha1'): Buffer {
  const outer = readElement(spki, 0);
  const parts = children(spki, outer);
  const bits = parts[1];
  if (!bits) throw new DerError('SubjectPublicKeyInfo without a key');
  return createHash(hash).update(bitStringBytes(spki, bits)).digest();
}
