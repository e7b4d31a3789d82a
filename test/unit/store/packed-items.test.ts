/**
 * A case's certificate item keeps its certificate and evidence record packed
 * (store/layout.ts): what is read back must be exactly what was written, and
 * items written before packing must still read.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_RECORD, mergeEvidence, type EvidenceRecord } from '../../../src/rules/evidence.js';
import { certificateItem, fromObservation, packRecord, toCaseCertificate, toObservation, unpackRecord } from '../../../src/store/layout.js';
import { plainObservation } from '../../../src/domain.js';
import { arbAnswer as answerFrom, CRL_URL, goodAnswer, OCSP_URL, storedCertificate, T0 } from '../../helpers/packed-item-fixtures.js';

const cert = storedCertificate('incident-7', { crtshId: null, sans: ['leaf.example', 'www.leaf.example'] });
const crlGood = goodAnswer('crl', CRL_URL);
// A URL that must survive packing escaped as it was written.
const arbAnswer = answerFrom(
  [
    { kind: 'crl', url: CRL_URL },
    { kind: 'ocsp', url: OCSP_URL },
    { kind: 'crl', url: 'http://crl.example/a%20b?x=1' },
  ],
  'every field',
);

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
