/**
 * OCSP requests come from the project's DER writer; @peculiar/asn1-ocsp is
 * kept here as the oracle: for the same CertID inputs both encoders must
 * produce the same bytes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { OcspIssuer, buildOcspRequest, type CertIdHash } from '../../../src/pki/ocsp.js';
import { Oid } from '../../../src/pki/oids.js';
import { serialHex } from '../../../src/pki/der.js';
import { makeHierarchy } from '../../helpers/pki-fixtures.js';

const HASHES: readonly CertIdHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];
const HASH_OID: Record<CertIdHash, string> = { sha1: Oid.sha1, sha256: Oid.sha256, sha384: Oid.sha384, sha512: Oid.sha512 };

/** Two's-complement INTEGER content for a serial in revwatch's form, computed independently of der.ts. */
function oracleSerialContent(serial: string): Uint8Array {
  const negative = serial.startsWith('-');
  const magnitude = BigInt(`0x${negative ? serial.slice(1) : serial}`);
  const value = negative ? -magnitude : magnitude;
  for (let bytes = 1; ; bytes++) {
    const min = -(1n << BigInt(bytes * 8 - 1));
    const max = (1n << BigInt(bytes * 8 - 1)) - 1n;
    if (value >= min && value <= max) {
      const unsigned = value < 0n ? (1n << BigInt(bytes * 8)) + value : value;
      return Uint8Array.from(Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex'));
    }
  }
}

function oracleRequest(serial: string, issuer: OcspIssuer, hash: CertIdHash): Buffer {
  const content = oracleSerialContent(serial);
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: HASH_OID[hash], parameters: null }),
    issuerNameHash: new OctetString(issuer.nameHash(hash)),
    issuerKeyHash: new OctetString(issuer.keyHash(hash)),
    serialNumber: content.buffer.slice(content.byteOffset, content.byteOffset + content.length) as ArrayBuffer,
  });
  return Buffer.from(
    AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })),
  );
}

describe('buildOcspRequest against @peculiar/asn1-ocsp', () => {
  const issuers: { name: string; issuer: OcspIssuer }[] = [];
  beforeAll(async () => {
    for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
      const h = await makeHierarchy(keyType);
      issuers.push({ name: keyType, issuer: new OcspIssuer(h.ca.info.raw) });
    }
  });

  // Serial shapes that trip encoders: one byte; high bit set (DER needs a 00
  // pad); a zero nibble or zero byte right after the first; exactly 20 bytes
  // (RFC 5280 4.1.2.2's limit) with and without the high bit; 0; and the
  // negative serials real CAs have issued (PKITS 4.4.14/15).
  const SERIALS = [
    '01',
    '7f',
    '80',
    'ff',
    '0100',
    '0a',
    '8000',
    '00',
    '7fffffffffffffffffffffffffffffffffffffff',
    'ffffffffffffffffffffffffffffffffffffffff',
    '80000000000000000000000000000000000000',
    '0123456789abcdef0123456789abcdef',
    '-01',
    '-80',
    '-81',
    '-0100',
  ];

  it.each(SERIALS)('serial %s: byte-equal for every CertID hash and issuer key type', (serial) => {
    for (const { name, issuer } of issuers) {
      for (const hash of HASHES) {
        const mine = buildOcspRequest(serial, issuer, hash);
        const theirs = oracleRequest(serial, issuer, hash);
        expect(mine.toString('hex'), `${name} ${hash}`).toBe(theirs.toString('hex'));
      }
    }
  });

  it('is byte-equal for random positive serials of 1 to 20 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 20 }), fc.constantFrom(...HASHES), (bytes, hash) => {
        // Serials as revwatch stores them: the minimal hex of a positive integer.
        const serial = serialHex(Uint8Array.of(0, ...bytes));
        const { issuer } = issuers[0]!;
        expect(buildOcspRequest(serial, issuer, hash).equals(oracleRequest(serial, issuer, hash))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('parses back to the serial, hash and issuer hashes it was built from', () => {
    const { issuer } = issuers[0]!;
    const req = AsnConvert.parse(buildOcspRequest('80ff', issuer, 'sha256'), OCSPRequest);
    const certId = req.tbsRequest.requestList[0]!.reqCert;
    expect(certId.hashAlgorithm.algorithm).toBe(Oid.sha256);
    expect(Buffer.from(certId.serialNumber).toString('hex')).toBe('0080ff');
    expect(Buffer.from(certId.issuerNameHash.buffer).equals(issuer.nameHash('sha256'))).toBe(true);
    expect(Buffer.from(certId.issuerKeyHash.buffer).equals(issuer.keyHash('sha256'))).toBe(true);
  });
});
