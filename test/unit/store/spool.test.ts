import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileSpool } from '../../../src/adapters/local/file-spool.js';
import { memorySpool } from '../../../src/status/status.js';
import type { StatusSpool } from '../../../src/ports/store.js';
import type { CertificateStatus } from '../../../src/rules/verdict.js';

const status = (serial: string, subject: string, extra: Partial<CertificateStatus> = {}): CertificateStatus => ({
  sha256: `sha-${serial}`,
  serial,
  subject,
  issuer: 'CN=Issuer',
  notBefore: '2026-01-01T00:00:00Z',
  notAfter: '2027-01-01T00:00:00Z',
  deadline: '2026-06-02T00:00:00Z',
  shouldDeadline: null,
  verdict: 'pending',
  revocationTime: null,
  effectiveRevocationTime: null,
  reasonCode: null,
  firstSeenRevokedAt: null,
  lastSeenGoodAt: null,
  lateBySeconds: null,
  sources: [],
  findings: [],
  ...extra,
});

const drained = (spool: StatusSpool): CertificateStatus[] => {
  const out = [...spool.inOrder()];
  spool.close();
  return out;
};

describe.each([
  ['memory', memorySpool],
  ['file', () => fileSpool()],
  ['file, in runs of two', () => fileSpool(undefined, { runSize: 2 })],
])('%s spool', (_name, open) => {
  it('hands every verdict out once, in serial order, with multi-byte text and nested fields intact', () => {
    const spool = open();
    spool.add('0b', status('0b', 'CN=Zürich Bank ✓', { verdict: 'revoked_late', lateBySeconds: 3600 }));
    spool.add('0a', status('0a', 'CN=東京'));
    spool.add('01', status('01', 'CN=one', { findings: [{ code: 'ocsp_unknown', severity: 'warning', message: 'x' }] as never }));
    spool.add('0a0', status('0a0', 'CN=plain'));
    const out = drained(spool);
    expect(out.map((o) => o.serial)).toEqual(['01', '0a', '0a0', '0b']);
    expect(out[1]).toEqual(status('0a', 'CN=東京'));
    expect(out[3]).toMatchObject({ subject: 'CN=Zürich Bank ✓', verdict: 'revoked_late', lateBySeconds: 3600 });
    expect(out[0]!.findings).toEqual([{ code: 'ocsp_unknown', severity: 'warning', message: 'x' }]);
  });

  it('keeps equal serials (one serial from two issuers) in the order they were added', () => {
    const spool = open();
    spool.add('05', status('05', 'CN=first', { sha256: 'b' }));
    spool.add('05', status('05', 'CN=second', { sha256: 'a' }));
    expect(drained(spool).map((s) => s.subject)).toEqual(['CN=first', 'CN=second']);
  });
});

describe('file spool', () => {
  it('orders any set of verdicts exactly as the in-memory spool does, however they fall into runs', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 6 }),
            fc.string({ unit: 'grapheme', maxLength: 400 }),
          ),
          { maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 8 }),
        (rows, runSize) => {
          const [a, b] = [memorySpool(), fileSpool(undefined, { runSize })];
          rows.forEach(([serial, subject], i) => {
            a.add(serial, status(serial, subject, { lateBySeconds: i }));
            b.add(serial, status(serial, subject, { lateBySeconds: i }));
          });
          expect(drained(b)).toEqual(drained(a));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps equal serials in the order they were added when they fall in different runs', () => {
    const spool = fileSpool(undefined, { runSize: 1 });
    for (const [serial, subject] of [
      ['07', 'CN=a'],
      ['05', 'CN=first'],
      ['05', 'CN=second'],
      ['01', 'CN=b'],
      ['05', 'CN=third'],
    ])
      spool.add(serial!, status(serial!, subject!));
    expect(drained(spool).map((s) => s.subject)).toEqual(['CN=b', 'CN=first', 'CN=second', 'CN=third', 'CN=a']);
  });

  it('holds verdicts larger than its read blocks, in runs merged from the file', () => {
    const spool = fileSpool(undefined, { runSize: 3 });
    const big = 'x'.repeat(300_000);
    for (let i = 9; i >= 0; i--) spool.add(String(i), status(String(i), `${big}${i}`));
    const out = drained(spool);
    expect(out.map((o) => o.serial)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(out[7]!.subject).toBe(`${big}7`);
  });

  it('reads its sort keys back from the file (none kept in memory): NUL-joined, multi-byte and longer than a read block', () => {
    const keys = ['0b\u0000ff', '0b\u0000aa', '0a\u0000东京', `0c\u0000${'k'.repeat(40_000)}`, '0a\u0000Zürich', '01\u0000✓'];
    fc.assert(
      fc.property(fc.shuffledSubarray(keys, { minLength: 1 }), fc.integer({ min: 1, max: 4 }), (order, runSize) => {
        const [a, b] = [memorySpool(), fileSpool(undefined, { runSize })];
        for (const key of order) {
          a.add(key, status(key.slice(0, 2), key));
          b.add(key, status(key.slice(0, 2), key));
        }
        expect(drained(b).map((s) => s.subject)).toEqual(drained(a).map((s) => s.subject));
      }),
      { numRuns: 40 },
    );
  });
});
