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

/** A record read by readCsvRecords; `malformed` says why it cannot be trusted (the caller skips it with its line). */
export interface StreamedCsvRecord extends CsvRecord {
  readonly malformed?: string;
}

/** Where the reader is: at the start of a field, in an unquoted one, in a quoted one, or just after a quote inside a quoted one (the closing one, or the first of a doubled pair). */
const At = { FieldStart: 0, Unquoted: 1, Quoted: 2, QuoteInQuoted: 3 } as const;
type At = (typeof At)[keyof typeof At];

/**
 * The records of a CSV text that arrives in pieces (a file read as a stream), each yielded as soon as it
 * ends, so memory holds one record and one piece, never the report: the CCADB's PEM reports run to tens of
 * MB. The same reading as parseCsv (RFC 4180; BOM, CRLF/LF/CR, quoted line breaks, the line each record
 * starts on, the field cap), except that nothing is fatal: text after a closing quote and a quoted field
 * left open at the end of the file make that record `malformed`, and reading goes on.
 */
export async function* readCsvRecords(pieces: AsyncIterable<string>, options: CsvOptions = {}): AsyncGenerator<StreamedCsvRecord> {
  const maxField = options.maxFieldChars ?? Number.POSITIVE_INFINITY;
  let at: At = At.FieldStart;
  let parts: string[] = [];
  let fieldLength = 0;
  let fields: string[] = [];
  let oversized: number | undefined;
  let malformed: string | undefined;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 1;
  let previousWasCr = false;
  let first = true;
  const ready: StreamedCsvRecord[] = [];

  const take = (piece: string, from: number, to: number): void => {
    if (to <= from) return;
    fieldLength += to - from;
    if (fieldLength <= maxField) parts.push(piece.slice(from, to));
  };
  const endField = (): void => {
    if (fieldLength > maxField) {
      oversized ??= fields.length;
      fields.push('');
    } else fields.push(parts.length === 1 ? parts[0]! : parts.join(''));
    parts = [];
    fieldLength = 0;
  };
  const endRecord = (): void => {
    endField();
    // A blank line (one empty field) separates nothing.
    if (!(fields.length === 1 && fields[0] === '' && oversized === undefined && malformed === undefined)) {
      ready.push({
        line: recordLine,
        fields,
        ...(oversized !== undefined ? { oversized } : {}),
        ...(malformed !== undefined ? { malformed } : {}),
      });
    }
    fields = [];
    oversized = undefined;
    malformed = undefined;
    at = At.FieldStart;
  };

  for await (let piece of pieces) {
    // A UTF-8 byte order mark before the header is not part of the first column's name.
    if (first && piece.length > 0) {
      if (piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
      first = false;
    }
    let from = 0; // where the part of the current field in this piece starts
    for (let i = 0; i < piece.length; i++) {
      const c = piece.charCodeAt(i);
      const lineBreak = c === CR || c === LF;
      if (c === CR || (c === LF && !previousWasCr)) line++;
      const crlfTail = c === LF && previousWasCr;
      previousWasCr = c === CR;
      switch (at) {
        case At.FieldStart:
          if (c === QUOTE) {
            at = At.Quoted;
            quoteLine = line;
            from = i + 1;
          } else if (c === COMMA) endField();
          else if (lineBreak) {
            // The LF of a CRLF that already ended the record ends nothing more.
            if (!(crlfTail && fields.length === 0)) endRecord();
            recordLine = line;
          } else {
            at = At.Unquoted;
            from = i;
          }
          break;
        case At.Unquoted:
          if (c === COMMA) {
            take(piece, from, i);
            endField();
            at = At.FieldStart;
          } else if (lineBreak) {
            take(piece, from, i);
            endRecord();
            recordLine = line;
          }
          break;
        case At.Quoted:
          if (c === QUOTE) {
            take(piece, from, i);
            at = At.QuoteInQuoted;
          }
          break;
        case At.QuoteInQuoted:
          if (c === QUOTE) {
            take('"', 0, 1);
            at = At.Quoted;
            from = i + 1;
          } else if (c === COMMA) {
            endField();
            at = At.FieldStart;
          } else if (lineBreak) {
            endRecord();
            recordLine = line;
          } else {
            malformed ??= `text after a closing quote on line ${line} (RFC 4180 2.7 wants "" for a quote inside a field)`;
            at = At.Unquoted;
            from = i;
          }
          break;
      }
    }
    if (at === At.Unquoted || at === At.Quoted) take(piece, from, piece.length);
    for (const r of ready) yield r;
    ready.length = 0;
  }
  if ((at as At) === At.Quoted) {
    malformed ??= `a quoted field opened on line ${quoteLine} is not closed before the end of the file`;
    endRecord();
  } else if ((at as At) !== At.FieldStart || fields.length > 0) endRecord();
  for (const r of ready) yield r;
}
