/**
 * The CCADB report reader: RFC 4180 quoting (commas, doubled quotes, PEM
 * cells spanning lines, CRLF), columns found by name in any order, unknown
 * columns ignored, bad rows reported by the line they start on, and a file
 * without the needed columns refused with one line.
 */
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/ccadb/csv.js';
import { COLUMNS, parseAllCertificateRecords } from '../../../src/ccadb/report.js';
import { InputError } from '../../../src/errors.js';

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const csv = (rows: string[][]): string => rows.map((r) => r.map(quote).join(',')).join('\r\n') + '\r\n';
const FP_A = 'AA'.repeat(32);
const FP_B = 'bb'.repeat(32);

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, and numbers records by their first line', () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""","line1\nline2\r\nline3"\r\nplain,,last\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['x, y', 'say "hi"', 'line1\nline2\r\nline3'] },
      { line: 5, fields: ['plain', '', 'last'] },
    ]);
  });

  it('keeps a last record without a line break, an empty quoted field, and skips a BOM', () => {
    expect(parseCsv('\ufeffh1,h2\n"",x')).toEqual([
      { line: 1, fields: ['h1', 'h2'] },
      { line: 2, fields: ['', 'x'] },
    ]);
  });

  it('refuses an unclosed quote and text after a closing quote, naming the line', () => {
    expect(() => parseCsv('a\n"open\nmore')).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseCsv('a\n"x"y\n')).toThrow(/line 2: text after a closing quote/);
  });
});

describe('parseAllCertificateRecords', () => {
  const header = [
    COLUMNS.owner,
    COLUMNS.sha256,
    'Some Column CCADB Added Later',
    COLUMNS.name,
    COLUMNS.subjectKeyId,
    COLUMNS.fullCrl,
    COLUMNS.partitioned,
  ];
  const rowA = ['Owner, Inc.', FP_A, 'whatever', 'CA A', Buffer.from('0102', 'hex').toString('base64'), 'http://crl.example/a.crl', ''];
  const rowB = ['Owner B', FP_B, '', 'CA B', '', '', '["http://crl.example/b1.crl", "http://crl.example/b2.crl"]'];

  it('reads disclosures by column name, whatever the order, ignoring unknown columns', () => {
    const a = parseAllCertificateRecords(csv([header, rowA, rowB]), 'report.csv');
    const order = [6, 3, 1, 5, 0, 4, 2];
    const b = parseAllCertificateRecords(
      csv([order.map((i) => header[i]!), ...[rowA, rowB].map((r) => order.map((i) => r[i]!))]),
      'reordered.csv',
    );
    expect(b).toEqual(a);
    expect(a.skipped).toEqual([]);
    expect(a.disclosures).toEqual([
      {
        sha256: FP_A.toLowerCase(),
        name: 'CA A',
        owner: 'Owner, Inc.',
        subjectKeyId: '0102',
        fullCrl: 'http://crl.example/a.crl',
        partitionedCrls: [],
        pem: null,
        subjectNameHash: null,
      },
      {
        sha256: FP_B,
        name: 'CA B',
        owner: 'Owner B',
        subjectKeyId: null,
        fullCrl: null,
        partitionedCrls: ['http://crl.example/b1.crl', 'http://crl.example/b2.crl'],
        pem: null,
        subjectNameHash: null,
      },
    ]);
  });

  it('reports bad rows by the line they start on and keeps the rest', () => {
    const text = csv([
      header,
      ['multi\nline owner', 'not-a-fingerprint', '', '', '', '', ''],
      rowA,
      ['o', FP_B, '', 'n', '', '', '[not json'],
    ]);
    const r = parseAllCertificateRecords(text, 'report.csv');
    expect(r.disclosures.map((d) => d.name)).toEqual(['CA A']);
    expect(r.skipped).toEqual([
      { line: 2, why: `"${COLUMNS.sha256}" is not a SHA-256 fingerprint` },
      { line: 5, why: `"${COLUMNS.partitioned}" is not JSON` },
    ]);
  });

  it('refuses a file without the needed columns with one line naming them', () => {
    const text = csv([
      [COLUMNS.sha256, COLUMNS.name],
      [FP_A, 'x'],
    ]);
    expect(() => parseAllCertificateRecords(text, 'other.csv')).toThrow(InputError);
    expect(() => parseAllCertificateRecords(text, 'other.csv')).toThrow(
      `other.csv is not the CCADB "All Certificate Records" report: no "${COLUMNS.subjectKeyId}", "${COLUMNS.fullCrl}", "${COLUMNS.partitioned}" columns`,
    );
  });
});
