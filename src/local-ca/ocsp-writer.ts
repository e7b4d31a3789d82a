/**
 * Writes signed OCSP responses (RFC 6960 section 4.2.1) for the local CA.
 */
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { Tag, derNull, encodeOid, enumerated, explicit, generalizedTime, integer, octetString, seq, tlv } from '../pki/der.js';
import { Oid } from '../pki/oids.js';
import { keyHash } from '../pki/signature.js';
import { signStructure, type KeyType } from './keys.js';

export interface OcspAnswer {
  readonly serial: string;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revocationTime?: number;
  readonly reasonCode?: number | null;
  readonly thisUpdate: number;
  readonly nextUpdate?: number | null;
}

export interface OcspSigner {
  readonly keyType: KeyType;
  readonly privateKey: KeyObject;
  readonly subjectName: Uint8Array;
  readonly spki: Uint8Array;
  /** The delegated responder certificate, included in `certs`; absent when the CA signs itself. */
  readonly certificateDer?: Uint8Array;
}

export interface OcspResponseInput {
  /** The CA the CertIDs name. */
  readonly issuerSubjectName: Uint8Array;
  readonly issuerSpki: Uint8Array;
  readonly signer: OcspSigner;
  readonly producedAt: number;
  readonly answers: readonly OcspAnswer[];
  readonly responderIdBy?: 'name' | 'key';
  readonly hash?: 'sha1' | 'sha256';
  readonly corruptSignature?: boolean;
}

const HASH_OID = { sha1: Oid.sha1, sha256: Oid.sha256 } as const;

export function writeOcspResponse(input: OcspResponseInput): Buffer {
  const hash = input.hash ?? 'sha1';
  const nameHash = createHash(hash).update(input.issuerSubjectName).digest();
  const issuerKeyHash = keyHash(input.issuerSpki, hash);
  const singles = input.answers.map((a) => {
    const certId = seq(seq(encodeOid(HASH_OID[hash]), derNull()), octetString(nameHash), octetString(issuerKeyHash), integer(a.serial));
    let status: Buffer;
    if (a.status === 'good') status = tlv(0x80);
    else if (a.status === 'unknown') status = tlv(0x82);
    else {
      const parts = [generalizedTime(a.revocationTime ?? a.thisUpdate)];
      if (a.reasonCode != null) parts.push(explicit(0, enumerated(a.reasonCode)));
      status = tlv(0xa1, ...parts);
    }
    const parts = [certId, status, generalizedTime(a.thisUpdate)];
    if (a.nextUpdate != null) parts.push(explicit(0, generalizedTime(a.nextUpdate)));
    return seq(...parts);
  });
  const responderId =
    (input.responderIdBy ?? 'key') === 'name'
      ? explicit(1, Buffer.from(input.signer.subjectName))
      : explicit(2, octetString(keyHash(input.signer.spki, 'sha1')));
  const tbs = seq(responderId, generalizedTime(input.producedAt), seq(...singles));
  const basicParts = signStructure(input.signer.keyType, input.signer.privateKey, tbs, input.corruptSignature);
  // signStructure returns SEQUENCE { tbs, alg, sig }; the certs field goes inside it.
  const basic = input.signer.certificateDer
    ? appendToSequence(basicParts, explicit(0, seq(Buffer.from(input.signer.certificateDer))))
    : basicParts;
  return seq(enumerated(0), explicit(0, seq(encodeOid(Oid.ocspBasic), octetString(basic))));
}

/** An OCSPResponse carrying only an error status (RFC 6960 4.2.1). */
export function writeOcspErrorResponse(status: 1 | 2 | 3 | 5 | 6): Buffer {
  return seq(enumerated(status));
}

function appendToSequence(sequence: Buffer, extra: Buffer): Buffer {
  // Re-read the outer header to get at the content.
  let p = 1;
  let len = sequence[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + sequence[p++]!;
  }
  return tlv(Tag.SEQUENCE, sequence.subarray(p, p + len), extra);
}
