/**
 * The CCADB reports revwatch reads, each recognised by its header:
 *
 * - "All Certificate Records" (AllCertificateRecordsCSVFormatV5 since CCADB
 *   Policy 2.1, 2026-03-20; V4 before): one row per CA certificate disclosed
 *   by a root program member, with where its CRLs are published. V5 gives a
 *   JSON array of full CRL URLs ("JSON Array of All Full CRL URLs": a CA may
 *   disclose several), V4 one URL ("Full CRL Issued By This CA"); both give a
 *   JSON array of partitioned CRLs whose union is the full CRL (Mozilla Root
 *   Store Policy 6.1.1; Apple Root Program 2.1.2). V5 carries no PEMs.
 * - "All Certificate PEMs" (AllCertificatePEMsCSVFormat, published per
 *   NotBeforeYear): "SHA-256 Fingerprint" and "X.509 Certificate (PEM)" of
 *   every disclosed CA certificate; revwatch keeps them to find issuers
 *   (ccadb/issuers.ts).
 *
 * Columns are found by their header name, so a reordered report or one with
 * columns added reads the same; a report without the needed columns is
 * refused with one line.
 */
import { createHash } from 'node:crypto';
import { InputError } from '../errors.js';
import { readCertificateBlocks } from '../pki/certificate.js';
import { parseRawCertificate, type RawCertificate } from '../pki/raw-certificate.js';
import { nameHash, toKeep, type KeptCaCertificate } from './issuers.js';
import { CsvError, parseCsv } from './csv.js';

/** What one CA disclosed. */
export interface Disclosure {
  /** SHA-256 of the CA certificate, lowercase hex. */
  readonly sha256: string;
  readonly name: string;
  readonly owner: string;
  /** Subject Key Identifier, lowercase hex (the report gives it in base64; hex is accepted too). */
  readonly subjectKeyId: string | null;
  /** The first full CRL disclosed (kept for readers of disclosures stored before V5); fullCrls has them all. */
  readonly fullCrl: string | null;
  /** Every full CRL the CA disclosed (V5 "JSON Array of All Full CRL URLs"; V4 gave one): each a source for its certificates. */
  readonly fullCrls?: readonly string[];
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
  fullCrls: 'JSON Array of All Full CRL URLs',
  partitioned: 'JSON Array of Partitioned CRLs',
  pem: 'X.509 Certificate (PEM)',
} as const;

/** Without these no disclosure can be read or matched, besides one of the CRL columns. The others are used when present. */
const REQUIRED = [COLUMNS.sha256, COLUMNS.subjectKeyId] as const;

/** The most full CRLs taken from one CA: disclosures list one or two; a row with more is skipped and named. */
export const MAX_FULL_CRLS = 100;

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

/** Which report a header is. */
export type ReportKind =
  | { readonly kind: 'records'; readonly version: 'V5' | 'V4'; readonly header: readonly string[] }
  | { readonly kind: 'pems'; readonly header: readonly string[] };

/** The report's name as the CCADB publishes it, for messages. */
export const reportName = (k: ReportKind): string =>
  k.kind === 'pems' ? '"All Certificate PEMs"' : `"All Certificate Records" (${k.version === 'V5' ? 'V5' : 'V4'})`;

const columnIndex = (header: readonly string[]): Map<string, number> => {
  const index = new Map<string, number>();
  header.forEach((name, i) => {
    const key = name.trim().toLowerCase();
    if (!index.has(key)) index.set(key, i);
  });
  return index;
};

/**
 * Recognises a report by its header, or refuses it with one line naming the columns looked for. A header
 * with a CRL column is an "All Certificate Records" report (V5 when it has the JSON array of full CRLs);
 * one with a fingerprint and a PEM column and no CRL column is an "All Certificate PEMs" report.
 */
export function classifyReport(header: readonly string[] | undefined, source: string): ReportKind {
  if (!header) throw new InputError(`${source} is empty: expected a CCADB "All Certificate Records" or "All Certificate PEMs" CSV report`);
  const index = columnIndex(header);
  const has = (c: string): boolean => index.has(c.toLowerCase());
  const v5 = has(COLUMNS.fullCrls);
  if (v5 || has(COLUMNS.fullCrl)) {
    const missing = REQUIRED.filter((c) => !has(c));
    if (missing.length > 0)
      throw new InputError(
        `${source} is not the CCADB "All Certificate Records" report: no ${missing.map((m) => `"${m}"`).join(', ')} column${missing.length > 1 ? 's' : ''}`,
      );
    return { kind: 'records', version: v5 ? 'V5' : 'V4', header };
  }
  if (has(COLUMNS.sha256) && has(COLUMNS.pem)) return { kind: 'pems', header };
  throw new InputError(
    `${source} is not a CCADB report revwatch reads: no "${COLUMNS.fullCrls}" (V5) or "${COLUMNS.fullCrl}" (V4) column of the "All Certificate Records" report, and no "${COLUMNS.sha256}" and "${COLUMNS.pem}" columns of the "All Certificate PEMs" report`,
  );
}

/** Why a record cannot be read at all (cut short by the CSV reader), or null. */
function unreadable(r: { oversized?: number; malformed?: string }, header: readonly string[]): string | null {
  if (r.malformed) return r.malformed;
  if (r.oversized !== undefined) {
    const column = header[r.oversized] ?? `column ${r.oversized + 1}`;
    return `the "${column.slice(0, 80)}" cell is longer than ${MAX_CELL_CHARS} characters`;
  }
  return null;
}

/** A JSON array of http(s) URLs, deduplicated; a string saying why not otherwise. */
function urlArray(text: string, column: string, max: number, what: string): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `"${column}" is not JSON`;
  }
  if (!Array.isArray(parsed) || !parsed.every((u) => typeof u === 'string')) return `"${column}" is not a JSON array of URLs`;
  const urls = [...new Set((parsed as string[]).map((u) => u.trim()).filter((u) => u !== ''))];
  if (urls.length > max)
    return `lists ${urls.length} ${what}, more than the ${max} revwatch takes from one CA (a set cut short proves nothing): not imported`;
  const bad = urls.find((u) => !isHttpUrl(u));
  if (bad) return `${what.replace(/s$/, '')} "${bad}" in "${column}" is not an http(s) URL`;
  return urls;
}

/** Reads the rows of an "All Certificate Records" report (V5 or V4) one at a time. */
export class RecordsReader {
  private readonly index: Map<string, number>;
  constructor(private readonly kind: Extract<ReportKind, { kind: 'records' }>) {
    this.index = columnIndex(kind.header);
  }

  private cell(fields: readonly string[], column: string): string {
    const i = this.index.get(column.toLowerCase());
    return i === undefined ? '' : (fields[i] ?? '').trim();
  }

  read(r: { line: number; fields: readonly string[]; oversized?: number; malformed?: string }): Disclosure | SkippedRow {
    const skip = (why: string): SkippedRow => ({ line: r.line, why });
    const cut = unreadable(r, this.kind.header);
    if (cut) return skip(cut);
    const sha256 = this.cell(r.fields, COLUMNS.sha256).replace(/:/g, '').toLowerCase();
    if (!HEX64.test(sha256)) return skip(`"${COLUMNS.sha256}" is not a SHA-256 fingerprint`);
    const subjectKeyId = keyIdentifierHex(this.cell(r.fields, COLUMNS.subjectKeyId));
    if (subjectKeyId === undefined) return skip(`"${COLUMNS.subjectKeyId}" is neither base64 nor hex`);

    let fullCrls: string[] = [];
    if (this.kind.version === 'V5') {
      const text = this.cell(r.fields, COLUMNS.fullCrls);
      if (text) {
        const urls = urlArray(text, COLUMNS.fullCrls, MAX_FULL_CRLS, 'full CRLs');
        if (typeof urls === 'string') return skip(urls);
        fullCrls = urls;
      }
    } else {
      const full = this.cell(r.fields, COLUMNS.fullCrl);
      if (full && !isHttpUrl(full)) return skip(`"${COLUMNS.fullCrl}" "${full}" is not an http(s) URL`);
      if (full) fullCrls = [full];
    }
    let partitionedCrls: string[] = [];
    const partitionedText = this.cell(r.fields, COLUMNS.partitioned);
    if (partitionedText) {
      const urls = urlArray(partitionedText, COLUMNS.partitioned, MAX_PARTITIONED_CRLS, 'partitioned CRLs');
      if (typeof urls === 'string') return skip(urls);
      partitionedCrls = urls;
    }

    const pemText = this.cell(r.fields, COLUMNS.pem);
    let pem: string | null = null;
    let subjectNameHash: string | null = null;
    if (pemText) {
      const cert = checkedPem(pemText, sha256, r.line);
      if (typeof cert === 'string') return skip(cert);
      pem = pemText;
      subjectNameHash = nameHash(cert.raw.subjectName);
    }
    const disclosure: Disclosure = {
      sha256,
      name: this.cell(r.fields, COLUMNS.name),
      owner: this.cell(r.fields, COLUMNS.owner),
      subjectKeyId,
      fullCrl: fullCrls[0] ?? null,
      fullCrls,
      partitionedCrls,
      pem,
      subjectNameHash,
    };
    const bytes = Buffer.byteLength(JSON.stringify(disclosure));
    if (bytes > MAX_DISCLOSURE_BYTES)
      return skip(`the row's disclosure takes ${bytes} bytes, more than the ${MAX_DISCLOSURE_BYTES} revwatch stores for one CA`);
    return disclosure;
  }
}

/** The certificate of a PEM cell, checked against the row's fingerprint; a string saying why not otherwise. */
function checkedPem(pemText: string, sha256: string, line: number): { der: Uint8Array; raw: RawCertificate } | string {
  let der: Uint8Array;
  let raw: RawCertificate;
  try {
    const blocks = readCertificateBlocks(Buffer.from(pemText, 'latin1'), `line ${line}`);
    if (blocks.length !== 1) return `"${COLUMNS.pem}" holds ${blocks.length} certificates, not one`;
    der = blocks[0]!;
    raw = parseRawCertificate(der);
  } catch {
    return `"${COLUMNS.pem}" is not a certificate`;
  }
  if (createHash('sha256').update(der).digest('hex') !== sha256)
    return `the PEM certificate does not hash to the row's "${COLUMNS.sha256}"`;
  return { der, raw };
}

/** Reads the rows of an "All Certificate PEMs" report one at a time: each CA certificate, its fingerprint checked. */
export class PemsReader {
  private readonly sha256At: number;
  private readonly pemAt: number;
  constructor(private readonly kind: Extract<ReportKind, { kind: 'pems' }>) {
    const index = columnIndex(kind.header);
    this.sha256At = index.get(COLUMNS.sha256.toLowerCase())!;
    this.pemAt = index.get(COLUMNS.pem.toLowerCase())!;
  }

  read(r: { line: number; fields: readonly string[]; oversized?: number; malformed?: string }): KeptCaCertificate | SkippedRow {
    const skip = (why: string): SkippedRow => ({ line: r.line, why });
    const cut = unreadable(r, this.kind.header);
    if (cut) return skip(cut);
    const sha256 = (r.fields[this.sha256At] ?? '').trim().replace(/:/g, '').toLowerCase();
    if (!HEX64.test(sha256)) return skip(`"${COLUMNS.sha256}" is not a SHA-256 fingerprint`);
    const pemText = (r.fields[this.pemAt] ?? '').trim();
    if (!pemText) return skip(`no "${COLUMNS.pem}"`);
    const cert = checkedPem(pemText, sha256, r.line);
    if (typeof cert === 'string') return skip(cert);
    // Kept as the CCADB wrote it, line breaks normalised: the PEM is read back with readCertificateBlocks.
    return toKeep(cert.der, pemText.replace(/\r\n?/g, '\n'), sha256);
  }
}

export const isSkipped = (x: object): x is SkippedRow => 'why' in x && 'line' in x;

/** Reads a whole "All Certificate Records" report held in memory (the AWS refresh; tests). */
export function parseAllCertificateRecords(text: string, source: string): ParsedReport {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text, { maxFieldChars: MAX_CELL_CHARS });
  } catch (err) {
    if (err instanceof CsvError) throw new InputError(`${source}: not a readable CSV file: ${err.message}`);
    throw err;
  }
  const kind = classifyReport(records[0]?.fields, source);
  if (kind.kind !== 'records')
    throw new InputError(`${source} is the CCADB "All Certificate PEMs" report, not the "All Certificate Records" report`);
  const reader = new RecordsReader(kind);
  const disclosures = new Map<string, Disclosure>();
  const skipped: SkippedRow[] = [];
  for (let n = 1; n < records.length; n++) {
    const got = reader.read(records[n]!);
    if (isSkipped(got)) skipped.push(got);
    else disclosures.set(got.sha256, got);
  }
  return { disclosures: [...disclosures.values()], skipped };
}

/** Every full CRL of a disclosure, for disclosures stored before V5 too (they kept one, as fullCrl). */
export const fullCrlsOf = (d: Pick<Disclosure, 'fullCrl' | 'fullCrls'>): readonly string[] => d.fullCrls ?? (d.fullCrl ? [d.fullCrl] : []);

/** The CRLs a disclosure names, full ones first. */
export function disclosedUrls(d: Pick<Disclosure, 'fullCrl' | 'fullCrls' | 'partitionedCrls'>): string[] {
  return [...new Set([...fullCrlsOf(d), ...d.partitionedCrls])];
}
