import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { InputError } from '../../../src/errors.js';
import { readCaIssuersResponse, readCertificates, resolveIssuer } from '../../../src/pki/certificate.js';
import { X509Certificate, X509Certificates } from '../../../src/pki/x509.js';
import { Oid } from '../../../src/pki/oids.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { DAY, T0, makeHierarchy } from '../../helpers/pki-fixtures.js';

const pem = (der: Uint8Array, eol = '\n') =>
  `-----BEGIN CERTIFICATE-----${eol}${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, `$1${eol}`)}${eol}-----END CERTIFICATE-----${eol}`;

describe('certificates', () => {
  let h: Awaited<ReturnType<typeof makeHierarchy>>;
  beforeAll(async () => {
    h = await makeHierarchy('ec-p256');
  });

  it('extracts the fields revwatch tracks', () => {
    const [info] = readCertificates(h.leaf.info.der, 'leaf.der');
    const reference = new X509Certificate(Buffer.from(h.leaf.info.der));
    expect(info!.sha256).toBe(createHash('sha256').update(h.leaf.info.der).digest('hex'));
    expect(info!.serial).toBe(reference.serialNumber.toLowerCase().replace(/^(00)+/, ''));
    expect(info!.serial).toMatch(/^[0-9a-f]+$/);
    expect(info!.subject).toBe('CN=leaf.example');
    expect(info!.issuer).toBe(h.ca.info.subject);
    expect(info!.notBefore).toBe(T0 - 10 * DAY);
    expect(info!.notAfter).toBe(T0 + 80 * DAY);
    expect(info!.ocspUrls).toEqual(['http://127.0.0.1:1/ocsp']);
    expect(info!.crlUrls).toEqual(['http://127.0.0.1:1/ca.crl']);
    expect(info!.precertificate).toBe(false);
    expect(info!.isCA).toBe(false);
    expect(info!.authorityKeyId).toBe(h.ca.info.subjectKeyId);
    expect(h.ca.info.isCA).toBe(true);
  });

  it('reads PEM bundles with CRLF, LF and text around the blocks', () => {
    const text = `Subject: leaf\r\n${pem(h.leaf.info.der, '\r\n')}some notes\n${pem(h.ca.info.der)}trailer`;
    const certs = readCertificates(Buffer.from(text), 'bundle.pem');
    expect(certs.map((c) => c.subject)).toEqual(['CN=leaf.example', h.ca.info.subject]);
  });

  it.each([
    ['an empty file', Buffer.alloc(0), /bundle is not a certificate: it is empty/],
    ['a private key', Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), /it holds a PEM PRIVATE KEY/],
    ['plain text', Buffer.from('hello'), /neither PEM nor DER/],
    ['random DER', Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]), /DER, but not an X.509 certificate/],
  ])('rejects %s with one line saying what it is not', (_what, bytes, message) => {
    expect(() => readCertificates(bytes, 'bundle')).toThrow(InputError);
    expect(() => readCertificates(bytes, 'bundle')).toThrow(message);
  });

  it('says so when given a CRL instead of a certificate', () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    expect(() => readCertificates(crl, 'x.crl')).toThrow(/x.crl is not a certificate: it is a CRL/);
  });

  it('finds the issuer in --issuer, in the bundle, or at the AIA caIssuers URL (DER, PEM or PKCS#7)', async () => {
    const leaf = h.leaf.info;
    expect((await resolveIssuer(leaf, { given: [h.root.info, h.ca.info] })).via).toBe('given');
    expect((await resolveIssuer(leaf, { bundle: [leaf, h.ca.info] })).issuer.sha256).toBe(h.ca.info.sha256);

    const aiaLeaf = (
      await h.ca.issue({
        subject: 'CN=aia.example',
        notBefore: T0,
        notAfter: T0 + DAY,
        caIssuersUrls: ['http://ca.example/ca.p7c'],
        ocspUrls: ['http://ocsp.example'],
      })
    ).info;
    const p7 = new Uint8Array(new X509Certificates([new X509Certificate(Buffer.from(h.ca.info.der))]).export('raw'));
    for (const served of [h.ca.info.der, Buffer.from(pem(h.ca.info.der)), p7]) {
      const fetched: string[] = [];
      const r = await resolveIssuer(aiaLeaf, {
        fetchCaIssuers: async (url) => {
          fetched.push(url);
          return served;
        },
      });
      expect(r).toMatchObject({ via: 'aia' });
      expect(r.issuer.sha256).toBe(h.ca.info.sha256);
      expect(fetched).toEqual(['http://ca.example/ca.p7c']);
    }
    expect(readCaIssuersResponse(p7, 'p7')).toHaveLength(1);
    await expect(resolveIssuer(aiaLeaf, { bundle: [h.root.info] })).rejects.toThrow(/no issuer found/);
  });

  it('checks a precertificate signed by a Precertificate Signing Certificate against the CA above it (RFC 6962 3.1)', async () => {
    const psc = await LocalCa.create({
      name: 'CN=Precertificate Signing',
      notBefore: T0 - DAY,
      notAfter: T0 + 100 * DAY,
      parent: h.ca,
      extendedKeyUsages: [Oid.ctPrecertSigning],
    });
    expect(psc.info.precertSigning).toBe(true);
    const precert = (await psc.issue({ subject: 'CN=precert.example', notBefore: T0, notAfter: T0 + 90 * DAY, precertificate: true })).info;
    expect(precert.precertificate).toBe(true);
    const r = await resolveIssuer(precert, { bundle: [psc.info, h.ca.info] });
    expect(r.issuer.sha256).toBe(psc.info.sha256);
    expect(r.revocationIssuer.sha256).toBe(h.ca.info.sha256);
    await expect(resolveIssuer(precert, { bundle: [psc.info] })).rejects.toThrow(/Precertificate Signing Certificate/);

    // An ordinary intermediate is its own revocation issuer.
    const sub = await LocalCa.create({ name: 'CN=Ordinary Sub', notBefore: T0 - DAY, notAfter: T0 + 100 * DAY, parent: h.ca });
    const leaf = (await sub.issue({ subject: 'CN=x.example', notBefore: T0, notAfter: T0 + DAY })).info;
    expect((await resolveIssuer(leaf, { bundle: [sub.info, h.ca.info] })).revocationIssuer.sha256).toBe(sub.info.sha256);
  });
});
