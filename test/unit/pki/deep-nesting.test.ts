/**
 * A DER blob nested 20,000 levels deep (constructed SEQUENCEs, and the same
 * depth inside a certificate-, CRL- and OCSP-shaped outer SEQUENCE) fed to
 * every parser of untrusted bytes: each must end in its clean format error,
 * never a RangeError from a blown stack (issue #23 keeps this passing).
 */
import { describe, expect, it } from 'vitest';
import { scanCrl } from '../../../src/pki/crl.js';
import { describeCertificate, describeCertificateWithX509, readCertificates } from '../../../src/pki/certificate.js';
import { DerError, encodeLength } from '../../../src/pki/der.js';
import { OcspFormatError, parseOcspResponse } from '../../../src/pki/ocsp.js';
import { parseRawCertificate } from '../../../src/pki/raw-certificate.js';

const DEPTH = 20_000;

/** `depth` SEQUENCEs, each the only content of the one around it, with `core` innermost. */
function nested(depth: number, core: Uint8Array = Uint8Array.of(0x05, 0x00), tag = 0x30): Buffer {
  let inner = Buffer.from(core);
  for (let i = 0; i < depth; i++) inner = Buffer.concat([Uint8Array.of(tag), encodeLength(inner.length), inner]);
  return inner;
}

const seqOf = (...parts: Uint8Array[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Uint8Array.of(0x30), encodeLength(body.length), body]);
};

const BLOBS: [string, Buffer][] = [
  ['20,000 nested SEQUENCEs', nested(DEPTH)],
  ['20,000 nested [0] EXPLICIT tags', nested(DEPTH, undefined, 0xa0)],
  // Where a parser descends without checking: the first element of a
  // certificate / CRL / BasicOCSPResponse is itself a SEQUENCE (tbs).
  [
    'a SEQUENCE whose first element is nested 20,000 deep',
    seqOf(nested(DEPTH), seqOf(Uint8Array.of(0x06, 0x00)), Uint8Array.of(0x03, 0x01, 0x00)),
  ],
  // OCSPResponse: responseStatus, then [0] { SEQUENCE { OID, OCTET STRING { deep } } }.
  [
    'an OCSP response whose BasicOCSPResponse is nested 20,000 deep',
    (() => {
      const deep = nested(DEPTH);
      const octet = Buffer.concat([Uint8Array.of(0x04), encodeLength(deep.length), deep]);
      const basicOid = Buffer.from('06092b0601050507300101', 'hex');
      const rb = seqOf(basicOid, octet);
      const tagged = Buffer.concat([Uint8Array.of(0xa0), encodeLength(rb.length), rb]);
      return seqOf(Uint8Array.of(0x0a, 0x01, 0x00), tagged);
    })(),
  ],
];

/** Runs `parse` and returns what it threw, failing on a RangeError (a stack overflow) or on no error at all. */
async function thrownBy(parse: () => unknown): Promise<unknown> {
  try {
    await parse();
  } catch (error) {
    expect(error, String(error)).not.toBeInstanceOf(RangeError);
    expect(String((error as Error).message)).not.toMatch(/call stack/i);
    return error;
  }
  throw new Error('parsed a 20,000-deep blob without an error');
}

describe('DER nested 20,000 deep', () => {
  it.each(BLOBS)('%s: every parser ends in its format error, no stack overflow', async (_name, blob) => {
    expect(await thrownBy(() => scanCrl(blob, { at: Date.now() }))).toBeInstanceOf(DerError);
    expect(await thrownBy(() => parseOcspResponse(blob))).toBeInstanceOf(OcspFormatError);
    expect(await thrownBy(() => parseRawCertificate(blob))).toBeInstanceOf(DerError);
    await thrownBy(() => describeCertificate(blob, 'deep.der'));
    await thrownBy(() => describeCertificateWithX509(blob, 'deep.der'));
    await thrownBy(() => readCertificates(blob, 'deep.der'));
  });
});
