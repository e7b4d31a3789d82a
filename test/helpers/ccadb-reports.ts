/**
 * The CCADB's two reports as it publishes them since CCADB Policy 2.1 (March 2026), for tests that need
 * disclosed CAs: the "All Certificate Records" report, V5 (its real 89-column header, a fixture in
 * test/fixtures/ccadb), with the CRL URLs, and the CA certificates in the separate "All Certificate PEMs"
 * report. Both are written as the CCADB serves them: a byte-order mark, CRLF line ends, RFC 4180 quoting.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCertificates } from '../../src/pki/certificate.js';

const FIXTURES = join(__dirname, '..', 'fixtures', 'ccadb');
const headerOf = (file: string): string[] =>
  readFileSync(join(FIXTURES, file), 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split(',');
export const V5_HEADER = headerOf('AllCertificateRecordsCSVFormatV5.header.csv');
export const PEM_HEADER = headerOf('AllCertificatePEMsCSVFormat.header.csv');
/** The names the CCADB gives its report files (the PEM report is published one file per notBefore year). */
export const V5_REPORT = 'AllCertificateRecordsCSVFormatV5.csv';
export const PEM_REPORT = 'AllCertificatePEMsCSVFormat_NotBeforeYear_2026.csv';

/** One disclosed CA certificate. */
export interface DisclosedCa {
  readonly owner: string;
  /** The CA certificate, PEM. */
  readonly pem: string;
  /** "Certificate Name"; the certificate's subject CN or organisation when absent. */
  readonly name?: string;
  readonly fullCrls?: readonly string[];
  readonly partitionedCrls?: readonly string[];
  /** False: the CA's PEM is missing from the PEM report (a disclosure whose CRLs cannot be verified). */
  readonly inPemReport?: boolean;
}

const cell = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const line = (columns: readonly string[], values: Readonly<Record<string, string>>): string => {
  for (const k of Object.keys(values)) if (!columns.includes(k)) throw new Error(`the report has no column ${k}`);
  return columns.map((c) => cell(values[c] ?? '')).join(',');
};
const report = (lines: readonly string[]): string => `\ufeff${lines.join('\r\n')}\r\n`;

/** The V5 report's row of a CA (every other column empty). */
export function v5Row(ca: DisclosedCa): Record<string, string> {
  const c = readCertificates(Buffer.from(ca.pem), 'ca')[0]!;
  return {
    'CA Owner': ca.owner,
    'Certificate Name': ca.name ?? c.subject,
    'SHA-256 Fingerprint': c.sha256.toUpperCase(),
    'Subject Key Identifier': c.subjectKeyId ? Buffer.from(c.subjectKeyId, 'hex').toString('base64') : '',
    'JSON Array of All Full CRL URLs': ca.fullCrls?.length ? JSON.stringify(ca.fullCrls) : '',
    'JSON Array of Partitioned CRLs': ca.partitionedCrls?.length ? JSON.stringify(ca.partitionedCrls) : '',
  };
}

/** The two reports' texts. */
export function ccadbReports(cas: readonly DisclosedCa[]): { records: string; pems: string } {
  const records = report([V5_HEADER.join(','), ...cas.map((ca) => line(V5_HEADER, v5Row(ca)))]);
  const pems = report([
    PEM_HEADER.join(','),
    ...cas
      .filter((ca) => ca.inPemReport !== false)
      .map((ca) =>
        line(PEM_HEADER, {
          'SHA-256 Fingerprint': v5Row(ca)['SHA-256 Fingerprint']!,
          'X.509 Certificate (PEM)': ca.pem.trim().replace(/\r?\n/g, '\r\n'),
        }),
      ),
  ]);
  return { records, pems };
}

/** Writes both reports into `dir` (a directory `revwatch ccadb import <dir>` reads whole) and returns `dir`. */
export function writeCcadbReports(dir: string, cas: readonly DisclosedCa[]): string {
  const { records, pems } = ccadbReports(cas);
  writeFileSync(join(dir, V5_REPORT), records);
  writeFileSync(join(dir, PEM_REPORT), pems);
  return dir;
}
