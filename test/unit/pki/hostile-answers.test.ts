/**
 * Verdicts a hostile answer could bend (issue 23 §4): every answer here is
 * validly signed by the CA, and says something that must not become evidence
 * as it stands. Each goes through the probe `check` uses, and the
 * CRL cases through `inspect` as well.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sign } from 'node:crypto';
import { probeCrl, probeOcsp, type ProbeOutcome } from '../../../src/check/probe.js';
import { scanCrl } from '../../../src/pki/crl.js';
import {
  DerError,
  Tag,
  derBoolean,
  derNull,
  encodeOid,
  enumerated,
  explicit,
  integer,
  octetString,
  seq,
  tlv,
  x509Time,
} from '../../../src/pki/der.js';
import { Oid } from '../../../src/pki/oids.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../../src/pki/ocsp.js';
import { extensionDer } from '../../../src/local-ca/crl-writer.js';
import { signStructure, signatureAlgorithmDer } from '../../../src/local-ca/keys.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import type { OcspAnswer } from '../../../src/local-ca/ocsp-writer.js';
import { crlEvidenceProblem, inspectCrl, inspectOcsp, ocspEvidenceProblem } from '../../../src/inspect/inspect.js';
import { judge } from '../../../src/rules/verdict.js';
import { EMPTY_RECORD, mergeEvidence } from '../../../src/rules/evidence.js';
import { packRecord, unpackRecord } from '../../../src/store/layout.js';
import { toObservation } from '../../../src/check/execute.js';
import { DAY, HOUR, T0, serving } from '../../helpers/pki-fixtures.js';

const CRL_URL = 'http://127.0.0.1:9/ca.crl';
const NOW = T0 + HOUR;

const summary = (o: ProbeOutcome): string => (o.status === 'error' ? `error:${o.error.kind}` : o.status);

let ca: LocalCa;
beforeAll(async () => {
  ca = await LocalCa.create({ name: 'Hostile Test CA', notBefore: T0 - 300 * DAY, notAfter: T0 + 900 * DAY });
});

async function crlOutcomes(crl: Buffer, serials: string[]): Promise<string[]> {
  const r = await probeCrl({ url: CRL_URL, serials, issuer: ca.info.raw, fetcher: serving(crl), now: () => NOW });
  return r.outcomes.map(summary);
}

async function ocspOutcome(der: Buffer, serial: string): Promise<string> {
  return summary(
    await probeOcsp({ url: 'http://127.0.0.1:9/ocsp', serial, issuer: new OcspIssuer(ca.info.raw), fetcher: serving(der), now: () => NOW }),
  );
}

const ocsp = (answers: OcspAnswer[], producedAt = T0): Buffer => ca.ocspResponse({ answers, producedAt });

/** A TBSCertList from parts, signed by the CA: for structures the CRL writer will not produce. */
function signedCrl(afterTimes: Buffer[]): Buffer {
  const tbs = seq(
    integer(1),
    signatureAlgorithmDer(ca.keys.type),
    Buffer.from(ca.info.raw.subjectName),
    x509Time(T0),
    x509Time(T0 + 7 * DAY),
    ...afterTimes,
  );
  return signStructure(ca.keys.type, ca.keys.privateKey, tbs);
}
const crlNumberExt = (): Buffer => explicit(0, seq(extensionDer(Oid.crlNumber, integer(7))));

describe('a revocation dated after the answer that reports it is refused', () => {
  it('OCSP: revocationTime 30 days after thisUpdate and producedAt', async () => {
    const der = ocsp([
      { serial: '0a01', status: 'revoked', revocationTime: T0 + 30 * DAY, reasonCode: 1, thisUpdate: T0, nextUpdate: T0 + DAY },
    ]);
    expect(await ocspOutcome(der, '0a01')).toBe('error:implausible-time');
    expect(ocspEvidenceProblem(inspectOcsp(der, 'r', { issuer: ca.info, cert: null, at: NOW }))).toMatch(/after the answer was produced/);
    // Within the clock skew it stands, and so does a thisUpdate dated back (to the hour, or for slow clocks) before the revocation.
    const near = ocsp([
      { serial: '0a01', status: 'revoked', revocationTime: T0 + 60_000, reasonCode: 1, thisUpdate: T0, nextUpdate: T0 + DAY },
    ]);
    expect(await ocspOutcome(near, '0a01')).toBe('revoked');
    const backdated = ocsp([
      { serial: '0a01', status: 'revoked', revocationTime: T0 - 10 * 60_000, reasonCode: 1, thisUpdate: T0 - HOUR, nextUpdate: T0 + DAY },
    ]);
    expect(await ocspOutcome(backdated, '0a01')).toBe('revoked');
  });

  it('CRL: an entry dated 30 days after thisUpdate is refused for that serial only', async () => {
    const crl = ca.crl({
      entries: [
        { serial: '0b01', revocationDate: T0 + 30 * DAY, reasonCode: 1 },
        { serial: '0b02', revocationDate: T0 - DAY, reasonCode: 1 },
      ],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
    });
    expect(await crlOutcomes(crl, ['0b01', '0b02', '0b03'])).toEqual(['error:implausible-time', 'revoked', 'good']);
    // A thisUpdate dated back a few minutes before a fresh revocation (AD CS: 10 minutes) is no contradiction.
    const backdated = ca.crl({
      entries: [{ serial: '0b04', revocationDate: T0 + 10 * 60_000, reasonCode: 1 }],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 2,
    });
    expect(await crlOutcomes(backdated, ['0b04'])).toEqual(['revoked']);
    const r = await inspectCrl(crl, 'c', { issuer: ca.info, serials: ['0b01'], at: NOW });
    expect(crlEvidenceProblem(r)).toMatch(/after the CRL's own thisUpdate/);
  });
});

describe('a CRL that does not speak for every certificate and reason is never evidence of "good"', () => {
  const idp = (...fields: Buffer[]): Buffer =>
    extensionDer(Oid.issuingDistributionPoint, seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(CRL_URL)))), ...fields), true);

  it('partial (onlySomeReasons): a listing is a revocation, silence is no answer', async () => {
    // onlySomeReasons [3] ReasonFlags: keyCompromise only.
    const crl = ca.crl({
      entries: [{ serial: '0c01', revocationDate: T0 - DAY, reasonCode: 1 }],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
      extraExtensions: [idp(tlv(0x83, Uint8Array.of(0x06, 0x40)))],
    });
    expect(await crlOutcomes(crl, ['0c01', '0c02'])).toEqual(['revoked', 'error:partial-crl']);
    expect(crlEvidenceProblem(await inspectCrl(crl, 'c', { issuer: ca.info, serials: ['0c02'], at: NOW }))).toMatch(/proves nothing/);
    expect(crlEvidenceProblem(await inspectCrl(crl, 'c', { issuer: ca.info, serials: ['0c01'], at: NOW }))).toBeNull();
  });

  it('indirect and delta CRLs', async () => {
    const indirect = ca.crl({
      entries: [],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
      extraExtensions: [idp(tlv(0x84, Uint8Array.of(0xff)))],
    });
    expect(await crlOutcomes(indirect, ['0c03'])).toEqual(['error:unusable-crl']);
    const delta = ca.crl({
      entries: [],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 2,
      extraExtensions: [extensionDer(Oid.deltaCrlIndicator, integer(1), true)],
    });
    expect(await crlOutcomes(delta, ['0c03'])).toEqual(['error:unusable-crl']);
  });
});

describe('an OCSP revocationTime before 1950 is refused, like the CRL analog', () => {
  it('0001-01-01', async () => {
    const year1 = Date.parse('0001-01-01T00:00:00Z');
    const der = ocsp([{ serial: '0d01', status: 'revoked', revocationTime: year1, reasonCode: 1, thisUpdate: T0, nextUpdate: T0 + DAY }]);
    const v = verifyOcspResponse(parseOcspResponse(der), { issuer: new OcspIssuer(ca.info.raw), serial: '0d01', at: NOW });
    expect(v.match?.revocationTime).toBe(year1);
    expect(v.trusted).toBe(false);
    expect(v.problems.map((p) => p.code)).toContain('time-before-1950');
    expect(await ocspOutcome(der, '0d01')).toBe('error:implausible-time');
  });
});

describe('two SingleResponses that disagree about the certificate asked are an error, whatever their order', () => {
  const isGood: OcspAnswer = { serial: '0e01', status: 'good', thisUpdate: T0, nextUpdate: T0 + DAY };
  const isRevoked: OcspAnswer = {
    serial: '0e01',
    status: 'revoked',
    revocationTime: T0 - DAY,
    reasonCode: 1,
    thisUpdate: T0,
    nextUpdate: T0 + DAY,
  };

  it.each([
    ['good first', [isGood, isRevoked]],
    ['revoked first', [isRevoked, isGood]],
    ['two revocation dates', [isRevoked, { ...isRevoked, revocationTime: T0 - 2 * DAY }]],
  ])('%s', async (_name, answers) => {
    expect(await ocspOutcome(ocsp(answers), '0e01')).toBe('error:conflicting-answers');
  });

  it('the same answer twice, or another serial beside it, is fine', async () => {
    expect(await ocspOutcome(ocsp([isRevoked, isRevoked]), '0e01')).toBe('revoked');
    expect(await ocspOutcome(ocsp([isGood, { ...isRevoked, serial: '0e02' }]), '0e01')).toBe('good');
  });
});

describe('DER means DER', () => {
  const entry = (serial: string, ...rest: Buffer[]): Buffer => seq(integer(serial), x509Time(T0 - DAY), ...rest);

  it('a CRL with two revokedCertificates lists is refused, not read as "good" for a serial in the first', async () => {
    const crl = signedCrl([seq(entry('0f01')), seq(entry('0f02')), crlNumberExt()]);
    await expect(scanCrl(crl, { serials: ['0f01'], issuer: ca.info.raw, at: NOW })).rejects.toThrow(/repeated or out of order/);
    expect(await crlOutcomes(crl, ['0f01', '0f02'])).toEqual(['error:malformed', 'error:malformed']);
    // The same entries in one list are read.
    expect(await crlOutcomes(signedCrl([seq(entry('0f01'), entry('0f02')), crlNumberExt()]), ['0f01', '0f02'])).toEqual([
      'revoked',
      'revoked',
    ]);
  });

  it('an entry whose extensions use a BER indefinite length (hiding a critical unknown extension) is refused', async () => {
    const critical = seq(encodeOid('1.2.3.4.5'), derBoolean(true), octetString(derNull()));
    const ber = Buffer.concat([Uint8Array.of(Tag.SEQUENCE, 0x80), critical, Uint8Array.of(0, 0)]);
    const berCrl = signedCrl([seq(entry('0f03', ber)), crlNumberExt()]);
    await expect(scanCrl(berCrl, { serials: ['0f04'], issuer: ca.info.raw, at: NOW })).rejects.toThrow(DerError);
    expect(await crlOutcomes(berCrl, ['0f04'])).toEqual(['error:malformed']);
    // Its DER twin is read, and unusable for the critical extension it does not hide.
    const derCrl = signedCrl([seq(entry('0f03', seq(critical))), crlNumberExt()]);
    const scan = await scanCrl(derCrl, { serials: ['0f04'], issuer: ca.info.raw, at: NOW });
    expect(scan.problems.map((p) => p.code)).toContain('unknown-critical-entry-extension');
    expect(await crlOutcomes(derCrl, ['0f04'])).toEqual(['error:unusable-crl']);
  });
});

describe('MD5 signatures are refused in check as in inspect', () => {
  it('an MD5-signed OCSP response', async () => {
    const rsa = await LocalCa.create({ name: 'RSA MD5 CA', keyType: 'rsa-2048', notBefore: T0 - DAY, notAfter: T0 + 100 * DAY });
    const sha256 = rsa.ocspResponse({
      answers: [{ serial: '1001', status: 'good', thisUpdate: T0, nextUpdate: T0 + DAY }],
      producedAt: T0,
    });
    const tbs = Buffer.from(parseOcspResponse(sha256).basic!.tbs);
    const basic = seq(
      tbs,
      seq(encodeOid('1.2.840.113549.1.1.4'), derNull()),
      tlv(Tag.BIT_STRING, Uint8Array.of(0), sign('md5', tbs, rsa.keys.privateKey)),
    );
    const md5 = seq(enumerated(0), explicit(0, seq(encodeOid(Oid.ocspBasic), octetString(basic))));
    const issuer = new OcspIssuer(rsa.info.raw);
    const v = verifyOcspResponse(parseOcspResponse(md5), { issuer, serial: '1001', at: NOW });
    expect(v.signatureValid).toBe(true); // the signature itself verifies: it is MD5 that makes it worthless
    expect(v.trusted).toBe(false);
    const o = await probeOcsp({ url: 'http://127.0.0.1:9/ocsp', serial: '1001', issuer, fetcher: serving(md5), now: () => NOW });
    expect(summary(o)).toBe('error:unsupported');
    expect(ocspEvidenceProblem(inspectOcsp(md5, 'md5', { issuer: rsa.info, cert: null, at: NOW }))).toMatch(/MD5/);
  });
});

describe('a CRL listing one serial twice', () => {
  it.each([
    ['earliest first', [T0 - 3 * DAY, T0 - DAY]],
    ['earliest last', [T0 - DAY, T0 - 3 * DAY]],
  ])('takes the earliest date and flags it (%s)', async (_name, dates) => {
    const crl = ca.crl({
      entries: dates.map((revocationDate) => ({ serial: '1101', revocationDate, reasonCode: 1 })),
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
    });
    const scan = await scanCrl(crl, { serials: ['1101'], issuer: ca.info.raw, at: NOW });
    expect(scan.matches.get('1101')?.revocationDate).toBe(T0 - 3 * DAY);
    expect(scan.problems.find((p) => p.code === 'duplicate-entry')?.message).toMatch(/listed 2 times.*earliest/);
    const r = await probeCrl({ url: CRL_URL, serials: ['1101'], issuer: ca.info.raw, fetcher: serving(crl), now: () => NOW });
    expect(r.outcomes[0]).toMatchObject({ status: 'revoked', revocationTime: T0 - 3 * DAY, problems: ['duplicate-entry'] });
  });

  it('check and status flag it: crl_duplicate_entry from the answer check records, kept through the stored record', async () => {
    const crl = ca.crl({
      entries: [
        { serial: '1101', revocationDate: T0 - DAY, reasonCode: 1 },
        { serial: '1102', revocationDate: T0 - 2 * DAY, reasonCode: 1 },
        { serial: '1101', revocationDate: T0 - 3 * DAY, reasonCode: 1 },
      ],
      thisUpdate: T0,
      nextUpdate: T0 + 7 * DAY,
      crlNumber: 1,
    });
    const r = await probeCrl({ url: CRL_URL, serials: ['1101', '1102'], issuer: ca.info.raw, fetcher: serving(crl), now: () => NOW });
    const kase = { id: 'c', title: 't', reportedAt: T0 - 5 * DAY, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const };
    const certOf = (serial: string) => ({
      sha256: serial.padEnd(64, '0'),
      serial,
      subject: 'CN=x',
      issuer: 'CN=ca',
      notBefore: T0 - 90 * DAY,
      notAfter: T0 + 90 * DAY,
      precertificate: false,
      ocspUrls: [],
      crlUrls: [CRL_URL],
    });
    const findingsOf = (serial: string, index: number) => {
      const cert = certOf(serial);
      const observation = toObservation(cert.sha256, r.outcomes[index]!);
      // status judges the stored record: packed, unpacked, then judged.
      const stored = unpackRecord(packRecord(mergeEvidence(EMPTY_RECORD, [observation], cert.notAfter)));
      const observations = Object.values(stored.sources).flat();
      const judged = judge(kase, cert, observations, NOW);
      expect(judge(kase, cert, [observation], NOW).findings).toEqual(judged.findings);
      return judged;
    };
    const twice = findingsOf('1101', 0);
    expect(twice.claimedRevocationTime).toBe(T0 - 3 * DAY);
    const found = twice.findings.filter((f) => f.code === 'crl_duplicate_entry');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'warning' });
    expect(found[0]!.message).toContain(
      `lists the serial 2 times, with revocationDate ${new Date(T0 - DAY).toISOString().replace('.000', '')}, ${new Date(T0 - 3 * DAY).toISOString().replace('.000', '')}; the earliest is taken (RFC 5280 5.1.2.6`,
    );
    expect(findingsOf('1102', 1).findings.map((f) => f.code)).not.toContain('crl_duplicate_entry');
  });
});

describe('a revocation dated before the certificate existed', () => {
  it('raises revocation_before_issuance', () => {
    const notBefore = T0 - 10 * DAY;
    const kase = { id: 'c', title: 't', reportedAt: T0 - DAY, reason: 'misissuance' as const, kind: 'tls-subscriber' as const };
    const cert = {
      sha256: 'ab'.repeat(32),
      serial: '1201',
      subject: 'CN=x',
      issuer: 'CN=ca',
      notBefore,
      notAfter: T0 + 80 * DAY,
      precertificate: false,
      ocspUrls: [],
      crlUrls: [CRL_URL],
    };
    const observation = (revocationTime: number) => ({
      observedAt: T0,
      source: { kind: 'crl' as const, url: CRL_URL },
      status: 'revoked' as const,
      revocationTime,
      reasonCode: 4,
      thisUpdate: T0,
      nextUpdate: T0 + DAY,
      producedAt: null,
    });
    const before = judge(kase, cert, [observation(notBefore - DAY)], T0 + HOUR);
    expect(before.findings.find((f) => f.code === 'revocation_before_issuance')).toMatchObject({ severity: 'warning' });
    const after = judge(kase, cert, [observation(notBefore + DAY)], T0 + HOUR);
    expect(after.findings.map((f) => f.code)).not.toContain('revocation_before_issuance');
  });
});
