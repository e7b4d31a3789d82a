/**
 * What `revwatch ccadb import <source>…` does (src/cli/commands/ccadb.ts wires it): reads CCADB reports from
 * files, directories (every CCADB report in them) and http(s) URLs, each recognised by its header
 * (ccadb/report.ts):
 *
 * - "All Certificate Records" (V5, V4): their CRL disclosures become the current ones (ccadb/store.ts keeps
 *   the dated history). Several records reports in one import are one set, the later one winning for a CA
 *   both list.
 * - "All Certificate PEMs": every CA certificate is kept by fingerprint, for finding issuers (issuers.ts).
 *
 * Every source is opened and its header recognised before anything is written: a source that is not a
 * CCADB report is bad input and writes nothing. A file is read as a stream, one record at a time, so the
 * PEM reports (tens of MB) take bounded memory; a URL is fetched through the same guarded fetcher as every
 * other request, within its size cap. A row that cannot be used is skipped and reported with its line.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Fetcher } from '../ports/index.js';
import type { CertificateInfo } from '../pki/certificate.js';
import { fsReason } from '../util/fs-reason.js';
import { oneLine } from '../util/terminal.js';
import type { DisclosureLookup, Disclosures, ImportSummary } from '../ports/disclosures.js';
import { readCsvRecords, type StreamedCsvRecord } from './csv.js';
import type { KeptCaCertificate } from './issuers.js';
import { disclosureFor, disclosedSourcesOf } from './match.js';
import {
  classifyReport,
  disclosedUrls,
  isSkipped,
  MAX_CELL_CHARS,
  PemsReader,
  RecordsReader,
  reportName,
  type Disclosure,
  type ReportKind,
  type SkippedRow,
} from './report.js';

/** The records report is about 10 MB today (2026); the cap leaves room to grow without reading anything unbounded. */
export const CCADB_REPORT_MAX_BYTES = 256 * 1024 * 1024;

/** CA certificates written to the store in batches of this many while a PEM report streams. */
const KEEP_BATCH = 250;

/** One report read. */
export interface ReportRead {
  readonly source: string;
  /** "All Certificate Records" (V5 or V4) or "All Certificate PEMs". */
  readonly report: string;
  /** Data rows read (the header not counted). */
  readonly rows: number;
  /** Rows kept: disclosures, or CA certificates. */
  readonly kept: number;
  readonly skipped: number;
}

export interface CcadbImportResult extends ImportSummary {
  readonly reports: readonly ReportRead[];
  /** Disclosures read from the records reports (0 when none was given: the current ones are then left as they are). */
  readonly disclosures: number;
  readonly withCrls: number;
  /** CA certificates kept from the PEM reports in this import. */
  readonly caCertificates: number;
  /** Every row skipped, with its source and line. */
  readonly skipped: readonly (SkippedRow & { readonly source: string })[];
  /** Files in a directory that are not CCADB reports, left alone. */
  readonly notReports: readonly { readonly file: string; readonly why: string }[];
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** A source whose header was recognised, ready to be read to its end. */
interface OpenedReport {
  readonly source: string;
  readonly kind: ReportKind;
  records(): AsyncIterable<StreamedCsvRecord>;
}

async function* fileText(path: string): AsyncGenerator<string> {
  // setEncoding keeps a UTF-8 sequence split across two reads whole.
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  stream.setEncoding('utf8');
  try {
    for await (const piece of stream) yield piece as string;
  } finally {
    stream.destroy();
  }
}

async function* oneText(text: string): AsyncGenerator<string> {
  yield text;
}

/** Reads the header only; an unreadable or unrecognised source throws InputError. */
async function open(source: string, text: () => AsyncIterable<string>): Promise<OpenedReport> {
  let header: StreamedCsvRecord | undefined;
  for await (const r of readCsvRecords(text(), { maxFieldChars: MAX_CELL_CHARS })) {
    header = r;
    break;
  }
  const kind = classifyReport(header?.fields, source);
  return {
    source,
    kind,
    async *records() {
      let first = true;
      for await (const r of readCsvRecords(text(), { maxFieldChars: MAX_CELL_CHARS })) {
        if (first) {
          first = false;
          continue;
        }
        yield r;
      }
    },
  };
}

/**
 * Opens every source and recognises its header, before anything is written. A file or URL that is not a
 * CCADB report is refused; in a directory, files that are not are listed in `notReports` and left alone.
 */
export async function openCcadbSources(
  sources: readonly string[],
  fetcher: Fetcher,
): Promise<{ reports: OpenedReport[]; notReports: { file: string; why: string }[] }> {
  if (sources.length === 0) throw new InputError('no CCADB report given');
  const reports: OpenedReport[] = [];
  const notReports: { file: string; why: string }[] = [];
  for (const source of sources) {
    if (isUrl(source)) {
      const r = await fetcher.fetch({ url: source, maxBytes: CCADB_REPORT_MAX_BYTES, purpose: 'crl' });
      if (!r.ok) throw new InputError(`could not download the CCADB report from ${source}: ${r.message}`);
      const text = Buffer.from(r.body).toString('utf8');
      reports.push(await open(source, () => oneText(text)));
      continue;
    }
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(source);
    } catch (err) {
      throw new InputError(`cannot read ${source}: ${fsReason(err, 'file')}`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(source)).sort();
      let found = 0;
      for (const name of names) {
        const file = join(source, name);
        const fst = await stat(file).catch(() => null);
        if (!fst?.isFile()) continue;
        try {
          reports.push(await open(file, () => fileText(file)));
          found++;
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          notReports.push({ file, why: err.message });
        }
      }
      if (found === 0) throw new InputError(`${source} holds no CCADB report (${names.length} file(s) looked at)`);
      continue;
    }
    if (!st.isFile()) throw new InputError(`cannot read ${source}: not a file or a directory`);
    try {
      reports.push(await open(source, () => fileText(source)));
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`cannot read ${source}: ${fsReason(err, 'file')}`);
    }
  }
  return { reports, notReports };
}

/** Reads every opened report to its end and writes what it holds. */
export async function importCcadbReports(
  opened: { reports: readonly OpenedReport[]; notReports: readonly { file: string; why: string }[] },
  store: Disclosures,
  now: number,
): Promise<CcadbImportResult> {
  const reads: ReportRead[] = [];
  const skipped: (SkippedRow & { source: string })[] = [];
  const disclosures = new Map<string, Disclosure>();
  const recordSources: string[] = [];
  let caCertificates = 0;
  for (const report of opened.reports) {
    let rows = 0;
    let kept = 0;
    let skippedHere = 0;
    const skip = (s: SkippedRow): void => {
      skippedHere++;
      skipped.push({ source: report.source, ...s });
    };
    if (report.kind.kind === 'records') {
      recordSources.push(report.source);
      const reader = new RecordsReader(report.kind);
      for await (const r of report.records()) {
        rows++;
        const got = reader.read(r);
        if (isSkipped(got)) skip(got);
        else {
          disclosures.set(got.sha256, got);
          kept++;
        }
      }
    } else {
      const reader = new PemsReader(report.kind);
      let batch: KeptCaCertificate[] = [];
      for await (const r of report.records()) {
        rows++;
        const got = reader.read(r);
        if (isSkipped(got)) skip(got);
        else {
          batch.push(got);
          kept++;
          if (batch.length >= KEEP_BATCH) {
            await store.keepCaCertificates(batch);
            batch = [];
          }
        }
      }
      await store.keepCaCertificates(batch);
      caCertificates += kept;
    }
    reads.push({ source: report.source, report: reportName(report.kind), rows, kept, skipped: skippedHere });
  }
  const list = [...disclosures.values()];
  // Without a records report the current disclosures stay as they are: a PEM report says nothing about CRLs.
  const summary: ImportSummary = recordSources.length
    ? await store.replace(list, now, recordSources.join(' '))
    : { added: 0, changed: 0, unchanged: 0, removed: 0 };
  return {
    reports: reads,
    disclosures: list.length,
    withCrls: list.filter((d) => disclosedUrls(d).length > 0).length,
    caCertificates,
    ...summary,
    skipped,
    notReports: opened.notReports,
  };
}

export function formatImport(r: CcadbImportResult): string {
  const lines: string[] = [];
  for (const read of r.reports)
    lines.push(`${read.source}: the CCADB ${read.report} report: ${read.rows} row(s) read, ${read.kept} kept, ${read.skipped} skipped`);
  if (r.reports.some((x) => x.report.startsWith('"All Certificate Records"')))
    lines.push(
      `imported ${r.disclosures} CA certificate record(s), ${r.withCrls} with disclosed CRLs: ${r.added} new, ${r.changed} changed, ${r.unchanged} unchanged, ${r.removed} no longer reported`,
    );
  if (r.reports.some((x) => x.report === '"All Certificate PEMs"'))
    lines.push(`kept ${r.caCertificates} disclosed CA certificate(s) by fingerprint, to find issuers`);
  for (const n of r.notReports) lines.push(`  ${n.file}: not read: ${oneLine(n.why)}`);
  for (const s of r.skipped.slice(0, 20)) lines.push(`  ${s.source} line ${s.line}: skipped: ${oneLine(s.why)}`);
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
    if (!d && issuer.subjectKeyId) {
      const byKey = (await lookup.byKeyId(issuer.subjectKeyId)).filter((x) => disclosedUrls(x).length > 0);
      d = byKey.find((x) => x.sha256 === issuer.sha256) ?? byKey[0] ?? null;
    }
    return disclosedSourcesOf({ crlUrls: cert.crlUrls }, d).disclosedCrlUrls;
  };
}
