/**
 * Keys for the local CA: generated with WebCrypto (which @peculiar/x509 signs
 * certificates with) and exported as node:crypto KeyObjects for signing CRLs
 * and OCSP responses over raw DER.
 */
import { KeyObject, sign as cryptoSign, webcrypto } from 'node:crypto';
import { cryptoProvider } from '../pki/x509.js';
import { Tag, derNull, encodeOid, seq, tlv } from '../pki/der.js';

cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * `rsa-2048-sha1` signs with RSASSA-PKCS1-v1_5 and SHA-1 (sha1WithRSAEncryption): what BR 7.1.3.2.1
 * (2.2.5, SC097) ends on 2026-09-15, so tests can build the sub-CAs and CRLs that rule finds.
 */
export type KeyType = 'rsa-2048' | 'rsa-2048-sha1' | 'ec-p256' | 'ec-p384' | 'ed25519';

export interface KeyMaterial {
  readonly type: KeyType;
  readonly keys: CryptoKeyPair;
  readonly privateKey: KeyObject;
  /** WebCrypto algorithm used by @peculiar/x509 to sign certificates. */
  readonly signingAlgorithm: webcrypto.Algorithm | webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
}

export async function generateKeyMaterial(type: KeyType): Promise<KeyMaterial> {
  const subtle = webcrypto.subtle;
  let keys: CryptoKeyPair;
  let signingAlgorithm: KeyMaterial['signingAlgorithm'];
  switch (type) {
    case 'rsa-2048':
    case 'rsa-2048-sha1': {
      const hash = type === 'rsa-2048' ? 'SHA-256' : 'SHA-1';
      const alg = { name: 'RSASSA-PKCS1-v1_5', hash, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
      keys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
      signingAlgorithm = { name: 'RSASSA-PKCS1-v1_5', hash } as webcrypto.RsaHashedImportParams;
      break;
    }
    case 'ec-p256':
    case 'ec-p384': {
      const namedCurve = type === 'ec-p256' ? 'P-256' : 'P-384';
      keys = (await subtle.generateKey({ name: 'ECDSA', namedCurve }, true, ['sign', 'verify'])) as CryptoKeyPair;
      signingAlgorithm = { name: 'ECDSA', hash: type === 'ec-p256' ? 'SHA-256' : 'SHA-384' } as webcrypto.EcdsaParams;
      break;
    }
    case 'ed25519': {
      keys = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
      signingAlgorithm = { name: 'Ed25519' };
      break;
    }
  }
  return { type, keys, privateKey: KeyObject.from(keys.privateKey), signingAlgorithm };
}

/** The AlgorithmIdentifier (RFC 5280 4.1.1.2) this key signs CRLs and OCSP responses with. */
export function signatureAlgorithmDer(type: KeyType): Buffer {
  switch (type) {
    case 'rsa-2048':
      return seq(encodeOid('1.2.840.113549.1.1.11'), derNull());
    case 'rsa-2048-sha1':
      return seq(encodeOid('1.2.840.113549.1.1.5'), derNull());
    case 'ec-p256':
      return seq(encodeOid('1.2.840.10045.4.3.2'));
    case 'ec-p384':
      return seq(encodeOid('1.2.840.10045.4.3.3'));
    case 'ed25519':
      return seq(encodeOid('1.3.101.112'));
  }
}

export function signDer(type: KeyType, key: KeyObject, tbs: Uint8Array): Buffer {
  const digest = type === 'ed25519' ? null : type === 'ec-p384' ? 'sha384' : type === 'rsa-2048-sha1' ? 'sha1' : 'sha256';
  return cryptoSign(digest, tbs, key);
}

/** Wraps TBS bytes into a signed structure: SEQUENCE { tbs, algorithm, BIT STRING signature }. */
export function signStructure(type: KeyType, key: KeyObject, tbs: Buffer, corruptSignature = false): Buffer {
  const signature = signDer(type, key, tbs);
  if (corruptSignature) signature[signature.length - 1]! ^= 0x01;
  return seq(tbs, signatureAlgorithmDer(type), tlv(Tag.BIT_STRING, Uint8Array.of(0), signature));
}
