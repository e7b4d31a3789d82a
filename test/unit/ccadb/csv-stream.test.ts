/**
 * The streaming CSV reader reads what parseCsv reads, however the text is cut into pieces (a CRLF, a
 * doubled quote or a BOM split between two reads), and never throws: a record it cannot trust is marked
 * malformed with its line and the records after it are still read.
 */
import { describe, expect, it } from 'vitest';
import { parseCsv, readCsvRecords, type StreamedCsvRecord } from '../../../src/ccadb/csv.js';

async function* inPieces(text: string, cuts: readonly number[]): AsyncGenerator<string> {
  let from = 0;
  for (const c of [...cuts, text.length]) {
    yield text.slice(from, c);
    from = c;
  }
}

const readAll = async (text: string, cuts: readonly number[] = [], maxFieldChars?: number): Promise<StreamedCsvRecord[]> => {
  const out: StreamedCsvRecord[] = [];
  for await (const r of readCsvRecords(inPieces(text, cuts), maxFieldChars ? { maxFieldChars } : {})) out.push(r);
  return out;
};

describe('readCsvRecords', () => {
  const text =
    '\ufeffSHA-256 Fingerprint,X.509 Certificate (PEM),Owner\r\n' +
    'AB,"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----","Owner, ""Inc."""\r\n' +
    '\r\n' +
    'CD,"line1\nline2",plain\n' +
    'EF,,last';

  it('reads the same records as parseCsv, whatever the pieces', async () => {
    const whole = parseCsv(text);
    expect(await readAll(text)).toEqual(whole);
    // Every single cut point, and every pair of cuts a few characters apart.
    for (let c = 0; c <= text.length; c++) expect(await readAll(text, [c])).toEqual(whole);
    for (let c = 0; c + 3 <= text.length; c += 2) expect(await readAll(text, [c, c + 1, c + 3])).toEqual(whole);
    expect(whole[0]!.fields[0]).toBe('SHA-256 Fingerprint');
    expect(whole.map((r) => r.line)).toEqual([1, 2, 6, 8]);
  });

  it('marks a record with text after a closing quote, and an unclosed quote at the end, and reads on', async () => {
    const records = await readAll('h1,h2\n"x"y,z\nok,1\n"open\nnever closed', [7]);
    expect(records[1]).toMatchObject({ line: 2, malformed: expect.stringMatching(/text after a closing quote on line 2/) });
    expect(records[2]).toEqual({ line: 3, fields: ['ok', '1'] });
    expect(records[3]).toMatchObject({ line: 4, malformed: expect.stringMatching(/opened on line 4 is not closed/) });
  });

  it('drops a field past the cap, naming it, in any pieces', async () => {
    const big = `a,b\r\nshort,"${'x'.repeat(100)}"\r\n${'y'.repeat(101)},z\r\n`;
    const expected = parseCsv(big, { maxFieldChars: 100 });
    expect(await readAll(big, [10, 50, 130], 100)).toEqual(expected);
    expect(expected[2]).toEqual({ line: 3, fields: ['', 'z'], oversized: 0 });
  });
});
