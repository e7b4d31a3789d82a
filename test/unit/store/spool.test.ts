import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fileSpool } from '../../../src/adapters/local/file-spool.js';
import { memorySpool } from '../../../src/check/status.js';
import { PackedCaseCertificate } from '../../../src/store/layout.js';
import type { CaseCertificate, CertificateSpool } from '../../../src/ports/store.js';
import { EMPTY_RECORD } from '../../../src/rules/evidence.js';

const packed = (serial: string, subject: string, rev: number, pollDue: number | null): PackedCaseCertificate =>
  new PackedCaseCertificate(
    JSON.stringify({ serial, subject, caseId: 'c', sha256: `sha-${serial}` }),
    JSON.stringify({ sources: { [`crl ${subject}`]: [] } }),
    rev,
    pollDue,
  );

/** A certificate stored before evidence records: not packed, so a file spool keeps it as it is. */
const legacy = (serial: string): CaseCertificate => ({ cert: { serial } as never, record: EMPTY_RECORD, rev: 0, pollDue: 0, legacy: true });

const drained = (
  spool: CertificateSpool,
): { serial: string; cert: unknown; record: unknown; rev: number; pollDue: number | null; legacy: boolean }[] => {
  const out = [...spool.inOrder()].map((cc) => ({
    serial: cc.cert.serial,
    cert: cc.cert,
    record: cc.record,
    rev: cc.rev,
    pollDue: cc.pollDue,
    legacy: cc.legacy === true,
  }));
  spool.close();
  return out;
};

describe.each([
  ['memory', memorySpool],
  ['file', () => fileSpool()],
])('%s spool', (_name, open) => {
  it('hands every certificate out once, in serial order, with its revision, due time and multi-byte text intact', () => {
    const spool = open();
    spool.add('0b', packed('0b', 'CN=Zürich Bank ✓', 3, null));
    spool.add('0a', packed('0a', 'CN=東京', 1, 123));
    spool.add('01', legacy('01'));
    spool.add('0a0', packed('0a0', 'CN=plain', 0, 0));
    const out = drained(spool);
    expect(out.map((o) => o.serial)).toEqual(['01', '0a', '0a0', '0b']);
    expect(out[1]).toMatchObject({ rev: 1, pollDue: 123, legacy: false, cert: { subject: 'CN=東京' } });
    expect(out[3]).toMatchObject({
      rev: 3,
      pollDue: null,
      cert: { subject: 'CN=Zürich Bank ✓' },
      record: { sources: { 'crl CN=Zürich Bank ✓': [] } },
    });
    expect(out[0]!.legacy).toBe(true);
  });

  it('keeps a record replaced after reading, not the text it was read as', () => {
    const spool = open();
    const cc = packed('01', 'CN=a', 0, 0);
    cc.record = { sources: { 'ocsp x': [] } };
    spool.add('01', cc);
    expect(drained(spool)[0]!.record).toEqual({ sources: { 'ocsp x': [] } });
  });
});

describe('file spool', () => {
  it('orders any set of certificates exactly as the in-memory spool does, across write chunks', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 1, maxLength: 6 }),
            fc.string({ unit: 'grapheme', maxLength: 400 }),
          ),
          { maxLength: 60 },
        ),
        (rows) => {
          const [a, b] = [memorySpool(), fileSpool()];
          rows.forEach(([serial, subject], i) => {
            a.add(serial, packed(serial, subject, i, i));
            b.add(serial, packed(serial, subject, i, i));
          });
          expect(drained(b)).toEqual(drained(a));
        },
      ),
      { numRuns: 50 },
    );
  });

  it('holds a case larger than one write chunk', () => {
    const spool = fileSpool();
    const big = 'x'.repeat(300_000);
    for (let i = 9; i >= 0; i--) spool.add(String(i), packed(String(i), `${big}${i}`, i, null));
    const out = drained(spool);
    expect(out.map((o) => o.serial)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect((out[7]!.cert as { subject: string }).subject).toBe(`${big}7`);
  });
});
