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
}

export class CsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvError';
  }
}

/** Every record of `text`, the header included; a trailing empty line is not a record. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  // A UTF-8 byte order mark before the header is not part of the first column's name.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let atFieldStart = true;
  const endField = (): void => {
    fields.push(field);
    field = '';
    atFieldStart = true;
  };
  const endRecord = (): void => {
    endField();
    // A blank line (one empty field) separates nothing: skip it rather than report a short record.
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (atFieldStart && ch === '"') {
      // Quoted field: runs to the quote that is not doubled.
      const startLine = line;
      i++;
      for (;;) {
        if (i >= text.length) throw new CsvError(`line ${startLine}: a quoted field is not closed before the end of the file`);
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
        field += c;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n')
        throw new CsvError(`line ${line}: text after a closing quote (RFC 4180 2.7 wants "" for a quote inside a field)`);
      atFieldStart = false;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    field += ch;
    atFieldStart = false;
    i++;
  }
  if (field !== '' || fields.length > 0 || !atFieldStart) endRecord();
  return records;
}
