/**
 * Turns `revwatch track` arguments into certificates: PEM or DER files,
 * directories of them, `crtsh:<id>` and crt.sh URLs, and SHA-256
 * fingerprints (fetched from crt.sh's `?d=` download). Any input that cannot
 * be read is an InputError naming it, before anything is written.
 */
import { readFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readCertificates, type CertificateInfo } from '../pki/certificate.js';
import type { Fetcher } from '../ports/index.js';
import { splitBundle, type TrackEntry } from './track.js';
import { readCrtshJson, type CrtshRowProblem } from './crtsh-json.js';

const CERT_FILE = /\.(pem|crt|cer|der)$/i;
const FINGERPRINT = /^(?:sha256:)?([0-9a-f]{2}(?::?[0-9a-f]{2}){31})$/i;

export interface InputOptions {
  readonly fetcher: Fetcher;
  /** crt.sh's base URL; tests point it at a local server. */
  readonly crtshBaseUrl: string;
  /** Where `crtsh-json:` rows find their certificates (files named by crt.sh id or fingerprint). */
  readonly certsDir?: string;
  /** Rows of a `crtsh-json:` file that were not tracked, with their line. */
  readonly onSkipped?: (input: string, skipped: readonly CrtshRowProblem[]) => void;
}

/**
 * One certificate file, read synchronously: a certificate is a few kilobytes,
 * and fs/promises' readFile pays for a FileHandle and four trips through the
 * thread pool per file (open, fstat, read, close), which was a fifth of
 * tracking 10,000 files. Nothing else runs while the inputs are collected.
 */
function fromFile(path: string): TrackEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
    );
  }
  return entriesFrom(readCertificates(bytes, path), path, null);
}

function entriesFrom(certs: CertificateInfo[], source: string, crtshId: string | null): TrackEntry[] {
  const { targets } = splitBundle(certs);
  return targets.map((certificate) => ({ certificate, bundle: certs, source, crtshId }));
}

async function fromCrtsh(key: string, label: string, options: InputOptions): Promise<TrackEntry[]> {
  const url = `${options.crtshBaseUrl.replace(/\/$/, '')}/?d=${encodeURIComponent(key)}`;
  const r = await options.fetcher.fetch({ url, maxBytes: 1024 * 1024 });
  if (!r.ok) throw new InputError(`${label}: could not download from ${url}: ${r.message}`);
  const certs = readCertificates(r.body, label);
  return entriesFrom(certs, label, /^\d+$/.test(key) ? key : null);
}

/**
 * Reads and parses files in the order given; the first that fails is
 * reported, naming it.
 */
function readAllInOrder(paths: readonly string[]): TrackEntry[][] {
  return paths.map((path) => fromFile(path));
}

export async function collectInputs(inputs: readonly string[], options: InputOptions): Promise<TrackEntry[]> {
  const out: TrackEntry[] = [];
  for (const input of inputs) {
    const crtshJson = /^crtsh-json:(.+)$/i.exec(input)?.[1];
    if (crtshJson) {
      const { entries, skipped } = await readCrtshJson(crtshJson, {
        certsDir: options.certsDir,
        fetcher: options.fetcher,
        crtshBaseUrl: options.crtshBaseUrl,
      });
      append(out, entries);
      options.onSkipped?.(crtshJson, skipped);
      if (entries.length === 0 && skipped.length > 0) {
        const first = skipped[0]!;
        throw new InputError(
          `no certificates to track in ${crtshJson}: all ${skipped.length} row(s) skipped, the first at line ${first.line}: ${first.why}`,
        );
      }
      continue;
    }
    const crtshId = /^crtsh:(\d+)$/i.exec(input)?.[1] ?? /^https?:\/\/crt\.sh\/\?(?:id|d)=(\d+)/i.exec(input)?.[1];
    if (crtshId) {
      append(out, await fromCrtsh(crtshId, input, options));
      continue;
    }
    const fp = FINGERPRINT.exec(input);
    if (fp) {
      append(out, await fromCrtsh(fp[1]!.replace(/:/g, '').toLowerCase(), input, options));
      continue;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch {
      throw new InputError(`cannot read ${input}: no such file or directory (nor a crtsh:<id>, crt.sh URL or SHA-256 fingerprint)`);
    }
    if (info.isDirectory()) {
      const files = (await readdir(input)).filter((f) => CERT_FILE.test(f)).sort();
      if (files.length === 0) throw new InputError(`${input} holds no .pem, .crt, .cer or .der files`);
      for (const entries of readAllInOrder(files.map((f) => join(input, f)))) append(out, entries);
    } else {
      append(out, fromFile(input));
    }
  }
  return out;
}

/** Appends one at a time: push(...items) passes every item as an argument, and 130,000 overflow the stack. */
function append<T>(out: T[], items: readonly T[]): void {
  for (const item of items) out.push(item);
}

/** The skipped rows of one crtsh-json file, each with its file, one at a time (not push(...): 130,000 overflow the stack). */
export function appendSkipped(out: { file: string; line: number; why: string }[], file: string, rows: readonly CrtshRowProblem[]): void {
  for (const r of rows) out.push({ file, ...r });
}
