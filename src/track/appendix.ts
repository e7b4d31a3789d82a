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
import { readFile } from 'node:fs/promises';
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { parseCsv } from '../ccadb/csv.js';
import { disclosedUrls } from '../ccadb/report.js';
import type { DisclosureLookup, StoredDisclosure } from '../ccadb/store.js';
import { readCertificates, resolveIssuer, type CertificateInfo } from '../pki/certificate.js';
import type { Clock } from '../ports/index.js';
import type { Store, StoredCertificate } from '../ports/store.js';
import { appendixIssuers } from './appendix-issuer.js';
import { certsDirIndex } from './crtsh-json.js';
import { existingCaseWithSameFacts, MAX_CERTIFICATE_BYTES, recordTracked, storedCertificateOf, type GivenSources } from './track.js';
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

/** Every row of an appendix: the usable ones, and the others with their line and why. */
export function parseAppendix(text: string, source: string): { rows: AppendixRow[]; bad: BadRow[] } {
  const records = parseCsv(text, { maxFieldChars: 64 * 1024 });
  const header = records[0];
  if (!header) throw new InputError(`${source} is empty: an appendix starts with the CCADB Incident Reporting Guidelines' header`);
  const column = new Map<Field, number>();
  header.fields.forEach((name, i) => {
    const field = HEADERS[fold(name)];
    if (field && !column.has(field)) column.set(field, i);
  });
  const missing = REQUIRED.filter((r) => !column.has(r.field)).map((r) => `"${r.name}"`);
  if (missing.length)
    throw new InputError(
      `${source} is not an incident appendix: no ${missing.join(', ')} column (it needs the CCADB Incident Reporting Guidelines' Issuer, Serial #, Not before and Not after)`,
    );
  const rows: AppendixRow[] = [];
  const bad: BadRow[] = [];
  const cell = (fields: readonly string[], f: Field): string => {
    const i = column.get(f);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  for (const rec of records.slice(1)) {
    const f = rec.fields;
    if (f.every((x) => x.trim() === '')) continue;
    const refuse = (why: string): void => void bad.push({ line: rec.line, why });
    if (rec.oversized !== undefined) {
      refuse(`column ${rec.oversized + 1} is longer than 65536 characters`);
      continue;
    }
    const issuer = cell(f, 'issuer');
    const serialText = cell(f, 'serial');
    const serial = normalizeSerial(serialText);
    const notBefore = parseAppendixTime(cell(f, 'notBefore'));
    const notAfter = parseAppendixTime(cell(f, 'notAfter'));
    const precert = fingerprint(cell(f, 'precert'));
    const cert = fingerprint(cell(f, 'cert'));
    if (!issuer) refuse('no Issuer');
    else if (!serial) refuse(serialText ? `Serial # "${serialText.slice(0, 80)}" is not a hexadecimal serial number` : 'no Serial #');
    else if (notBefore === null) refuse(`Not before "${cell(f, 'notBefore').slice(0, 40)}" is not a time`);
    else if (notAfter === null) refuse(`Not after "${cell(f, 'notAfter').slice(0, 40)}" is not a time`);
    else if (notAfter < notBefore) refuse('Not after is before Not before');
    else if (precert === undefined) refuse('Precertificate SHA-256 hash is not 64 hexadecimal digits');
    else if (cert === undefined) refuse('Certificate SHA-256 hash is not 64 hexadecimal digits');
    else
      rows.push({
        line: rec.line,
        precertificateSha256: precert,
        certificateSha256: cert,
        subject: cell(f, 'subject'),
        issuer,
        notBefore,
        notAfter,
        serial,
        dnsNames: cell(f, 'dnsNames')
          .split(/[\s,;]+/)
          .filter(Boolean),
      });
  }
  return { rows, bad };
}

export async function readAppendixFile(path: string): Promise<string> {
  try {
    const buf = await readFile(path);
    if (buf.length > APPENDIX_MAX_BYTES)
      throw new InputError(`${path} is ${buf.length} bytes, more than the ${APPENDIX_MAX_BYTES} an appendix may take`);
    return buf.toString('utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read --appendix ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`,
    );
  }
}

/** Certificates written per Store.addCertificates call (each call also reads the case's tracked ids once). */
export const APPENDIX_WRITE_SLICE = 10_000;

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

/**
 * Validates every row, then writes the case, the issuers' DERs and the certificates in batches. Bad rows are
 * returned with their lines; when no row can be tracked, nothing is written and the command fails.
 */
export async function trackAppendix(
  deps: AppendixDeps,
  kase: Case,
  parsed: { rows: readonly AppendixRow[]; bad: readonly BadRow[] },
  options: { given: readonly CertificateInfo[]; sources: GivenSources; certsDir?: string; source: string },
): Promise<AppendixTrackResult> {
  const existing = await existingCaseWithSameFacts(deps.store, kase);
  const now = deps.clock.now().getTime();
  const bad: BadRow[] = [...parsed.bad];
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
  const ders = new Map<string, Uint8Array>();
  const byIssuerSerial = new Map<string, StoredCertificate>();
  let duplicates = 0;
  let fromCertificates = 0;
  deps.progress?.start(parsed.rows.length, 'checking');
  for (const row of parsed.rows) {
    deps.progress?.increment();
    const refuse = (why: string): void => void bad.push({ line: row.line, why });
    let stored: StoredCertificate;
    let issuer: CertificateInfo;
    const certPath = row.certificateSha256 ? certsIndex?.get(row.certificateSha256) : undefined;
    if (certPath) {
      // The certificate itself: its validity, subject and SANs from its DER, its issuer proved by its signature.
      let cert: CertificateInfo;
      try {
        const certs = readCertificates(await readFile(certPath), certPath);
        if (certs.length !== 1 || certs[0]!.sha256 !== row.certificateSha256) {
          refuse(`${certPath} does not hold the certificate with SHA-256 ${row.certificateSha256}`);
          continue;
        }
        cert = certs[0]!;
      } catch (err) {
        refuse(`${certPath}: ${(err as Error).message}`);
        continue;
      }
      if (cert.serial !== row.serial) {
        refuse(`the certificate in ${certPath} has serial ${cert.serial}, the row ${row.serial}`);
        continue;
      }
      if (cert.der.length > MAX_CERTIFICATE_BYTES) {
        refuse(`the certificate in ${certPath} is ${cert.der.length} bytes, more than the ${MAX_CERTIFICATE_BYTES} revwatch tracks`);
        continue;
      }
      try {
        issuer = (await resolveIssuer(cert, { given: [...issuers.byName(cert.issuer), ...issuers.byName(row.issuer)], bundle: [] }))
          .revocationIssuer;
      } catch (err) {
        refuse((err as Error).message);
        continue;
      }
      stored = storedCertificateOf(kase.id, cert, issuer.sha256, { givenCrlUrls, givenOcspUrls }, now, null);
      if (!anyGiven && cert.crlUrls.length === 0 && cert.ocspUrls.length === 0 && !(await hasDisclosedCrls(issuer))) {
        refuse(noSourceWhy(issuer));
        continue;
      }
      ders.set(cert.sha256, cert.der);
      fromCertificates++;
    } else {
      const candidates = issuers.byName(row.issuer);
      if (candidates.length === 0) {
        refuse(
          `issuer "${row.issuer.slice(0, 200)}" is neither among the ${issuers.disclosedCount} CA certificate(s) of the imported CCADB disclosures nor given with --issuer`,
        );
        continue;
      }
      // CA certificates that share a name and a key answer for the same certificates (one CertID, one CRL signer).
      const keys = new Set(candidates.map((c) => Buffer.from(c.raw.spki).toString('base64')));
      if (keys.size > 1) {
        refuse(
          `issuer "${row.issuer.slice(0, 200)}" names ${candidates.length} CA certificates with different keys; give the right one with --issuer, or the certificate with --certs-dir`,
        );
        continue;
      }
      issuer = candidates[0]!;
      if (!anyGiven && !(await hasDisclosedCrls(issuer))) {
        refuse(noSourceWhy(issuer));
        continue;
      }
      const fingerprinted = row.certificateSha256 ?? row.precertificateSha256;
      stored = {
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
    }
    const key = `${issuer.sha256}\u0000${stored.serial}`;
    if (byIssuerSerial.has(key)) {
      duplicates++;
      continue;
    }
    byIssuerSerial.set(key, stored);
    ders.set(issuer.sha256, issuer.der);
  }
  deps.progress?.stop();
  bad.sort((a, b) => a.line - b.line);
  if (byIssuerSerial.size === 0) {
    const first = bad.slice(0, 3).map((b) => `line ${b.line}: ${b.why}`);
    throw new InputError(
      `no row of ${options.source} can be tracked${first.length ? ` (${bad.length} refused; ${first.join('; ')})` : ': it has no rows'}`,
    );
  }
  const certificates = [...byIssuerSerial.values()];
  byIssuerSerial.clear();
  // Written a slice at a time: the store builds each slice's items at once, and 80,000 at once took
  // ~400 MB beside the rows (issue 26 asks for 80,000 rows in 512 MB).
  const { caseCreated, added: firstAdded } = await recordTracked(
    deps,
    kase,
    existing,
    certificates.slice(0, APPENDIX_WRITE_SLICE),
    ders,
    now,
  );
  let added = firstAdded;
  for (let i = APPENDIX_WRITE_SLICE; i < certificates.length; i += APPENDIX_WRITE_SLICE)
    added += await deps.store.addCertificates(certificates.slice(i, i + APPENDIX_WRITE_SLICE));
  return {
    caseId: kase.id,
    caseCreated,
    added,
    alreadyTracked: certificates.length - added,
    duplicates,
    fromCertificates,
    skipped: bad,
  };
}

function noSourceWhy(issuer: CertificateInfo): string {
  return `no revocation source: the imported CCADB disclosures list no CRL for ${issuer.subject}; give --crl-url or --ocsp-url, or run \`revwatch ccadb import\``;
}
