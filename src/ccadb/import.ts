/**
 * What `revwatch ccadb import <file|url>` does (src/cli/ccadb.ts wires it): reads the CCADB "All Certificate
 * Records" CSV report and makes its CRL disclosures the current ones
 * (ccadb/store.ts keeps the dated history). A URL is fetched through the same
 * guarded fetcher as every other request.
 */
import { readFile, stat } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { Fetcher } from '../ports/index.js';
import type { CertificateInfo } from '../pki/certificate.js';
import { parseAllCertificateRecords, disclosedUrls, type SkippedRow } from './report.js';
import type { DisclosureLookup, Disclosures, ImportSummary } from '../ports/disclosures.js';
import { disclosureFor, disclosedSourcesOf } from './match.js';
import { oneLine } from '../util/terminal.js';

/** The report is about 10 MB today (2026); the cap leaves room to grow without reading anything unbounded. */
export const CCADB_REPORT_MAX_BYTES = 256 * 1024 * 1024;

export interface CcadbImportResult extends ImportSummary {
  readonly source: string;
  readonly disclosures: number;
  readonly withCrls: number;
  readonly skipped: readonly SkippedRow[];
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** Reads the report's text from a file or an http(s) URL; a source that cannot be read is bad input. */
export async function readReport(source: string, fetcher: Fetcher): Promise<string> {
  if (isUrl(source)) {
    const r = await fetcher.fetch({ url: source, maxBytes: CCADB_REPORT_MAX_BYTES, purpose: 'crl' });
    if (!r.ok) throw new InputError(`could not download the CCADB report from ${source}: ${r.message}`);
    return Buffer.from(r.body).toString('utf8');
  }
  try {
    // The same cap as a download: a report is read whole, so its size is bounded before it is read.
    const { size, isFile } = await stat(source).then((st) => ({ size: st.size, isFile: st.isFile() }));
    if (isFile && size > CCADB_REPORT_MAX_BYTES)
      throw new InputError(`${source} is ${size} bytes, more than the ${CCADB_REPORT_MAX_BYTES}-byte cap for a CCADB report`);
    return await readFile(source, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read ${source}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
    );
  }
}

/** Imports a report into the table: parse first (bad input writes nothing), then replace. */
export async function importCcadbReport(text: string, source: string, store: Disclosures, now: number): Promise<CcadbImportResult> {
  const parsed = parseAllCertificateRecords(text, source);
  const summary = await store.replace(parsed.disclosures, now, source);
  return {
    source,
    disclosures: parsed.disclosures.length,
    withCrls: parsed.disclosures.filter((d) => disclosedUrls(d).length > 0).length,
    skipped: parsed.skipped,
    ...summary,
  };
}

export function formatImport(r: CcadbImportResult): string {
  const lines = [
    `imported ${r.disclosures} CA certificate record(s) from ${r.source}, ${r.withCrls} with disclosed CRLs: ${r.added} new, ${r.changed} changed, ${r.unchanged} unchanged, ${r.removed} no longer reported`,
  ];
  for (const s of r.skipped.slice(0, 20)) lines.push(`  line ${s.line}: skipped: ${oneLine(s.why)}`);
  if (r.skipped.length > 20) lines.push(`  ... and ${r.skipped.length - 20} more skipped row(s)`);
  return lines.join('\n');
}

/**
 * For `track`: the CRLs disclosed for a certificate's issuer, matched by the certificate's AKI (or issuer
 * name and signature), else by the Subject Key Identifier of the issuer `track` found.
 */
export function disclosedCrlsForTrack(
  lookup: DisclosureLookup,
): (cert: CertificateInfo, issuer: CertificateInfo) => Promise<readonly string[]> {
  return async (cert, issuer) => {
    let d = await disclosureFor(lookup, cert.raw, issuer.sha256);
    if (!d && issuer.subjectKeyId) d = (await lookup.byKeyId(issuer.subjectKeyId)).find((x) => disclosedUrls(x).length > 0) ?? null;
    return disclosedSourcesOf({ crlUrls: cert.crlUrls }, d).disclosedCrlUrls;
  };
}
