/**
 * The CCADB report reader: RFC 4180 quoting (commas, doubled quotes, PEM
 * cells spanning lines, CRLF), columns found by name in any order, unknown
 * columns ignored, bad rows reported by the line they start on, and a file
 * without the needed columns refused with one line.
 */
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/ccadb/csv.js';
import {
  COLUMNS,
  keyIdentifierHex,
  MAX_CELL_CHARS,
  MAX_DISCLOSURE_BYTES,
  MAX_PARTITIONED_CRLS,
  parseAllCertificateRecords,
} from '../../../src/ccadb/report.js';
import { disclosureFor } from '../../../src/ccadb/match.js';
import { InputError } from '../../../src/errors.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { parseRawCertificate } from '../../../src/pki/raw-certificate.js';

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const csv = (rows: string[][]): string => `${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
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

describe('parseCsv: hostile sizes', () => {
  it('drops a field past the cap, says which one, and reads the records after it', () => {
    const text = `a,b\r\nshort,"${'x'.repeat(100)}"\r\n${'y'.repeat(101)},z\r\nlast,"q""q"\r\n`;
    expect(parseCsv(text, { maxFieldChars: 100 })).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['short', 'x'.repeat(100)] },
      { line: 3, fields: ['', 'z'], oversized: 0 },
      { line: 4, fields: ['last', 'q"q'] },
    ]);
    // A quoted field over the cap that spans lines still counts its lines.
    const spanning = `h\r\n"${'ab\n'.repeat(50)}"\r\nnext\r\n`;
    expect(parseCsv(spanning, { maxFieldChars: 10 })).toEqual([
      { line: 1, fields: ['h'] },
      { line: 2, fields: [''], oversized: 0 },
      { line: 53, fields: ['next'] },
    ]);
  });

  it('reads a 20 MB cell without building it a character at a time', () => {
    const before = process.memoryUsage().heapUsed;
    const records = parseCsv(`h1,h2\r\n"${'A'.repeat(20 * 1024 * 1024)}",b\r\n`, { maxFieldChars: 1024 });
    expect(records[1]).toEqual({ line: 2, fields: ['', 'b'], oversized: 0 });
    // The text itself is 20 MB; per-character concatenation took over 1 GB.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
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
        fullCrls: ['http://crl.example/a.crl'],
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
        fullCrls: [],
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

  it('reads a Subject Key Identifier given in base64 or in hex (with or without colons) as the same key', () => {
    const ski = Buffer.from('00fa2b4c9d1e7f3a5b6c7d8e9f0a1b2c3d4e5f61', 'hex');
    const forms = [
      ski.toString('base64'),
      ski.toString('hex'),
      ski.toString('hex').toUpperCase(),
      ski.toString('hex').match(/../g)!.join(':'),
    ];
    const rows = forms.map((form, i) => [
      `Owner ${i}`,
      FP_A.slice(0, 62) + String(i).padStart(2, '0'),
      '',
      `CA ${i}`,
      form,
      'http://crl.example/a.crl',
      '',
    ]);
    const r = parseAllCertificateRecords(csv([header, ...rows]), 'report.csv');
    expect(r.skipped).toEqual([]);
    expect(r.disclosures.map((d) => d.subjectKeyId)).toEqual(forms.map(() => ski.toString('hex')));
    // A 32-byte (SHA-256) identifier in base64, and one that is neither form, which is reported by its line.
    const long = Buffer.alloc(32, 0xab);
    expect(keyIdentifierHex(long.toString('base64'))).toBe(long.toString('hex'));
    const bad = parseAllCertificateRecords(csv([header, [...rowA.slice(0, 4), 'not a key id!', ...rowA.slice(5)]]), 'report.csv');
    expect(bad.skipped).toEqual([{ line: 2, why: `"${COLUMNS.subjectKeyId}" is neither base64 nor hex` }]);
  });

  it('a certificate is matched to the disclosure whose hex Subject Key Identifier is its AKI (no PEM to fall back on)', async () => {
    const ca = await LocalCa.create({ name: 'Hex SKI CA', notBefore: Date.UTC(2026, 0, 1), notAfter: Date.UTC(2027, 0, 1) });
    const leaf = await ca.issue({ subject: 'CN=hex.example', notBefore: Date.UTC(2026, 0, 2), notAfter: Date.UTC(2026, 3, 1) });
    const hexWithColons = ca.info.subjectKeyId!.toUpperCase().match(/../g)!.join(':');
    const parsed = parseAllCertificateRecords(
      csv([header, ['Owner', ca.info.sha256, '', 'Hex SKI CA', hexWithColons, 'http://crl.example/hex.crl', '']]),
      'r.csv',
    );
    const stored = parsed.disclosures.map((d) => ({ ...d, importedAt: 1 }));
    const lookup = {
      byKeyId: async (ski: string) => stored.filter((d) => d.subjectKeyId === ski),
      bySubjectName: async () => [],
      lastImport: async () => ({ at: 1, source: 'r.csv' }),
    };
    expect((await disclosureFor(lookup, parseRawCertificate(leaf.info.der)))?.fullCrl).toBe('http://crl.example/hex.crl');
  });

  it('refuses a file without either CRL column with one line naming the columns it looked for', () => {
    const text = csv([
      [COLUMNS.sha256, COLUMNS.name],
      [FP_A, 'x'],
    ]);
    expect(() => parseAllCertificateRecords(text, 'other.csv')).toThrow(InputError);
    expect(() => parseAllCertificateRecords(text, 'other.csv')).toThrow(
      `other.csv is not a CCADB report revwatch reads: no "${COLUMNS.fullCrls}" (V5) or "${COLUMNS.fullCrl}" (V4) column of the "All Certificate Records" report, and no "${COLUMNS.sha256}" and "${COLUMNS.pem}" columns of the "All Certificate PEMs" report`,
    );
    // A records report (it has a CRL column) without the key identifier is named as such.
    const noSki = csv([
      [COLUMNS.sha256, COLUMNS.fullCrls],
      [FP_A, ''],
    ]);
    expect(() => parseAllCertificateRecords(noSki, 'r.csv')).toThrow(
      `r.csv is not the CCADB "All Certificate Records" report: no "${COLUMNS.subjectKeyId}" column`,
    );
  });
});

describe('parseAllCertificateRecords: outliers', () => {
  const header = [COLUMNS.owner, COLUMNS.sha256, COLUMNS.name, COLUMNS.subjectKeyId, COLUMNS.fullCrl, COLUMNS.partitioned];
  const honest = (i: number): string[] => [
    'Owner',
    (i + 1).toString(16).padStart(64, '0'),
    `CA ${i}`,
    '',
    `http://crl.example/${i}.crl`,
    '',
  ];
  const shards = (n: number, length = 40): string =>
    JSON.stringify(Array.from({ length: n }, (_, j) => `http://crl.example/${String(j).padStart(length - 24, '0')}.crl`));

  it('skips a CA that lists more partitioned CRLs than the cap, names its line, and imports the others', () => {
    const text = csv([header, honest(0), ['Big', 'ff'.repeat(32), 'Huge', '', '', shards(20_000)], honest(1)]);
    const r = parseAllCertificateRecords(text, 'report.csv');
    expect(r.disclosures.map((d) => d.name)).toEqual(['CA 0', 'CA 1']);
    expect(r.skipped).toEqual([
      {
        line: 3,
        why: `lists 20000 partitioned CRLs, more than the ${MAX_PARTITIONED_CRLS} revwatch takes from one CA (a set cut short proves nothing): not imported`,
      },
    ]);
    // At the cap, the set is taken whole.
    const atCap = parseAllCertificateRecords(csv([header, ['Big', 'ff'.repeat(32), 'Big', '', '', shards(MAX_PARTITIONED_CRLS)]]), 'r.csv');
    expect(atCap.disclosures[0]!.partitionedCrls).toHaveLength(MAX_PARTITIONED_CRLS);
  });

  it('skips a row with a cell past the cap, naming the column and line', () => {
    const text = csv([
      header,
      honest(0),
      ['Big', 'ee'.repeat(32), 'Huge cell', '', `http://crl.example/${'a'.repeat(MAX_CELL_CHARS)}`, ''],
      honest(1),
    ]);
    const r = parseAllCertificateRecords(text, 'report.csv');
    expect(r.disclosures.map((d) => d.name)).toEqual(['CA 0', 'CA 1']);
    expect(r.skipped).toEqual([{ line: 3, why: `the "${COLUMNS.fullCrl}" cell is longer than ${MAX_CELL_CHARS} characters` }]);
  });

  it('skips a disclosure too big to store as one item (long URLs under the count cap)', () => {
    const text = csv([header, ['Big', 'dd'.repeat(32), 'Long URLs', '', '', shards(400, 1000)], honest(0)]);
    const r = parseAllCertificateRecords(text, 'report.csv');
    expect(r.disclosures.map((d) => d.name)).toEqual(['CA 0']);
    expect(r.skipped[0]!.line).toBe(2);
    expect(r.skipped[0]!.why).toMatch(new RegExp(`^the row's disclosure takes \\d+ bytes, more than the ${MAX_DISCLOSURE_BYTES}`));
  });
});
