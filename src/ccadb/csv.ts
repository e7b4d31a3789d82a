/**
 * A CSV reader for RFC 4180 text, as the CCADB writes its reports: fields
 * separated by commas, records by CRLF (LF and a lone CR accepted too), a
 * field that holds a comma, a quote or a line break enclosed in double
 * quotes, a quote inside one doubled. PEM cells span many lines, so records
 * are not lines: each record carries the line number it starts on, for
 * messages that point the user at the file.
 */

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
  /** The 0-based index of the first field longer than the cap; that field is read as "". */
  readonly oversized?: number;
}

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

export interface CsvOptions {
  /**
   * A field longer than this many characters is not kept: it reads as "" and
   * the record says which one (`oversized`), so the caller can skip the row
   * and name its line. The file is still read to its end.
   */
  readonly maxFieldChars?: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Every record of `text`, the header included; a trailing empty line is not a record.
 * Fields are sliced out of the text, never built a character at a time: a 20 MB cell
 * built by `+=` is a rope of millions of pieces, and flattening it took over 1 GB.
 */
export function parseCsv(text: string, options: CsvOptions = {}): CsvRecord[] {
  const maxField = options.maxFieldChars ?? Number.POSITIVE_INFINITY;
  const records: CsvRecord[] = [];
  const end = text.length;
  // A UTF-8 byte order mark before the header is not part of the first column's name.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let oversized: number | undefined;
  let recordLine = 1;
  const keep = (value: string, length: number): void => {
    if (length > maxField) {
      oversized ??= fields.length;
      fields.push('');
    } else fields.push(value);
  };
  const endRecord = (): void => {
    // A blank line (one empty field) separates nothing: skip it rather than report a short record.
    if (!(fields.length === 1 && fields[0] === '' && oversized === undefined))
      records.push(oversized === undefined ? { line: recordLine, fields } : { line: recordLine, fields, oversized });
    fields = [];
    oversized = undefined;
  };
  /** Counts the line breaks in text[from, to) (CRLF, LF, or a lone CR). */
  const countLines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) {
      const c = text.charCodeAt(k);
      if (c === LF || (c === CR && text.charCodeAt(k + 1) !== LF)) line++;
    }
  };
  for (;;) {
    // At the start of a field.
    if (text.charCodeAt(i) === QUOTE) {
      // Quoted field: runs to the quote that is not doubled.
      const startLine = line;
      const parts: string[] = [];
      let length = 0;
      let from = i + 1;
      for (;;) {
        const q = text.indexOf('"', from);
        if (q < 0) throw new CsvError(`line ${startLine}: a quoted field is not closed before the end of the file`);
        countLines(from, q);
        length += q - from;
        if (length <= maxField) parts.push(text.slice(from, q));
        if (text.charCodeAt(q + 1) === QUOTE) {
          length++;
          if (length <= maxField) parts.push('"');
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      keep(length <= maxField ? (parts.length === 1 ? parts[0]! : parts.join('')) : '', length);
      const next = text.charCodeAt(i);
      if (i < end && next !== COMMA && next !== CR && next !== LF)
        throw new CsvError(`line ${line}: text after a closing quote (RFC 4180 2.7 wants "" for a quote inside a field)`);
    } else {
      const from = i;
      while (i < end) {
        const c = text.charCodeAt(i);
        if (c === COMMA || c === CR || c === LF) break;
        i++;
      }
      keep(i - from <= maxField ? text.slice(from, i) : '', i - from);
    }
    if (i >= end) {
      // The last record, without a line break after it (an empty one is skipped as a blank line).
      endRecord();
      return records;
    }
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      continue;
    }
    // A line break ends the record.
    endRecord();
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    line++;
    recordLine = line;
    if (i >= end) return records;
  }
}
