/**
 * Leaf certificates for benchmarks, written straight to DER and signed with
 * node:crypto (ECDSA P-256 issuers only): issuing tens of thousands through
 * an ASN.1 object model or `openssl ca` would take minutes and is not what is
 * being measured.
 */
import { sign, type KeyObject } from 'node:crypto';
import { Tag, encodeOid, explicit, integer, octetString, seq, set, tlv, x509Time } from '../src/pki/der.js';

const ECDSA_SHA256 = seq(encodeOid('1.2.840.10045.4.3.2'));
const name = (cn: string): Buffer => seq(set(seq(encodeOid('2.5.4.3'), tlv(Tag.UTF8_STRING, Buffer.from(cn)))));
const ext = (oid: string, value: Buffer, critical = false): Buffer =>
  critical ? seq(encodeOid(oid), Buffer.from([Tag.BOOLEAN, 1, 0xff]), octetString(value)) : seq(encodeOid(oid), octetString(value));

export interface LeafSpec {
  readonly issuerName: Uint8Array;
  readonly issuerKey: KeyObject;
  readonly serial: bigint;
  readonly cn: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** The subject's SubjectPublicKeyInfo DER (shared between leaves: only the issuer's signature matters here). */
  readonly spki: Uint8Array;
  readonly crlUrl?: string | null;
  readonly ocspUrl?: string | null;
  readonly caIssuersUrl?: string | null;
}

export function leafDer(spec: LeafSpec): Buffer {
  const exts: Buffer[] = [ext('2.5.29.19', seq(), true)];
  if (spec.crlUrl) exts.push(ext('2.5.29.31', seq(seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(spec.crlUrl))))))));
  const access: Buffer[] = [];
  if (spec.ocspUrl) access.push(seq(encodeOid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from(spec.ocspUrl))));
  if (spec.caIssuersUrl) access.push(seq(encodeOid('1.3.6.1.5.5.7.48.2'), tlv(0x86, Buffer.from(spec.caIssuersUrl))));
  if (access.length) exts.push(ext('1.3.6.1.5.5.7.1.1', seq(...access)));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(spec.serial),
    ECDSA_SHA256,
    Buffer.from(spec.issuerName),
    seq(x509Time(spec.notBefore), x509Time(spec.notAfter)),
    name(spec.cn),
    Buffer.from(spec.spki),
    explicit(3, seq(...exts)),
  );
  const sig = sign('sha256', tbs, spec.issuerKey);
  return seq(tbs, ECDSA_SHA256, tlv(Tag.BIT_STRING, Uint8Array.of(0), sig));
}
