/**
 * The CCADB "All Certificate Records" report (AllCertificateRecordsCSVFormatv4
 * and its predecessors): one row per CA certificate disclosed by a root
 * program member, with where its CRLs are published. Since 2022-10 the CCADB
 * asks every CA to disclose either the URL of one full CRL or a JSON array of
 * partitioned CRLs whose union is the full CRL (Mozilla Root Store Policy
 * 6.1.1, CCADB Policy 5; Apple Root Program 2.1.2).
 *
 * Columns are found by their header name, so a reordered report or one with
 * columns added reads the same; a report without the needed columns is
 * refused with one line.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { readCertificateBlocks } from '../pki/certificate.js';
import { parseRawCertificate } from '../pki/raw-certificate.js';
import { CsvError, parseCsv } from './csv.js';

/** What one CA disclosed. */
export interface Disclosure {
  /** SHA-256 of the CA certificate, lowercase hex. */
  readonly sha256: string;
  readonly name: string;
  readonly owner: string;
  /** Subject Key Identifier, lowercase hex (the report gives it in base64; hex is accepted too). */
  readonly subjectKeyId: string | null;
  /** The full CRL, when the CA disclosed one. */
  readonly fullCrl: string | null;
  /** The partitioned CRLs, when the CA disclosed a set (their union is the full CRL). */
  readonly partitionedCrls: readonly string[];
  /** The CA certificate as disclosed, when the report carries it: the issuer-name fallback checks signatures with it. */
  readonly pem: string | null;
  /** SHA-256 of the disclosed certificate's subject name DER, when the PEM was given (the issuer-name lookup key). */
  readonly subjectNameHash: string | null;
}

export interface SkippedRow {
  readonly line: number;
  readonly why: string;
}

export interface ParsedReport {
  readonly disclosures: readonly Disclosure[];
  /** Rows that could not be used, with the line they start on. */
  readonly skipped: readonly SkippedRow[];
}

export const COLUMNS = {
  sha256: 'SHA-256 Fingerprint',
  name: 'Certificate Name',
  owner: 'CA Owner',
  subjectKeyId: 'Subject Key Identifier',
  fullCrl: 'Full CRL Issued By This CA',
  partitioned: 'JSON Array of Partitioned CRLs',
  pem: 'X.509 Certificate (PEM)',
} as const;

/** Without these no disclosure can be read or matched. The others are used when present. */
const REQUIRED = [COLUMNS.sha256, COLUMNS.subjectKeyId, COLUMNS.fullCrl, COLUMNS.partitioned] as const;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The longest cell read. The longest real ones are a PEM certificate (a few
 * KB) and a JSON array of partitioned CRLs (some KB); a row with a longer
 * cell is skipped with its line, the rest of the report still imported.
 */
export const MAX_CELL_CHARS = 1024 * 1024;

/**
 * The most partitioned CRLs taken from one CA. A certificate reached through
 * a partitioned disclosure is checked against every shard, each one a fetch
 * per run and a source in its evidence record; disclosed sets run to a few
 * hundred. A set cannot be cut short (a serial in a shard left out would read
 * as "not revoked"), so a CA that lists more is skipped and named.
 */
export const MAX_PARTITIONED_CRLS = 1000;

/** The most one CA's disclosure may take as stored (one item, JSON): well inside the store's 400 KB item. */
export const MAX_DISCLOSURE_BYTES = 256 * 1024;

const isHttpUrl = (s: string): boolean => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

const HEX_KEY_ID = /^(?:[0-9a-f]{2})+$/i;
const BASE64_KEY_ID = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * A Subject Key Identifier as lowercase hex, the form certificates' AKIs are compared in; null when the cell
 * is empty, undefined when it is neither form. The CCADB report gives it in base64; a report edited or
 * exported by other tools may give hex, with or without colons. Hex is tried first: a base64 identifier of
 * the usual 20 (SHA-1, RFC 5280 4.2.1.2) or 32 bytes ends in '=', so it is never all hex digits, and an
 * unpadded one (a multiple of 3 bytes) is all hex digits by chance only once in some 10^18.
 */
export function keyIdentifierHex(text: string): string | null | undefined {
  if (!text) return null;
  const hex = text.replace(/[:\s]/g, '');
  if (HEX_KEY_ID.test(hex)) return hex.toLowerCase();
  if (BASE64_KEY_ID.test(text)) return Buffer.from(text, 'base64').toString('hex');
  return undefined;
}

/** The hash the issuer-name lookup keys on: SHA-256 of a Name's DER. */
export function nameHash(nameDer: Uint8Array): string {
  return createHash('sha256').update(nameDer).digest('hex');
}

export function parseAllCertificateRecords(text: string, source: string): ParsedReport {
  let records;
  try {
    records = parseCsv(text, { maxFieldChars: MAX_CELL_CHARS });
  } catch (err) {
    if (err instanceof CsvError) throw new InputError(`${source}: not a readable CSV file: ${err.message}`);
    throw err;
  }
  const header = records[0];
  if (!header) throw new InputError(`${source} is empty: expected the CCADB "All Certificate Records" CSV report`);
  const index = new Map<string, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (!index.has(key)) index.set(key, i);
  });
  const missing = REQUIRED.filter((c) => !index.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new InputError(
      `${source} is not the CCADB "All Certificate Records" report: no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length > 1 ? 's' : ''}`,
    );
  }
  const cell = (fields: readonly string[], column: string): string => {
    const i = index.get(column.toLowerCase());
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };

  const disclosures = new Map<string, Disclosure>();
  const skipped: SkippedRow[] = [];
  const columnName = header.fields;
  for (let n = 1; n < records.length; n++) {
    const r = records[n]!;
    if (r.oversized !== undefined) {
      const column = columnName[r.oversized] ?? `column ${r.oversized + 1}`;
      skipped.push({ line: r.line, why: `the "${column.slice(0, 80)}" cell is longer than ${MAX_CELL_CHARS} characters` });
      continue;
    }
    const sha256 = cell(r.fields, COLUMNS.sha256).replace(/:/g, '').toLowerCase();
    if (!HEX64.test(sha256)) {
      skipped.push({ line: r.line, why: `"${COLUMNS.sha256}" is not a SHA-256 fingerprint` });
      continue;
    }
    const subjectKeyId = keyIdentifierHex(cell(r.fields, COLUMNS.subjectKeyId));
    if (subjectKeyId === undefined) {
      skipped.push({ line: r.line, why: `"${COLUMNS.subjectKeyId}" is neither base64 nor hex` });
      continue;
    }

    const full = cell(r.fields, COLUMNS.fullCrl);
    const fullCrl = full && isHttpUrl(full) ? full : null;
    let partitionedCrls: string[] = [];
    const partitionedText = cell(r.fields, COLUMNS.partitioned);
    if (partitionedText) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(partitionedText);
      } catch {
        skipped.push({ line: r.line, why: `"${COLUMNS.partitioned}" is not JSON` });
        continue;
      }
      if (!Array.isArray(parsed) || !parsed.every((u) => typeof u === 'string')) {
        skipped.push({ line: r.line, why: `"${COLUMNS.partitioned}" is not a JSON array of URLs` });
        continue;
      }
      partitionedCrls = [...new Set((parsed as string[]).map((u) => u.trim()).filter((u) => u !== ''))];
      if (partitionedCrls.length > MAX_PARTITIONED_CRLS) {
        skipped.push({
          line: r.line,
          why: `lists ${partitionedCrls.length} partitioned CRLs, more than the ${MAX_PARTITIONED_CRLS} revwatch takes from one CA (a set cut short proves nothing): not imported`,
        });
        continue;
      }
      const bad = partitionedCrls.find((u) => !isHttpUrl(u));
      if (bad) {
        skipped.push({ line: r.line, why: `partitioned CRL "${bad}" is not an http(s) URL` });
        continue;
      }
    }
    if (full && !fullCrl) {
      skipped.push({ line: r.line, why: `"${COLUMNS.fullCrl}" "${full}" is not an http(s) URL` });
      continue;
    }

    const pemText = cell(r.fields, COLUMNS.pem);
    let pem: string | null = null;
    let subjectNameHash: string | null = null;
    if (pemText) {
      try {
        const [der] = readCertificateBlocks(Buffer.from(pemText, 'latin1'), `line ${r.line}`);
        const raw = parseRawCertificate(der!);
        if (createHash('sha256').update(der!).digest('hex') !== sha256) {
          skipped.push({ line: r.line, why: `the PEM certificate does not hash to the row's "${COLUMNS.sha256}"` });
          continue;
        }
        pem = pemText;
        subjectNameHash = nameHash(raw.subjectName);
      } catch {
        skipped.push({ line: r.line, why: `"${COLUMNS.pem}" is not a certificate` });
        continue;
      }
    }
    const disclosure: Disclosure = {
      sha256,
      name: cell(r.fields, COLUMNS.name),
      owner: cell(r.fields, COLUMNS.owner),
      subjectKeyId,
      fullCrl,
      partitionedCrls,
      pem,
      subjectNameHash,
    };
    const bytes = Buffer.byteLength(JSON.stringify(disclosure));
    if (bytes > MAX_DISCLOSURE_BYTES) {
      skipped.push({
        line: r.line,
        why: `the row's disclosure takes ${bytes} bytes, more than the ${MAX_DISCLOSURE_BYTES} revwatch stores for one CA`,
      });
      continue;
    }
    disclosures.set(sha256, disclosure);
  }
  return { disclosures: [...disclosures.values()], skipped };
}

/** The CRLs a disclosure names, full first. */
export function disclosedUrls(d: Pick<Disclosure, 'fullCrl' | 'partitionedCrls'>): string[] {
  return [...new Set([...(d.fullCrl ? [d.fullCrl] : []), ...d.partitionedCrls])];
}
