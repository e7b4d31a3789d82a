/**
 * Parsed certificates and their imported public keys, cached by the
 * certificate's exact bytes.
 *
 * A check run verifies thousands of OCSP responses signed by a handful of
 * keys: the issuer's, or a delegated responder's whose certificate rides in
 * every response (RFC 6960 4.2.2.2). Re-parsing that certificate and
 * re-importing its key for each response cost more than the one signature
 * check a response needs.
 *
 * Only what follows from the bytes alone is kept: the DER parse and the
 * KeyObject. Nothing here says whether a signature is good or a signer is
 * authorised: every response is still verified with the key, every time.
 */
import type { KeyObject } from 'node:crypto';
import { certificateKey, parseRawCertificate, sameBytes, type RawCertificate } from './raw-certificate.js';

interface Entry {
  /** A private copy: the caller's buffer may be reused for the next response. */
  readonly der: Buffer;
  readonly cert: RawCertificate;
}

/** Bounded so that a responder sending a new certificate with every answer cannot grow memory without limit. */
const LIMIT = 1024;
/** The last bytes of a certificate are its signature: a well-spread lookup key, confirmed by comparing the whole DER. */
const TAIL = 32;

const byBytes = new Map<string, Entry>();
const keys = new WeakMap<RawCertificate, KeyObject>();

const lookupKey = (der: Uint8Array): string =>
  `${der.length}:${Buffer.from(der.buffer, der.byteOffset + Math.max(0, der.length - TAIL), Math.min(TAIL, der.length)).toString('latin1')}`;

/** The certificate parsed from `der`, reusing an earlier parse of identical bytes. Throws as parseRawCertificate does. */
export function cachedRawCertificate(der: Uint8Array): RawCertificate {
  const key = lookupKey(der);
  const hit = byBytes.get(key);
  if (hit && sameBytes(hit.der, der)) return hit.cert;
  const copy = Buffer.from(der);
  const cert = parseRawCertificate(copy);
  if (byBytes.size >= LIMIT) byBytes.clear();
  byBytes.set(key, { der: copy, cert });
  return cert;
}

/** The certificate's public key, imported once per parsed certificate. Throws as certificateKey does. */
export function cachedCertificateKey(cert: RawCertificate): KeyObject {
  let key = keys.get(cert);
  if (!key) {
    key = certificateKey(cert);
    keys.set(cert, key);
  }
  return key;
}

/** Empties the cache (tests). */
export function clearKeyCache(): void {
  byBytes.clear();
}
