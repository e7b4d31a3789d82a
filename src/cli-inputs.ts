/**
 * Turns `revwatch track` arguments into certificates: PEM or DER files,
 * directories of them, `crtsh:<id>` and crt.sh URLs, and SHA-256
 * fingerprints (fetched from crt.sh's `?d=` download). Any input that cannot
 * be read is an InputError naming it, before anything is written.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from './errors.js';
import { readCertificates, type CertificateInfo } from './pki/certificate.js';
import type { Fetcher } from './ports.js';
import { splitBundle, type TrackEntry } from './check/track.js';
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

async function fromFile(path: string): Promise<TrackEntry[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
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

/** Files read at once from a directory: enough to overlap the disk with parsing, few enough to stay clear of EMFILE. */
const READ_CONCURRENCY = 16;

/**
 * Reads and parses files with bounded concurrency, results in the order given.
 * When several fail, the first in that order is reported, as a sequential
 * read would have.
 */
async function readAllInOrder(paths: readonly string[]): Promise<TrackEntry[][]> {
  const results: (TrackEntry[] | undefined)[] = new Array(paths.length);
  const errors: unknown[] = new Array(paths.length);
  let next = 0;
  let failedAt = paths.length;
  const worker = async (): Promise<void> => {
    while (next < failedAt) {
      const i = next++;
      try {
        results[i] = await fromFile(paths[i]!);
      } catch (err) {
        errors[i] = err;
        failedAt = Math.min(failedAt, i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, paths.length) }, worker));
  if (failedAt < paths.length) throw errors[failedAt];
  return results as TrackEntry[][];
}

export async function collectInputs(inputs: readonly string[], options: InputOptions): Promise<TrackEntry[]> {
  const out: TrackEntry[] = [];
  for (const input of inputs) {
    const crtshJson = /^crtsh-json:(.+)$/i.exec(input)?.[1];
    if (crtshJson) {
      const { entries, skipped } = await readCrtshJson(crtshJson, { certsDir: options.certsDir, fetcher: options.fetcher, crtshBaseUrl: options.crtshBaseUrl });
      out.push(...entries);
      options.onSkipped?.(crtshJson, skipped);
      continue;
    }
    const crtshId = /^crtsh:(\d+)$/i.exec(input)?.[1] ?? /^https?:\/\/crt\.sh\/\?(?:id|d)=(\d+)/i.exec(input)?.[1];
    if (crtshId) {
      out.push(...(await fromCrtsh(crtshId, input, options)));
      continue;
    }
    const fp = FINGERPRINT.exec(input);
    if (fp) {
      out.push(...(await fromCrtsh(fp[1]!.replace(/:/g, '').toLowerCase(), input, options)));
      continue;
    }
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new InputError(`cannot read ${input}: no such file or directory (nor a crtsh:<id>, crt.sh URL or SHA-256 fingerprint)`);
    }
    if (info.isDirectory()) {
      const files = (await readdir(input)).filter((f) => CERT_FILE.test(f)).sort();
      if (files.length === 0) throw new InputError(`${input} holds no .pem, .crt, .cer or .der files`);
      for (const entries of await readAllInOrder(files.map((f) => join(input, f)))) out.push(...entries);
    } else {
      out.push(...(await fromFile(input)));
    }
  }
  return out;
}
