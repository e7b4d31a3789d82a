/**
 * A case's certificate item keeps its certificate and evidence record packed
 * (store/layout.ts): what is read back must be exactly what was written, and
 * items written before packing must still read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/domain.js';
import { EMPTY_RECORD, mergeEvidence, type EvidenceRecord } from '../../../src/rules/evidence.js';
import type { StoredCertificate } from '../../../src/ports/store.js';
import { certificateItem, fromObservation, packRecord, toCaseCertificate, toObservation, unpackRecord } from '../../../src/store/layout.js';
import { plainObservation } from '../../../src/domain.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');
const HOUR = 3_600_000;

const cert: StoredCertificate = {
  caseId: 'incident-7',
  sha256: 'ab'.repeat(32),
  serial: '1000000000000000000000fd34',
  subject: 'CN=leaf.example',
  issuer: 'CN=Example CA, O=Example',
  notBefore: T0 - 10 * 24 * HOUR,
  notAfter: T0 + 80 * 24 * HOUR,
  precertificate: false,
  ocspUrls: ['http://ocsp.example'],
  crlUrls: ['http://crl.example/1.crl'],
  issuerSha256: 'cd'.repeat(32),
  isCA: false,
  trackedAt: T0,
  crtshId: null,
  sans: ['leaf.example', 'www.leaf.example'],
};

const crlGood: Observation = {
  observedAt: T0 + HOUR,
  source: { kind: 'crl', url: 'http://crl.example/1.crl' },
  status: 'good',
  revocationTime: null,
  reasonCode: null,
  thisUpdate: T0,
  nextUpdate: T0 + 7 * 24 * HOUR,
  producedAt: null,
  crlNumber: '65',
  signer: 'crl-issuer',
  sha256: 'ee'.repeat(32),
  error: null,
};

const arbAnswer: fc.Arbitrary<Observation> = fc.record({
  observedAt: fc.integer({ min: T0, max: T0 + 1000 * HOUR }),
  source: fc.constantFrom(
    { kind: 'crl' as const, url: 'http://crl.example/1.crl' },
    { kind: 'ocsp' as const, url: 'http://ocsp.example' },
    { kind: 'crl' as const, url: 'http://crl.example/a%20b?x=1' },
  ),
  status: fc.constantFrom('good', 'revoked', 'unknown', 'error') as fc.Arbitrary<Observation['status']>,
  revocationTime: fc.option(fc.integer({ min: T0 - 100 * HOUR, max: T0 + 1000 * HOUR }), { nil: null }),
  reasonCode: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
  thisUpdate: fc.option(fc.integer({ min: T0 - 100 * HOUR, max: T0 + 1000 * HOUR }), { nil: null }),
  nextUpdate: fc.option(fc.integer({ min: T0, max: T0 + 2000 * HOUR }), { nil: null }),
  producedAt: fc.option(fc.integer({ min: T0 - 100 * HOUR, max: T0 + 1000 * HOUR }), { nil: null }),
  crlNumber: fc.option(fc.bigInt({ min: 0n, max: 1n << 159n }).map(String), { nil: null }),
  signer: fc.option(fc.constantFrom('crl-issuer', 'issuer', 'delegated'), { nil: null }),
  sha256: fc.option(fc.constantFrom('ee'.repeat(32), '0f'.repeat(32)), { nil: null }),
  error: fc.option(fc.record({ kind: fc.constantFrom('timeout', 'signature', 'http'), message: fc.string() }), { nil: null }),
});

describe('packed evidence records', () => {
  it('read back exactly as written, whatever the answers', () => {
    fc.assert(
      fc.property(fc.array(arbAnswer, { maxLength: 12 }), (answers) => {
        const record = mergeEvidence(EMPTY_RECORD, answers, cert.notAfter);
        expect(unpackRecord(packRecord(record))).toEqual(record);
      }),
      { numRuns: 300 },
    );
  });

  it('still read a record written as plain JSON before packing', () => {
    const record: EvidenceRecord = mergeEvidence(EMPTY_RECORD, [crlGood], cert.notAfter);
    expect(unpackRecord(JSON.stringify(record))).toEqual(record);
  });

  it('take about half the bytes of the plain JSON for a typical answer', () => {
    const record = mergeEvidence(EMPTY_RECORD, [crlGood], cert.notAfter);
    expect(packRecord(record).length).toBeLessThan(0.55 * JSON.stringify(record).length);
  });
});

describe('packed certificate items', () => {
  it('give back the certificate and record, with the ids taken from the keys', () => {
    const record = mergeEvidence(EMPTY_RECORD, [crlGood], cert.notAfter);
    const item = certificateItem(cert, record, 3, T0);
    expect(item.c).not.toContain(cert.sha256);
    const read = toCaseCertificate(item);
    expect(read.cert).toEqual(cert);
    expect(read.record).toEqual(record);
    expect(read.rev).toBe(3);
    expect(read.pollDue).toBe(T0);
  });

  it('still read an item written before packing, with the ids inside the certificate', () => {
    const record = mergeEvidence(EMPTY_RECORD, [crlGood], cert.notAfter);
    const item = { ...certificateItem(cert, record, 1, null), c: JSON.stringify(cert), ev: JSON.stringify(record) };
    const read = toCaseCertificate(item);
    expect(read.cert).toEqual(cert);
    expect(read.record).toEqual(record);
  });
});

describe('packed observation items', () => {
  it('read back exactly as written, whatever the answer', () => {
    fc.assert(
      fc.property(arbAnswer, (answer) => {
        expect(toObservation(fromObservation(answer))).toEqual(plainObservation(answer));
      }),
      { numRuns: 300 },
    );
  });

  it('still read an observation written before packing, one attribute per field', () => {
    expect(toObservation({ pk: 'CERT#ab', sk: 'OBS#1', ...plainObservation(crlGood) })).toEqual(crlGood);
  });
});
