/**
 * What the held-back corpus still found (issue 23 §3), rebuilt by hand so the
 * tests need no corpus: an empty Extension in crlExtensions, a CRL signed by
 * a key whose certificate may not sign CRLs, an OCSP answer vouched for by a
 * certificate that is not a CA, a PEM CRL after megabytes of text, and
 * SingleResponses that name another issuer when no --cert is given.
 * (Impossible dates: der.test.ts.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { scanCrl } from '../../../src/pki/crl.js';
import { DerError, seq } from '../../../src/pki/der.js';
import { writeCrl } from '../../../src/local-ca/crl-writer.js';
import { writeOcspResponse } from '../../../src/local-ca/ocsp-writer.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../../src/pki/ocsp.js';
import { notACaReason } from '../../../src/pki/raw-certificate.js';
import { isIssuerOf } from '../../../src/pki/certificate.js';
import { crlDer, inspectCrl, inspectOcsp, ocspEvidenceProblem, crlEvidenceProblem } from '../../../src/inspect/inspect.js';
import { InputError } from '../../../src/errors.js';
import { probeCrl } from '../../../src/check/probe.js';
import { DAY, HOUR, T0, makeHierarchy, serving } from '../../helpers/pki-fixtures.js';

describe('issue 23 §3: what the corpus found', () => {
  let h: Awaited<ReturnType<typeof makeHierarchy>>;
  /** An end-entity certificate with its key: keyUsage digitalSignature only, basicConstraints cA FALSE. */
  let leafKeys: Awaited<ReturnType<LocalCa['issue']>>;
  beforeAll(async () => {
    h = await makeHierarchy('ec-p256');
    leafKeys = await h.ca.issue({ subject: 'CN=not-a-ca.example', notBefore: T0 - DAY, notAfter: T0 + 90 * DAY });
  });

  it('an empty Extension SEQUENCE in crlExtensions is malformed input (exit 1), not a crash', async () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + 7 * DAY, crlNumber: 1, extraExtensions: [seq()] });
    await expect(scanCrl(crl, { at: T0 + HOUR })).rejects.toThrow(DerError);
    await expect(inspectCrl(crl, 'empty-ext.crl', { at: T0 + HOUR })).rejects.toThrow(InputError);
  });

  it('a CRL signed by a key whose certificate lacks cRLSign is not valid (RFC 5280 6.3.3(f)), in inspect and in check', async () => {
    const crl = writeCrl({
      issuerName: leafKeys.info.raw.subjectName,
      keyType: leafKeys.keys.type,
      privateKey: leafKeys.keys.privateKey,
      entries: [],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
    });
    const scan = await scanCrl(crl, { issuer: leafKeys.info.raw, at: T0 + HOUR });
    expect(scan.signatureValid).toBe(false);
    expect(scan.usable).toBe(false);
    expect(scan.problems.map((p) => p.code)).toEqual(['issuer-not-crl-signer']);
    const inspected = await inspectCrl(crl, 'x.crl', { issuer: leafKeys.info, at: T0 + HOUR });
    expect(crlEvidenceProblem(inspected)).toMatch(/signature does not verify/);
    const probed = await probeCrl({
      url: 'http://127.0.0.1:9/x.crl',
      serials: ['01'],
      issuer: leafKeys.info.raw,
      fetcher: serving(crl),
      now: () => T0 + HOUR,
    });
    expect(probed.outcomes[0]).toMatchObject({ status: 'error', error: { kind: 'unauthorized-signer' } });
    // The same CRL from the real CA, whose keyUsage has cRLSign, is valid.
    const good = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + 7 * DAY, crlNumber: 1 });
    expect((await scanCrl(good, { issuer: h.ca.info.raw, at: T0 + HOUR })).usable).toBe(true);
  });

  it('a certificate that is not a CA signs no certificate and vouches for no OCSP answer (RFC 5280 4.2.1.9)', async () => {
    expect(notACaReason(leafKeys.info.raw)).toMatch(/not a CA/);
    expect(notACaReason(h.ca.info.raw)).toBeNull();
    expect(isIssuerOf(h.ca.info, h.leaf.info)).toBe(true);
    // A "leaf" the non-CA signed: the signature verifies, the signer may not sign certificates.
    const signedByLeaf = writeOcspResponse({
      issuerSubjectName: leafKeys.info.raw.subjectName,
      issuerSpki: leafKeys.info.raw.spki,
      signer: {
        keyType: leafKeys.keys.type,
        privateKey: leafKeys.keys.privateKey,
        subjectName: leafKeys.info.raw.subjectName,
        spki: leafKeys.info.raw.spki,
      },
      producedAt: T0,
      answers: [{ serial: '0abc', status: 'good', thisUpdate: T0, nextUpdate: T0 + 4 * DAY }],
    });
    const v = verifyOcspResponse(parseOcspResponse(signedByLeaf), {
      issuer: new OcspIssuer(leafKeys.info.raw),
      serial: '0abc',
      at: T0 + HOUR,
    });
    expect(v.trusted).toBe(false);
    expect(v.problems.find((p) => p.code === 'unauthorized-signer')?.message).toMatch(/not a CA/);
  });

  it('finds a PEM CRL after megabytes of text, as `openssl crl -text -out` writes it', async () => {
    const der = h.ca.crl({
      entries: [{ serial: h.leaf.info.serial, revocationDate: T0 - HOUR, reasonCode: 1 }],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 3,
    });
    const text = 'Certificate Revocation List (CRL):\n'.padEnd(3 * 1024 * 1024, '    Serial Number: 0123456789ABCDEF\n');
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
    const file = Buffer.from(text + pem, 'latin1');
    expect(Buffer.from(crlDer(file, 'dump.pem')).equals(der)).toBe(true);
    const r = await inspectCrl(file, 'dump.pem', { issuer: h.ca.info, serials: [h.leaf.info.serial], at: T0 + HOUR });
    expect(r.signatureValid).toBe(true);
    expect(r.matches.map((m) => m.serial)).toEqual([h.leaf.info.serial]);
    // DER passes through untouched, and a PEM of another kind is named.
    expect(crlDer(der, 'x.der')).toBe(der);
    expect(() => crlDer(Buffer.from(`${text}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`), 'c.pem')).toThrow(
      /holds a PEM CERTIFICATE/,
    );
  });

  it('inspect ocsp --issuer without --cert checks every CertID against the issuer (openssl WSNIC: same key, other name)', async () => {
    const other = await LocalCa.create({ name: 'Other Name CA', notBefore: T0 - DAY, notAfter: T0 + 100 * DAY });
    // Signed by h.ca, whose key the CertIDs name, under another issuer's name.
    const der = writeOcspResponse({
      issuerSubjectName: other.info.raw.subjectName,
      issuerSpki: h.ca.info.raw.spki,
      signer: h.ca.signer,
      producedAt: T0,
      answers: [{ serial: h.leaf.info.serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + 4 * DAY }],
    });
    const r = inspectOcsp(der, 'wsnic.der', { issuer: h.ca.info, cert: null, at: T0 + HOUR });
    expect(r.signatureValid).toBe(true);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/issuerNameHash does not match the given issuer/)]);
    expect(ocspEvidenceProblem(r)).toMatch(/issuerNameHash/);
    // The honest response, with the same signer and the right name, is evidence.
    const honest = h.ca.ocspResponse({
      producedAt: T0,
      answers: [{ serial: h.leaf.info.serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + 4 * DAY }],
    });
    expect(ocspEvidenceProblem(inspectOcsp(honest, 'ok.der', { issuer: h.ca.info, cert: null, at: T0 + HOUR }))).toBeNull();
  });
});
