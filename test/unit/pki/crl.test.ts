import { beforeAll, describe, expect, it } from 'vitest';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { X509Crl } from '../../../src/pki/x509.js';
import { scanCrl, normalizeSerialHex } from '../../../src/pki/crl.js';
import { DerError, Tag, encodeOid, explicit, integer, seq, tlv, x509Time } from '../../../src/pki/der.js';
import { extensionDer } from '../../../src/local-ca/crl-writer.js';
import { parseRawCertificate } from '../../../src/pki/raw-certificate.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { DAY, HOUR, T0, makeHierarchy } from '../../helpers/pki-fixtures.js';

describe('scanCrl', () => {
  let h: Awaited<ReturnType<typeof makeHierarchy>>;
  beforeAll(async () => {
    h = await makeHierarchy('ec-p256');
  });

  const serials = (n: number) => Array.from({ length: n }, (_, i) => (0x1000000n + BigInt(i) * 7919n).toString(16));

  it('finds a revoked serial with its date, reason and invalidity date, and verifies the signature', async () => {
    const target = h.leaf.info.serial;
    const crl = h.ca.crl({
      entries: [
        ...serials(50).map((s) => ({ serial: s, revocationDate: T0 - DAY, reasonCode: 4 })),
        { serial: target, revocationDate: T0 + 2 * HOUR, reasonCode: 1, invalidityDate: T0 - 3 * DAY },
      ],
      thisUpdate: T0 + 3 * HOUR,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 42,
    });
    const scan = await scanCrl(crl, { serials: [target, 'abcdef'], issuer: h.ca.info.raw, at: T0 + 4 * HOUR });
    expect(scan.signatureValid).toBe(true);
    expect(scan.usable).toBe(true);
    expect(scan.entries).toBe(51);
    expect(scan.crlNumber).toBe('42');
    expect(scan.thisUpdate).toBe(T0 + 3 * HOUR);
    expect(scan.nextUpdate).toBe(T0 + 7 * DAY);
    expect(scan.matches.get(target)).toEqual({
      serial: target,
      revocationDate: T0 + 2 * HOUR,
      reasonCode: 1,
      invalidityDate: T0 - 3 * DAY,
    });
    expect(scan.matches.has('abcdef')).toBe(false);
    expect(scan.problems).toEqual([]);
    expect(scan.issuer).toBe(h.ca.info.subject);
  });

  it('matches serials whatever their leading zeros or case', async () => {
    const crl = h.ca.crl({
      entries: [
        { serial: '00ff01', revocationDate: T0 },
        { serial: '7f', revocationDate: T0 },
      ],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 1,
    });
    const scan = await scanCrl(crl, { serials: ['0x00FF01', '007F', '80'], at: T0 });
    expect([...scan.matches.keys()].sort()).toEqual(['7f', 'ff01']);
    expect(scan.signatureValid).toBeNull();
  });

  it('agrees with @peculiar/x509 on every entry of a 2,000-entry CRL', async () => {
    const all = serials(2000);
    const entries = all.map((s, i) => ({
      serial: s,
      revocationDate: T0 - i * 60_000,
      reasonCode: i % 3 === 0 ? null : [1, 4, 5, 9][i % 4]!,
    }));
    const crl = h.ca.crl({ entries, thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 7 });
    const scan = await scanCrl(crl, { serials: all, issuer: h.ca.info.raw, at: T0 });
    const reference = new X509Crl(crl, { berOptions: { maxNodes: Infinity, maxContentLength: Infinity } });
    expect(scan.entries).toBe(reference.entries.length);
    for (const entry of reference.entries) {
      const serial = normalizeSerialHex(entry.serialNumber);
      const mine = scan.matches.get(serial);
      expect(mine?.revocationDate).toBe(entry.revocationDate.getTime());
      expect(mine?.reasonCode ?? null).toBe(entry.reason ?? null);
    }
  });

  it('reports a corrupted signature and a wrong issuer as unusable', async () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1, corruptSignature: true });
    const bad = await scanCrl(crl, { issuer: h.ca.info.raw, at: T0 });
    expect(bad.signatureValid).toBe(false);
    expect(bad.usable).toBe(false);
    expect(bad.problems.map((p) => p.code)).toContain('bad-signature');

    const good = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    const wrongIssuer = await scanCrl(good, { issuer: h.root.info.raw, at: T0 });
    expect(wrongIssuer.signatureValid).toBe(false);
    expect(wrongIssuer.problems.map((p) => p.code)).toContain('issuer-name-mismatch');
  });

  it('judges freshness at the given time', async () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    expect((await scanCrl(crl, { at: T0 + 2 * DAY })).problems.map((p) => p.code)).toEqual(['stale']);
    expect((await scanCrl(crl, { at: T0 - DAY })).problems.map((p) => p.code)).toEqual(['not-yet-valid']);
    const noNext = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: null, crlNumber: 1 });
    expect((await scanCrl(noNext, { at: T0 })).problems.map((p) => p.code)).toEqual(['no-next-update']);
  });

  it('reads GeneralizedTime dates (2050 and later) as well as UTCTime', async () => {
    const late = Date.parse('2051-06-01T12:00:00Z');
    const crl = h.ca.crl({ entries: [{ serial: '01', revocationDate: late }], thisUpdate: T0, nextUpdate: late + DAY, crlNumber: 1 });
    const scan = await scanCrl(crl, { serials: ['01'], at: T0 });
    expect(scan.matches.get('01')?.revocationDate).toBe(late);
    expect(scan.nextUpdate).toBe(late + DAY);
  });

  it('makes the CRL unusable for an unknown critical CRL extension or entry extension', async () => {
    const unknownCritical = extensionDer('1.2.3.4.5', Uint8Array.of(0x05, 0x00), true);
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1, extraExtensions: [unknownCritical] });
    const a = await scanCrl(crl, { issuer: h.ca.info.raw, at: T0 });
    expect(a.usable).toBe(false);
    expect(a.problems.map((p) => p.code)).toEqual(['unknown-critical-extension']);

    const entryCrl = h.ca.crl({
      entries: [{ serial: '02', revocationDate: T0, extraExtensions: [unknownCritical] }],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 1,
    });
    const b = await scanCrl(entryCrl, { issuer: h.ca.info.raw, at: T0 });
    expect(b.usable).toBe(false);
    expect(b.problems.map((p) => p.code)).toEqual(['unknown-critical-entry-extension']);

    const nonCritical = extensionDer('1.2.3.4.5', Uint8Array.of(0x05, 0x00), false);
    const c = await scanCrl(
      h.ca.crl({
        entries: [{ serial: '02', revocationDate: T0, extraExtensions: [nonCritical] }],
        thisUpdate: T0,
        nextUpdate: T0 + DAY,
        crlNumber: 1,
      }),
      { at: T0 },
    );
    expect(c.usable).toBe(true);
  });

  it('reports indirect CRL entries and delta CRLs as unsupported', async () => {
    const certIssuer = extensionDer('2.5.29.29', seq(tlv(0xa4, Buffer.from(h.root.info.raw.subjectName))), true);
    const indirect = h.ca.crl({
      entries: [{ serial: '03', revocationDate: T0, extraExtensions: [certIssuer] }],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 1,
    });
    expect((await scanCrl(indirect, { at: T0 })).problems.map((p) => p.code)).toEqual(['indirect-crl-unsupported']);
    const delta = h.ca.crl({
      entries: [],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 2,
      extraExtensions: [extensionDer('2.5.29.27', integer(1), true)],
    });
    const d = await scanCrl(delta, { at: T0 });
    expect(d.deltaCrlIndicator).toBe('1');
    expect(d.usable).toBe(false);
  });

  it('reads the issuing distribution point', async () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1, idpUri: 'http://crl.example/1.crl' });
    const scan = await scanCrl(crl, { at: T0 });
    expect(scan.issuingDistributionPoint?.uris).toEqual(['http://crl.example/1.crl']);
    expect(scan.issuingDistributionPoint?.onlyContainsUserCerts).toBe(true);
    expect(scan.usable).toBe(true);
  });

  it('throws DerError on truncated or non-CRL input, never anything else', async () => {
    const crl = h.ca.crl({ entries: [{ serial: '01', revocationDate: T0 }], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    for (const cut of [0, 1, 10, 50, crl.length - 1]) {
      await expect(scanCrl(crl.subarray(0, cut), { at: T0 })).rejects.toBeInstanceOf(DerError);
    }
    await expect(scanCrl(Buffer.from('hello world'), { at: T0 })).rejects.toBeInstanceOf(DerError);
    await expect(scanCrl(h.leaf.info.der, { at: T0 })).rejects.toBeInstanceOf(DerError);
  });

  it.each(['rsa-2048', 'ed25519', 'ec-p384'] as const)('verifies %s signatures', async (keyType) => {
    const ca = await LocalCa.create({ name: `CRL ${keyType}`, keyType, notBefore: T0 - DAY, notAfter: T0 + DAY });
    const crl = ca.crl({ entries: [{ serial: '05', revocationDate: T0 }], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    expect((await scanCrl(crl, { issuer: ca.info.raw, at: T0 })).signatureValid).toBe(true);
    const bad = ca.crl({
      entries: [{ serial: '05', revocationDate: T0 }],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 1,
      corruptSignature: true,
    });
    expect((await scanCrl(bad, { issuer: ca.info.raw, at: T0 })).signatureValid).toBe(false);
  });

  it('verifies RSASSA-PSS with SHA-256 parameters (RFC 4055)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const sha256 = seq(encodeOid('2.16.840.1.101.3.4.2.1'));
    const pss = seq(
      encodeOid('1.2.840.113549.1.1.10'),
      seq(explicit(0, sha256), explicit(1, seq(encodeOid('1.2.840.113549.1.1.8'), sha256)), explicit(2, integer(32))),
    );
    const name = seq(tlv(Tag.SET, seq(encodeOid('2.5.4.3'), tlv(Tag.UTF8_STRING, Buffer.from('PSS CA')))));
    const tbs = seq(integer(1), pss, name, x509Time(T0), x509Time(T0 + DAY));
    const signature = sign('sha256', tbs, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const crl = seq(tbs, pss, tlv(Tag.BIT_STRING, Uint8Array.of(0), signature));
    // A minimal issuer: a certificate-shaped structure is not needed, only name and key.
    const issuer = { ...parseRawCertificate((await makeHierarchy()).ca.info.der), subjectName: name, spki };
    const scan = await scanCrl(crl, { issuer, at: T0 });
    expect(scan.signatureAlgorithm).toBe('rsassa-pss-sha256');
    expect(scan.signatureValid).toBe(true);
    expect(scan.entries).toBe(0);
  });

  it('rejects a CRL whose inner and outer signature algorithms differ', async () => {
    const crl = h.ca.crl({ entries: [], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 });
    // Swap the outer ecdsa-with-SHA256 for ecdsa-with-SHA384 (same length).
    const outerAlgAt = crl.lastIndexOf(Buffer.from('2a8648ce3d040302', 'hex'));
    const tampered = Buffer.from(crl);
    tampered[outerAlgAt + 7] = 0x03;
    await expect(scanCrl(tampered, { at: T0 })).rejects.toThrow(/differs from the outer/);
  });

  it('reads a GeneralizedTime in year 0001 as year 1, never 1901, and reports dates before 1950 as a problem that makes the CRL unusable', async () => {
    const yearOne = Date.parse('0001-01-01T00:00:00Z');
    const crl = h.ca.crl({ entries: [{ serial: '01', revocationDate: T0 }], thisUpdate: yearOne, nextUpdate: T0 + DAY, crlNumber: 1 });
    const scan = await scanCrl(crl, { serials: ['01'], issuer: h.ca.info.raw, at: T0 });
    expect(new Date(scan.thisUpdate).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(scan.signatureValid).toBe(true);
    expect(scan.usable).toBe(false);
    const early = scan.problems.filter((p) => p.code === 'time-before-1950');
    expect(early).toHaveLength(1);
    expect(early[0]!.message).toContain('0001-01-01');
    expect(early[0]!.message).not.toContain('1901');

    const revokedEarly = h.ca.crl({
      entries: [{ serial: '02', revocationDate: Date.parse('1949-12-31T00:00:00Z') }],
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      crlNumber: 1,
    });
    const r = await scanCrl(revokedEarly, { serials: ['02'], issuer: h.ca.info.raw, at: T0 });
    expect(r.problems.map((p) => p.code)).toEqual(['time-before-1950']);
    expect(r.usable).toBe(false);

    // 1950 exactly is the first UTCTime date and is fine.
    const ok = await scanCrl(
      h.ca.crl({ entries: [{ serial: '03', revocationDate: Date.UTC(1950, 0, 1) }], thisUpdate: T0, nextUpdate: T0 + DAY, crlNumber: 1 }),
      { serials: ['03'], at: T0 },
    );
    expect(ok.problems).toEqual([]);
  });

  it('makes a CRL with an empty issuingDistributionPoint unusable (RFC 5280 5.2.5; openssl crltest kEmptyIdpCRL)', async () => {
    for (const critical of [true, false]) {
      const crl = h.ca.crl({
        entries: [],
        thisUpdate: T0,
        nextUpdate: T0 + DAY,
        crlNumber: 1,
        extraExtensions: [extensionDer('2.5.29.28', seq(), critical)],
      });
      const scan = await scanCrl(crl, { serials: [h.leaf.info.serial], issuer: h.ca.info.raw, at: T0 });
      expect(scan.signatureValid).toBe(true);
      expect(scan.usable).toBe(false);
      expect(scan.problems.map((p) => p.code)).toEqual(['empty-issuing-distribution-point']);
    }
  });
});
