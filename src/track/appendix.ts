/**
 * `track --appendix <file.csv>`: a CA's own incident appendix (CCADB Incident
 * Reporting Guidelines, "Report field definitions and expectations",
 * Appendix) tracked row by row, as issuer + serial. A root program watching a
 * large incident has that list, not the certificates.
 *
 * The standard columns are read by header (their spelling in the guidelines'
 * field table, or the issue's camelCase; case, spaces and punctuation
 * ignored); other columns are ignored. A row needs Issuer, Serial #, Not before
 * and Not after. The CA's "Is revoked?", revocation date and reason are its
 * claims: revwatch reads the revocation status itself.
 *
 * Each row's issuer is found by name (track/appendix-issuer.ts) among the
 * certificates given with --issuer and the CCADB-disclosed CA certificates; or,
 * when the row has the certificate's SHA-256 and --certs-dir holds that
 * certificate, the certificate itself is tracked, its issuer found by its
 * signature. A row known only from the appendix carries the validity the CA
 * wrote (TrackedCertificate.validityFrom = 'appendix'); its sources are the
 * issuer's disclosed CRLs (attached when checked, ccadb/match.ts) and
 * --crl-url / --ocsp-url; OCSP asks by CertID, which needs only the issuer's
 * name and key and the serial (RFC 6960 4.1.1).
 *
 * A row that cannot be used is reported with its line and the rest are
 * tracked; a row repeating an (issuer, serial) already read is counted, not
 * tracked twice.
 */
import type { DisclosedCaCertificate } from '../ccadb/issuers.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { parseCsv, readCsvRecords, type CsvRecord } from '../ccadb/csv.js';
import { disclosedUrls } from '../ccadb/report.js';
import type { DisclosureLookup, StoredDisclosure } from '../ccadb/store.js';
import { readCertificates, resolveIssuer, type CertificateInfo } from '../pki/certificate.js';
import type { Clock } from '../ports/index.js';
import type { Store, StoredCertificate } from '../ports/store.js';
import { appendixIssuers } from './appendix-issuer.js';
import { certsDirIndex } from './crtsh-json.js';
import {
  addGivenSources,
  existingCaseWithSameFacts,
  MAX_CERTIFICATE_BYTES,
  recordTracked,
  storedCertificateOf,
  type GivenSources,
} from './track.js';
import type { ProgressSink } from '../check/execute.js';

export interface AppendixRow {
  /** 1-based line of the file where the row starts. */
  readonly line: number;
  readonly precertificateSha256: string | null;
  readonly certificateSha256: string | null;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Lowercase hex, no separators, no leading zero bytes (as CertificateInfo.serial). */
  readonly serial: string;
  readonly dnsNames: readonly string[];
}

export interface BadRow {
  readonly line: number;
  readonly why: string;
}

type Field = 'precert' | 'cert' | 'subject' | 'issuer' | 'notBefore' | 'notAfter' | 'serial' | 'dnsNames';

/** Header spellings, folded (lowercase, letters and digits only): the IRG field table's, and the camelCase ones. */
const HEADERS: Record<string, Field> = {
  precertificatesha256hash: 'precert',
  precertificatesha256: 'precert',
  precertsha256: 'precert',
  certificatesha256hash: 'cert',
  certificatesha256: 'cert',
  certsha256: 'cert',
  subject: 'subject',
  issuer: 'issuer',
  notbefore: 'notBefore',
  notafter: 'notAfter',
  serial: 'serial',
  serialnumber: 'serial',
  serialnumberhex: 'serial',
  dnsnames: 'dnsNames',
};

const REQUIRED: readonly { field: Field; name: string }[] = [
  { field: 'issuer', name: 'Issuer' },
  { field: 'serial', name: 'Serial #' },
  { field: 'notBefore', name: 'Not before' },
  { field: 'notAfter', name: 'Not after' },
];

const fold = (header: string): string => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The largest appendix read: 3,000,000 rows of a few hundred bytes. */
export const APPENDIX_MAX_BYTES = 1024 * 1024 * 1024;

/** A serial as the CA writes it (`0A:1B`, `0x0a1b`, `0A1B`) in CertificateInfo's form; null when it is not one. */
export function normalizeSerial(text: string): string | null {
  let hex = text.trim().replace(/[:\s]/g, '').toLowerCase();
  if (hex.startsWith('0x')) hex = hex.slice(2);
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 80) return null;
  if (hex.length % 2) hex = `0${hex}`;
  while (hex.length > 2 && hex.startsWith('00')) hex = hex.slice(2);
  return hex;
}

/** A SHA-256 written as 64 hex digits (colons and spaces allowed); '' is none, anything else undefined. */
function fingerprint(text: string | undefined): string | null | undefined {
  const hex = (text ?? '').trim().replace(/[:\s]/g, '').toLowerCase();
  if (!hex || hex === 'n/a') return null;
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}

/** A time as appendices write it: ISO 8601 (a time without a zone is UTC), or OpenSSL's `Jan  1 00:00:00 2026 GMT`. */
export function parseAppendixTime(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  const isoNoZone = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$/.test(t);
  const ms = Date.parse(isoNoZone ? (t.length === 10 ? `${t}T00:00:00Z` : `${t.replace(' ', 'T')}Z`) : t);
  return Number.isFinite(ms) ? ms : null;
}

type Columns = ReadonlyMap<Field, number>;

/** The standard columns of an appendix's header, by position; refuses a header that lacks a required one. */
function appendixColumns(header: readonly string[] | undefined, source: string): Columns {
  if (!header) throw new InputError(`${source} is empty: an appendix starts with the CCADB Incident Reporting Guidelines' header`);
  const column = new Map<Field, number>();
  header.forEach((name, i) => {
    const field = HEADERS[fold(name)];
    if (field && !column.has(field)) column.set(field, i);
  });
  const missing = REQUIRED.filter((r) => !column.has(r.field)).map((r) => `"${r.name}"`);
  if (missing.length)
    throw new InputError(
      `${source} is not an incident appendix: no ${missing.join(', ')} column (it needs the CCADB Incident Reporting Guidelines' Issuer, Serial #, Not before and Not after)`,
    );
  return column;
}

/** One record after the header: a row, a bad row with its line and why, or null for a blank line. */
function appendixRowOf(rec: CsvRecord & { readonly malformed?: string }, column: Columns): AppendixRow | BadRow | null {
  const f = rec.fields;
  if (rec.malformed === undefined && f.every((x) => x.trim() === '')) return null;
  const cell = (field: Field): string => {
    const i = column.get(field);
    return i === undefined ? '' : (f[i] ?? '').trim();
  };
  const refuse = (why: string): BadRow => ({ line: rec.line, why });
  if (rec.malformed !== undefined) return refuse(rec.malformed);
  if (rec.oversized !== undefined) return refuse(`column ${rec.oversized + 1} is longer than 65536 characters`);
  const issuer = cell('issuer');
  const serialText = cell('serial');
  const serial = normalizeSerial(serialText);
  const notBefore = parseAppendixTime(cell('notBefore'));
  const notAfter = parseAppendixTime(cell('notAfter'));
  const precert = fingerprint(cell('precert'));
  const cert = fingerprint(cell('cert'));
  if (!issuer) return refuse('no Issuer');
  if (!serial) return refuse(serialText ? `Serial # "${serialText.slice(0, 80)}" is not a hexadecimal serial number` : 'no Serial #');
  if (notBefore === null) return refuse(`Not before "${cell('notBefore').slice(0, 40)}" is not a time`);
  if (notAfter === null) return refuse(`Not after "${cell('notAfter').slice(0, 40)}" is not a time`);
  if (notAfter < notBefore) return refuse('Not after is before Not before');
  if (precert === undefined) return refuse('Precertificate SHA-256 hash is not 64 hexadecimal digits');
  if (cert === undefined) return refuse('Certificate SHA-256 hash is not 64 hexadecimal digits');
  return {
    line: rec.line,
    precertificateSha256: precert,
    certificateSha256: cert,
    subject: cell('subject'),
    issuer,
    notBefore,
    notAfter,
    serial,
    dnsNames: cell('dnsNames')
      .split(/[\s,;]+/)
      .filter(Boolean),
  };
}

const isBad = (r: AppendixRow | BadRow): r is BadRow => 'why' in r;

const MAX_CELL_CHARS = 64 * 1024;

/** Every row of an appendix held as text: the usable ones, and the others with their line and why. */
export function parseAppendix(text: string, source: string): { rows: AppendixRow[]; bad: BadRow[] } {
  const records = parseCsv(text, { maxFieldChars: MAX_CELL_CHARS });
  const column = appendixColumns(records[0]?.fields, source);
  const rows: AppendixRow[] = [];
  const bad: BadRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const r = appendixRowOf(records[i]!, column);
    if (r === null) continue;
    if (isBad(r)) bad.push(r);
    else rows.push(r);
  }
  return { rows, bad };
}

/**
 * An appendix file read as a stream: its header is read and checked when it is opened (a file that is no
 * appendix is refused before anything else happens), and its rows, usable or bad, come one at a time as the
 * file is read, so an appendix of any size holds one piece of the file and one record in memory, never the
 * file. `close` stops reading (a command that fails before it has read every row).
 */
export interface AppendixFile {
  readonly rows: AsyncIterable<AppendixRow | BadRow>;
  close(): Promise<void>;
}

export async function openAppendix(path: string): Promise<AppendixFile> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read --appendix ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
    );
  }
  if (size > APPENDIX_MAX_BYTES) throw new InputError(`${path} is ${size} bytes, more than the ${APPENDIX_MAX_BYTES} an appendix may take`);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  const records = readCsvRecords(stream as AsyncIterable<string>, { maxFieldChars: MAX_CELL_CHARS });
  const close = async (): Promise<void> => {
    stream.destroy();
    await records.return(undefined);
  };
  let column: Columns;
  try {
    const first = await records.next();
    column = appendixColumns(first.done ? undefined : first.value.fields, path);
  } catch (err) {
    await close();
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read --appendix ${path}: ${(err as Error).message}`);
  }
  async function* rows(): AsyncGenerator<AppendixRow | BadRow> {
    try {
      for await (const rec of records) {
        const r = appendixRowOf(rec, column);
        if (r) yield r;
      }
    } catch (err) {
      throw new InputError(`cannot read --appendix ${path}: ${(err as Error).message}`);
    } finally {
      stream.destroy();
    }
  }
  return { rows: rows(), close };
}

/** The line feeds of a file, for a progress bar's total: one read of its bytes, nothing kept. */
export async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

/**
 * Certificates handed to the store at a time. Rows are read, checked and turned into certificates a slice at a
 * time while the slice before is written, so memory holds two slices and the ids seen, not the appendix: at
 * 80,000 rows, holding every row and then every certificate at once took the command past 512 MB.
 */
export const APPENDIX_WRITE_SLICE = 2_000;

/** The id of a row that gave no fingerprint: derived from issuer and serial, so the same row reaches the same record. */
export function appendixRowId(issuerSha256: string, serial: string): string {
  return createHash('sha256').update(`revwatch appendix row\u0000${issuerSha256}\u0000${serial}`).digest('hex');
}

export interface AppendixTrackResult {
  readonly caseId: string;
  readonly caseCreated: boolean;
  readonly added: number;
  readonly alreadyTracked: number;
  /** Rows repeating an (issuer, serial) read before in the file. */
  readonly duplicates: number;
  /** Rows tracked from the certificate itself (--certs-dir), not from the appendix's validity. */
  readonly fromCertificates: number;
  readonly skipped: readonly BadRow[];
}

export interface AppendixDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** The imported CCADB disclosures (their CA certificates and CRLs); null when none can be read. */
  readonly disclosures:
    | (DisclosureLookup & { current(): Promise<StoredDisclosure[]>; caCertificates?(): Promise<DisclosedCaCertificate[]> })
    | null;
  readonly progress?: ProgressSink;
}

/** A slice of certificates ready to be written, with the DERs (issuers, --certs-dir certificates) they need stored first. */
interface Slice {
  readonly certificates: StoredCertificate[];
  readonly ders: Map<string, Uint8Array>;
}

/**
 * Reads the rows as they come and tracks those that can be: the case, the issuers' DERs and the certificates
 * are written a slice at a time (Store.addCertificatesInSlices), each slice while the next is being read. Bad
 * rows are returned with their lines. Nothing is written before the first row that can be tracked: when none
 * can, nothing is written and the command fails. A run that stops part way leaves what it wrote; the same
 * appendix tracked again writes the rest (a certificate the case has is left alone).
 */
export async function trackAppendix(
  deps: AppendixDeps,
  kase: Case,
  rows: AsyncIterable<AppendixRow | BadRow> | Iterable<AppendixRow | BadRow>,
  options: {
    given: readonly CertificateInfo[];
    sources: GivenSources;
    certsDir?: string;
    source: string;
    /** The number of rows, about (for the progress bar). */
    expectedRows?: number;
  },
): Promise<AppendixTrackResult> {
  const existing = await existingCaseWithSameFacts(deps.store, kase);
  const now = deps.clock.now().getTime();
  const bad: BadRow[] = [];
  const issuers = appendixIssuers(
    options.given,
    deps.disclosures ? await deps.disclosures.current() : [],
    deps.disclosures?.caCertificates ? await deps.disclosures.caCertificates() : [],
  );
  const certsIndex = options.certsDir ? await certsDirIndex(options.certsDir) : null;
  const givenCrlUrls = [...(options.sources.crlUrls ?? [])];
  const givenOcspUrls = [...(options.sources.ocspUrls ?? [])];
  const anyGiven = givenCrlUrls.length > 0 || givenOcspUrls.length > 0;
  // Whether an issuer discloses a CRL: once per issuer, however many rows it has.
  const disclosesCrls = new Map<string, Promise<boolean>>();
  const hasDisclosedCrls = (issuer: CertificateInfo): Promise<boolean> => {
    let found = disclosesCrls.get(issuer.sha256);
    if (!found) {
      const lookup = deps.disclosures;
      found =
        lookup && issuer.subjectKeyId
          ? lookup.byKeyId(issuer.subjectKeyId).then((ds) => ds.some((d) => disclosedUrls(d).length > 0))
          : Promise.resolve(false);
      disclosesCrls.set(issuer.sha256, found);
    }
    return found;
  };
  const isCA = kase.kind.endsWith('-subca');
  // The (issuer, serial) pairs read so far, and the issuers whose DER is in a slice already.
  const seen = new Set<string>();
  const issuerDers = new Set<string>();
  let duplicates = 0;
  let fromCertificates = 0;
  let offered = 0;

  /** One row as the certificate to store and its issuer, or the reason it cannot be tracked. */
  const certificateOf = async (
    row: AppendixRow,
  ): Promise<{ stored: StoredCertificate; issuer: CertificateInfo; der?: Uint8Array } | string> => {
    const certPath = row.certificateSha256 ? certsIndex?.get(row.certificateSha256) : undefined;
    if (certPath) {
      // The certificate itself: its validity, subject and SANs from its DER, its issuer proved by its signature.
      let cert: CertificateInfo;
      try {
        const certs = readCertificates(await readFile(certPath), certPath);
        if (certs.length !== 1 || certs[0]!.sha256 !== row.certificateSha256)
          return `${certPath} does not hold the certificate with SHA-256 ${row.certificateSha256}`;
        cert = certs[0]!;
      } catch (err) {
        return `${certPath}: ${(err as Error).message}`;
      }
      if (cert.serial !== row.serial) return `the certificate in ${certPath} has serial ${cert.serial}, the row ${row.serial}`;
      if (cert.der.length > MAX_CERTIFICATE_BYTES)
        return `the certificate in ${certPath} is ${cert.der.length} bytes, more than the ${MAX_CERTIFICATE_BYTES} revwatch tracks`;
      let issuer: CertificateInfo;
      try {
        issuer = (await resolveIssuer(cert, { given: [...issuers.byName(cert.issuer), ...issuers.byName(row.issuer)], bundle: [] }))
          .revocationIssuer;
      } catch (err) {
        return (err as Error).message;
      }
      const stored = storedCertificateOf(kase.id, cert, issuer.sha256, { givenCrlUrls, givenOcspUrls }, now, null);
      if (!anyGiven && cert.crlUrls.length === 0 && cert.ocspUrls.length === 0 && !(await hasDisclosedCrls(issuer)))
        return noSourceWhy(issuer);
      return { stored, issuer, der: cert.der };
    }
    const candidates = issuers.byName(row.issuer);
    if (candidates.length === 0)
      return `issuer "${row.issuer.slice(0, 200)}" is neither among the ${issuers.disclosedCount} CA certificate(s) of the imported CCADB disclosures nor given with --issuer`;
    // CA certificates that share a name and a key answer for the same certificates (one CertID, one CRL signer).
    if (candidates.length > 1 && new Set(candidates.map((c) => Buffer.from(c.raw.spki).toString('base64'))).size > 1)
      return `issuer "${row.issuer.slice(0, 200)}" names ${candidates.length} CA certificates with different keys; give the right one with --issuer, or the certificate with --certs-dir`;
    const issuer = candidates[0]!;
    if (!anyGiven && !(await hasDisclosedCrls(issuer))) return noSourceWhy(issuer);
    const fingerprinted = row.certificateSha256 ?? row.precertificateSha256;
    const stored: StoredCertificate = {
      caseId: kase.id,
      sha256: fingerprinted ?? appendixRowId(issuer.sha256, row.serial),
      serial: row.serial,
      subject: row.subject,
      issuer: issuer.subject,
      notBefore: row.notBefore,
      notAfter: row.notAfter,
      precertificate: row.certificateSha256 === null && row.precertificateSha256 !== null,
      ocspUrls: [],
      crlUrls: [],
      ...(givenCrlUrls.length ? { givenCrlUrls } : {}),
      ...(givenOcspUrls.length ? { givenOcspUrls } : {}),
      issuerSha256: issuer.sha256,
      isCA,
      trackedAt: now,
      crtshId: null,
      sans: row.dnsNames,
      validityFrom: 'appendix',
      ...(fingerprinted ? {} : { idFromSerial: true }),
    };
    return { stored, issuer };
  };

  /** The rows as slices of certificates to write, each with the DERs it needs; bad and repeated rows counted on the way. */
  async function* slices(): AsyncGenerator<Slice> {
    let slice: Slice = { certificates: [], ders: new Map() };
    for await (const row of rows) {
      deps.progress?.increment();
      if (isBad(row)) {
        bad.push(row);
        continue;
      }
      const made = await certificateOf(row);
      if (typeof made === 'string') {
        bad.push({ line: row.line, why: made });
        continue;
      }
      const key = `${made.issuer.sha256}\u0000${made.stored.serial}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      offered++;
      if (made.der) {
        slice.ders.set(made.stored.sha256, made.der);
        fromCertificates++;
      }
      if (!issuerDers.has(made.issuer.sha256)) {
        issuerDers.add(made.issuer.sha256);
        slice.ders.set(made.issuer.sha256, made.issuer.der);
      }
      slice.certificates.push(made.stored);
      if (slice.certificates.length >= APPENDIX_WRITE_SLICE) {
        yield slice;
        slice = { certificates: [], ders: new Map() };
      }
    }
    if (slice.certificates.length) yield slice;
  }

  deps.progress?.start(options.expectedRows ?? 0, 'tracking');
  const made = slices();
  try {
    // Nothing is written until a row can be tracked.
    const first = await made.next();
    if (first.done) {
      bad.sort((a, b) => a.line - b.line);
      const some = bad.slice(0, 3).map((b) => `line ${b.line}: ${b.why}`);
      throw new InputError(
        `no row of ${options.source} can be tracked${some.length ? ` (${bad.length} refused; ${some.join('; ')})` : ': it has no rows'}`,
      );
    }
    // The case (created, or its delayed-report URL set) and the first slice's DERs; the certificates follow.
    const { caseCreated } = await recordTracked({ store: deps.store }, kase, existing, [], first.value.ders, now);
    async function* certificates(): AsyncGenerator<StoredCertificate[]> {
      yield first.value!.certificates;
      for await (const slice of made) {
        // A slice's DERs are stored before its certificates, as for any track.
        if (slice.ders.size) await deps.store.putCertificateDers([...slice.ders].map(([sha256, der]) => ({ sha256, der })));
        yield slice.certificates;
      }
    }
    const added = await deps.store.addCertificatesInSlices(kase.id, certificates(), async (had) => {
      // Tracked before: given sources the certificate lacks are added (as for any track).
      if (anyGiven) await addGivenSources(deps.store, had, 0, now);
    });
    bad.sort((a, b) => a.line - b.line);
    return {
      caseId: kase.id,
      caseCreated,
      added,
      alreadyTracked: offered - added,
      duplicates,
      fromCertificates,
      skipped: bad,
    };
  } finally {
    await made.return(undefined);
    deps.progress?.stop();
  }
}

function noSourceWhy(issuer: CertificateInfo): string {
  return `no revocation source: the imported CCADB disclosures list no CRL for ${issuer.subject}; give --crl-url or --ocsp-url, or run \`revwatch ccadb import\``;
}
