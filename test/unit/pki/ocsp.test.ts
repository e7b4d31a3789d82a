import { beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import {
  OcspFormatError,
  OcspIssuer,
  buildOcspRequest,
  certIdMatchesIssuer,
  ocspGetUrl,
  parseOcspResponse,
  verifyOcspResponse,
} from '../../../src/pki/ocsp.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { writeOcspErrorResponse } from '../../../src/local-ca/ocsp-writer.js';
import { Oid } from '../../../src/pki/oids.js';
import { DAY, HOUR, T0, makeHierarchy } from '../../helpers/pki-fixtures.js';

describe('OCSP', () => {
  let h: Awaited<ReturnType<typeof makeHierarchy>>;
  let issuer: OcspIssuer;
  let serial: string;
  beforeAll(async () => {
    h = await makeHierarchy('ec-p256');
    issuer = new OcspIssuer(h.ca.info.raw);
    serial = h.leaf.info.serial;
  });

  const verify = (der: Buffer, at = T0 + HOUR, who = issuer, s: string | null = serial) =>
    verifyOcspResponse(parseOcspResponse(der), { issuer: who, serial: s, at });

  it('builds a request whose CertID names the issuer and serial (SHA-1 and SHA-256)', () => {
    for (const hash of ['sha1', 'sha256'] as const) {
      const der = buildOcspRequest(serial, issuer, hash);
      const req = AsnConvert.parse(der, OCSPRequest);
      const certId = req.tbsRequest.requestList[0]!.reqCert;
      expect(certId.hashAlgorithm.algorithm).toBe(hash === 'sha1' ? Oid.sha1 : Oid.sha256);
      expect(Buffer.from(certId.serialNumber).toString('hex').replace(/^00/, '')).toBe(serial);
      expect(
        certIdMatchesIssuer(
          {
            hashAlgorithm: certId.hashAlgorithm.algorithm,
            issuerNameHash: new Uint8Array(certId.issuerNameHash.buffer),
            issuerKeyHash: new Uint8Array(certId.issuerKeyHash.buffer),
            serial,
          },
          issuer,
        ),
      ).toBe(true);
    }
  });

  it('forms the GET URL from URL-encoded base64 (RFC 6960 A.1)', () => {
    const req = Buffer.from([0xfb, 0xff, 0xfe]);
    expect(ocspGetUrl('http://ocsp.example', req)).toBe('http://ocsp.example/%2B%2F%2F%2B');
    expect(ocspGetUrl('http://ocsp.example/', req)).toBe('http://ocsp.example/%2B%2F%2F%2B');
  });

  it('verifies an issuer-signed good answer and extracts its fields', () => {
    const der = h.ca.ocspResponse({
      answers: [{ serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + 4 * DAY }],
      producedAt: T0 + 60_000,
    });
    const v = verify(der);
    expect(v).toMatchObject({
      responseStatus: 'successful',
      signatureValid: true,
      signer: 'issuer',
      trusted: true,
      producedAt: T0 + 60_000,
      problems: [],
    });
    expect(v.match).toMatchObject({
      serial,
      status: 'good',
      thisUpdate: T0,
      nextUpdate: T0 + 4 * DAY,
      revocationTime: null,
      reasonCode: null,
    });
  });

  it.each([
    [1, 'keyCompromise'],
    [4, 'superseded'],
    [9, 'privilegeWithdrawn'],
    [null, 'no reason'],
  ])('reads a revoked answer with reason %s (%s)', (reasonCode, _name) => {
    const der = h.ca.ocspResponse({
      answers: [{ serial, status: 'revoked', revocationTime: T0 - 2 * HOUR, reasonCode, thisUpdate: T0, nextUpdate: T0 + DAY }],
      producedAt: T0,
      responderIdBy: 'name',
      hash: 'sha256',
    });
    const v = verify(der);
    expect(v.trusted).toBe(true);
    expect(v.match).toMatchObject({ status: 'revoked', revocationTime: T0 - 2 * HOUR, reasonCode });
  });

  it('accepts a delegated responder issued by the CA with id-kp-OCSPSigning, valid at producedAt', async () => {
    const responder = await h.ca.issueOcspResponder(T0 - DAY, T0 + 30 * DAY);
    const der = h.ca.ocspResponse({
      answers: [{ serial, status: 'unknown', thisUpdate: T0, nextUpdate: T0 + DAY }],
      producedAt: T0,
      signer: LocalCa.delegatedSigner(responder),
    });
    const v = verify(der);
    expect(v).toMatchObject({ signatureValid: true, signer: 'delegated', trusted: true });
    expect(v.match?.status).toBe('unknown');

    const late = h.ca.ocspResponse({
      answers: [{ serial, status: 'good', thisUpdate: T0 + 40 * DAY, nextUpdate: T0 + 41 * DAY }],
      producedAt: T0 + 40 * DAY,
      signer: LocalCa.delegatedSigner(responder),
    });
    const expired = verify(late, T0 + 40 * DAY);
    expect(expired.signatureValid).toBe(false);
    expect(expired.problems.map((p) => p.message).join()).toMatch(/not valid at producedAt/);
  });

  it('refuses a delegated responder without id-kp-OCSPSigning, or issued by another CA', async () => {
    const noEku = await h.ca.issue({
      subject: 'CN=not a responder',
      notBefore: T0 - DAY,
      notAfter: T0 + DAY,
      extendedKeyUsages: ['1.3.6.1.5.5.7.3.1'],
    });
    const a = verify(
      h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0 }], producedAt: T0, signer: LocalCa.delegatedSigner(noEku) }),
    );
    expect(a.signatureValid).toBe(false);
    expect(a.problems.find((p) => p.code === 'unauthorized-signer')?.message).toMatch(/OCSPSigning/);

    const foreign = await h.root.issueOcspResponder(T0 - DAY, T0 + DAY);
    const b = verify(
      h.ca.ocspResponse({
        answers: [{ serial, status: 'good', thisUpdate: T0 }],
        producedAt: T0,
        signer: LocalCa.delegatedSigner(foreign),
      }),
    );
    expect(b.signatureValid).toBe(false);
    expect(b.problems.find((p) => p.code === 'unauthorized-signer')?.message).toMatch(/not issued by/);
  });

  it('rejects a corrupted signature and an answer for another serial or issuer', async () => {
    const bad = verify(
      h.ca.ocspResponse({
        answers: [{ serial, status: 'revoked', revocationTime: T0, thisUpdate: T0 }],
        producedAt: T0,
        corruptSignature: true,
      }),
    );
    expect(bad).toMatchObject({ signatureValid: false, trusted: false });
    expect(bad.problems.map((p) => p.code)).toContain('bad-signature');

    const other = verify(h.ca.ocspResponse({ answers: [{ serial: 'abcd', status: 'good', thisUpdate: T0 }], producedAt: T0 }));
    expect(other.trusted).toBe(false);
    expect(other.problems.map((p) => p.code)).toContain('certid-mismatch');

    // Signed by the root about the same serial: neither signer nor CertID fits the leaf's issuer.
    const wrongIssuer = verify(h.root.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0 }], producedAt: T0 }));
    expect(wrongIssuer.trusted).toBe(false);
    expect(wrongIssuer.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['unauthorized-signer', 'certid-mismatch']));
  });

  it('flags stale answers, answers from the future and a missing nextUpdate', () => {
    const stale = verify(
      h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + HOUR }], producedAt: T0 }),
      T0 + 2 * HOUR,
    );
    expect(stale.problems.map((p) => p.code)).toEqual(['stale']);
    expect(stale.trusted).toBe(true);
    const future = verify(
      h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0 + DAY, nextUpdate: T0 + 2 * DAY }], producedAt: T0 + DAY }),
      T0,
    );
    expect(future.problems.map((p) => p.code)).toEqual(['future', 'future']);
    const open = verify(h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0 }], producedAt: T0 }), T0);
    expect(open.problems.map((p) => p.code)).toEqual(['no-next-update']);
  });

  it.each([
    [1, 'malformedRequest'],
    [2, 'internalError'],
    [3, 'tryLater'],
    [5, 'sigRequired'],
    [6, 'unauthorized'],
  ] as const)('reports responseStatus %i as %s, never trusted', (code, name) => {
    const v = verifyOcspResponse(parseOcspResponse(writeOcspErrorResponse(code)), { issuer, serial, at: T0 });
    expect(v).toMatchObject({ responseStatus: name, trusted: false, signatureValid: null, responses: [] });
  });

  it('without an issuer, reads the answer but leaves the signature unjudged', () => {
    const v = verifyOcspResponse(
      parseOcspResponse(h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + DAY }], producedAt: T0 })),
      { at: T0 },
    );
    expect(v).toMatchObject({ signatureValid: null, signer: null, trusted: false });
    expect(v.responses).toHaveLength(1);
  });

  it('throws OcspFormatError for garbage, truncation, or a CRL', () => {
    const good = h.ca.ocspResponse({ answers: [{ serial, status: 'good', thisUpdate: T0 }], producedAt: T0 });
    for (const bytes of [
      Buffer.from('<html>503</html>'),
      good.subarray(0, good.length - 3),
      Buffer.alloc(0),
      h.ca.crl({ entries: [], thisUpdate: T0, crlNumber: 1 }),
    ]) {
      expect(() => parseOcspResponse(bytes)).toThrow(OcspFormatError);
    }
  });

  it.each(['rsa-2048', 'ed25519'] as const)('verifies %s-signed responses', async (keyType) => {
    const ca = await LocalCa.create({ name: `OCSP ${keyType}`, keyType, notBefore: T0 - DAY, notAfter: T0 + DAY });
    const who = new OcspIssuer(ca.info.raw);
    expect(
      verify(ca.ocspResponse({ answers: [{ serial: '0a', status: 'good', thisUpdate: T0 }], producedAt: T0 }), T0, who, '0a')
        .signatureValid,
    ).toBe(true);
    expect(
      verify(
        ca.ocspResponse({ answers: [{ serial: '0a', status: 'good', thisUpdate: T0 }], producedAt: T0, corruptSignature: true }),
        T0,
        who,
        '0a',
      ).signatureValid,
    ).toBe(false);
  });
});
