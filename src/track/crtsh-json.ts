/**
 * `revwatch track crtsh-json:<file>`: a crt.sh search result saved by the
 * user (`https://crt.sh/?q=…&output=json`): a JSON array of rows with `id`,
 * `serial_number`, `issuer_name`, `not_before`, `not_after`, … Each row's
 * certificate is taken from `--certs-dir` (DER or PEM files named by crt.sh
 * id or SHA-256 fingerprint, any of .pem .crt .cer .der or no extension) or,
 * without one, downloaded from crt.sh by id through the guarded fetcher.
 *
 * A row that cannot be used (no id, a serial that does not match the
 * certificate, a certificate that cannot be found or read) or that repeats
 * an earlier one is reported with the line of the file where it starts; the
 * rest is tracked. A file that is not a JSON array is bad input.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readCertificates, type CertificateInfo } from '../pki/certificate.js';
import { normalizeSerialHex } from '../pki/crl.js';
import type { Fetcher } from '../ports/index.js';
import type { TrackEntry } from './track.js';
import { mapLimit } from '../util/map-limit.js';

export interface CrtshRowProblem {
  /** 1-based line of the file where the row starts. */
  readonly line: number;
  readonly why: string;
}

export interface CrtshJsonInput {
  readonly entries: TrackEntry[];
  readonly skipped: CrtshRowProblem[];
}

export interface CrtshJsonOptions {
  readonly certsDir?: string;
  readonly fetcher: Fetcher;
  readonly crtshBaseUrl: string;
}

const CERT_NAME = /^([0-9]+|[0-9a-f]{64})(?:\.(?:pem|crt|cer|der))?$/i;
/** Downloads from crt.sh at once: it rate-limits heavy users. */
const CRTSH_CONCURRENCY = 4;

/**
 * The top-level elements of a JSON array with the offset each starts at: JSON.parse gives the values, this
 * scan gives where they are, so a bad row can be pointed at in a pretty-printed or one-line file alike.
 */
export function arrayElementOffsets(text: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let inString = false;
  let expectingValue = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
    if (depth === 1 && expectingValue && ch !== ']') {
      starts.push(i);
      expectingValue = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectingValue = true;
    } else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1) expectingValue = true;
  }
  return starts;
}

function lineAt(text: string, offset: number, cache: { offset: number; line: number }): number {
  for (let i = cache.offset; i < offset; i++) if (text.charCodeAt(i) === 10) cache.line++;
  cache.offset = Math.max(cache.offset, offset);
  return cache.line;
}

interface Row {
  readonly line: number;
  readonly id: string;
  readonly serial: string | null;
}

/**
 * The certificates of a --certs-dir named by SHA-256 fingerprint, by serial: a crt.sh row carries no
 * fingerprint, so such files are matched on the row's serial_number. Each file's name must be its hash.
 */
async function bySerial(index: ReadonlyMap<string, string>): Promise<Map<string, { path: string; certs: CertificateInfo[] }[]>> {
  const out = new Map<string, { path: string; certs: CertificateInfo[] }[]>();
  const named = [...index].filter(([key]) => key.length === 64);
  await mapLimit(named, 16, async ([fingerprint, path]) => {
    let certs: CertificateInfo[];
    try {
      certs = readCertificates(await readFile(path), path);
    } catch {
      return; // reported when a row needs it: no file holds its serial
    }
    if (certs[0]!.sha256 !== fingerprint) return;
    const list = out.get(certs[0]!.serial) ?? [];
    list.push({ path, certs });
    out.set(certs[0]!.serial, list);
  });
  return out;
}

export async function certsDirIndex(dir: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read --certs-dir ${dir}: ${code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (err as Error).message}`,
    );
  }
  const index = new Map<string, string>();
  for (const name of names.sort()) {
    const m = CERT_NAME.exec(name);
    if (m && !index.has(m[1]!.toLowerCase())) index.set(m[1]!.toLowerCase(), join(dir, name));
  }
  return index;
}

export async function readCrtshJson(path: string, options: CrtshJsonOptions): Promise<CrtshJsonInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path} is not JSON (save crt.sh's ?q=…&output=json result): ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new InputError(`${path} is not a crt.sh JSON search result: expected an array of rows`);
  const offsets = arrayElementOffsets(text);
  const cursor = { offset: 0, line: 1 };

  const skipped: CrtshRowProblem[] = [];
  const rows: Row[] = [];
  const firstLineOf = new Map<string, number>();
  parsed.forEach((value, i) => {
    const line = lineAt(text, offsets[i] ?? text.length, cursor);
    const row = value as Record<string, unknown> | null;
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      skipped.push({ line, why: 'not a crt.sh row (an object)' });
      return;
    }
    const rawId = row.id;
    const id =
      typeof rawId === 'number' && Number.isSafeInteger(rawId) && rawId > 0
        ? String(rawId)
        : typeof rawId === 'string' && /^[1-9][0-9]*$/.test(rawId)
          ? rawId
          : null;
    if (id === null) {
      skipped.push({ line, why: 'no crt.sh "id" (a positive integer)' });
      return;
    }
    let serial: string | null = null;
    if (row.serial_number !== undefined && row.serial_number !== null) {
      if (typeof row.serial_number !== 'string' || !/^[0-9a-f:]+$/i.test(row.serial_number)) {
        skipped.push({ line, why: `crt.sh id ${id}: "serial_number" is not hexadecimal` });
        return;
      }
      serial = normalizeSerialHex(row.serial_number);
    }
    const earlier = firstLineOf.get(id);
    if (earlier !== undefined) {
      skipped.push({ line, why: `crt.sh id ${id} repeats the row at line ${earlier}` });
      return;
    }
    firstLineOf.set(id, line);
    rows.push({ line, id, serial });
  });

  const index = options.certsDir ? await certsDirIndex(options.certsDir) : null;
  let serialIndex: Promise<Map<string, { path: string; certs: CertificateInfo[] }[]>> | null = null;
  const results = await mapLimit(
    rows,
    index ? 16 : CRTSH_CONCURRENCY,
    async (row): Promise<{ row: Row; certs: CertificateInfo[] } | CrtshRowProblem> => {
      let bytes: Uint8Array;
      let label: string;
      if (index) {
        const file = index.get(row.id);
        if (!file) {
          serialIndex ??= bySerial(index);
          const found = row.serial === null ? [] : ((await serialIndex).get(row.serial) ?? []);
          if (found.length === 1) return { row, certs: found[0]!.certs };
          if (found.length > 1)
            return {
              line: row.line,
              why: `crt.sh id ${row.id}: ${found.length} files in ${options.certsDir} hold serial ${row.serial}; name the file by the crt.sh id`,
            };
          return {
            line: row.line,
            why: `crt.sh id ${row.id}: no file in ${options.certsDir} named ${row.id}, nor named by SHA-256 fingerprint with serial ${row.serial ?? '(the row has none)'}`,
          };
        }
        label = file;
        try {
          bytes = await readFile(file);
        } catch (err) {
          return { line: row.line, why: `crt.sh id ${row.id}: cannot read ${file}: ${(err as Error).message}` };
        }
      } else {
        const url = `${options.crtshBaseUrl.replace(/\/$/, '')}/?d=${row.id}`;
        label = `crtsh:${row.id}`;
        const r = await options.fetcher.fetch({ url, maxBytes: 1024 * 1024 });
        if (!r.ok) return { line: row.line, why: `crt.sh id ${row.id}: could not download from ${url}: ${r.message}` };
        bytes = r.body;
      }
      let certs: CertificateInfo[];
      try {
        certs = readCertificates(bytes, label);
      } catch (err) {
        return { line: row.line, why: `crt.sh id ${row.id}: ${(err as Error).message}` };
      }
      if (row.serial !== null && certs[0]!.serial !== row.serial) {
        return { line: row.line, why: `crt.sh id ${row.id}: the certificate's serial is ${certs[0]!.serial}, the row says ${row.serial}` };
      }
      return { row, certs };
    },
  );

  const entries: TrackEntry[] = [];
  const firstLineOfSha = new Map<string, number>();
  for (const r of results) {
    if (!('row' in r)) {
      skipped.push(r);
      continue;
    }
    const certificate = r.certs[0]!;
    const earlier = firstLineOfSha.get(certificate.sha256);
    if (earlier !== undefined) {
      skipped.push({ line: r.row.line, why: `crt.sh id ${r.row.id} is the same certificate as the row at line ${earlier}` });
      continue;
    }
    firstLineOfSha.set(certificate.sha256, r.row.line);
    entries.push({ certificate, bundle: r.certs, source: `${path} line ${r.row.line} (crt.sh id ${r.row.id})`, crtshId: r.row.id });
  }
  skipped.sort((a, b) => a.line - b.line);
  return { entries, skipped };
}
