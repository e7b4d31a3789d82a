/**
 * A seeded mutation fuzzer over real CRLs and OCSP responses (issue 23 §2).
 *
 * Every CRL and OCSP response of ../shared/fixtures/revocation-corpus is paired
 * with the issuer that signed it (when the corpus holds it), damaged
 * (truncations, bit flips, edits of a DER length, an element dropped or
 * repeated) and fed through the probe functions `check` uses, through the
 * parsers beneath them, and through `inspect`. What may come out:
 *
 * - probes: an outcome per serial, never a rejection (an "escaped" exception
 *   would stop a run);
 * - scanCrl / parseOcspResponse: a result or a DerError, nothing else (any other
 *   class, a TypeError or RangeError, is a parser bug even when the probe hides it);
 * - verifyOcspResponse: a result, whatever the parsed response holds;
 * - inspect: a result or an InputError (exit 1), never what would be exit 70.
 *
 * The corpus is not part of the project: loadCorpus returns null without it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { probeCrl, probeOcsp, type ProbeOutcome } from '../../src/check/probe.js';
import { crlDer, inspectCrl, inspectOcsp } from '../../src/inspect/inspect.js';
import { readCertificates, type CertificateInfo } from '../../src/pki/certificate.js';
import { scanCrl } from '../../src/pki/crl.js';
import { DerError, Tag, children, readElement, serialHex, contentOf } from '../../src/pki/der.js';
import { OcspIssuer, certIdMatchesIssuer, looksLikeOcspResponse, parseOcspResponse, verifyOcspResponse } from '../../src/pki/ocsp.js';
import { sameBytes } from '../../src/pki/raw-certificate.js';
import { InputError } from '../../src/errors.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../src/ports/index.js';
import { servedWhole } from '../helpers/pki-fixtures.js';

export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/fixtures/revocation-corpus', import.meta.url));

export interface FuzzSample {
  readonly name: string;
  readonly kind: 'crl' | 'ocsp';
  readonly der: Buffer;
  readonly issuer: CertificateInfo;
  readonly serials: readonly string[];
  /** A time at which the undamaged answer is fresh, so damage reaches the checks behind freshness. */
  readonly at: number;
  /** Offsets of every DER header in the sample (descending into OCTET and BIT STRINGs that hold DER). */
  readonly headers: readonly number[];
}

/** mulberry32: small, fast and the same on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));

function headerOffsets(buf: Uint8Array, start: number, end: number, out: number[], depth: number): void {
  if (depth > 12 || out.length > 200_000) return;
  let p = start;
  while (p < end) {
    let el: ReturnType<typeof readElement>;
    try {
      el = readElement(buf, p, end);
    } catch {
      return;
    }
    out.push(p);
    if (el.tag & 0x20) headerOffsets(buf, el.contentStart, el.end, out, depth + 1);
    else if (el.tag === Tag.OCTET_STRING) headerOffsets(buf, el.contentStart, el.end, out, depth + 1);
    else if (el.tag === Tag.BIT_STRING && el.end > el.contentStart + 1) headerOffsets(buf, el.contentStart + 1, el.end, out, depth + 1);
    p = el.end;
  }
}

/** The serials of a CRL's entries, read here independently of scanCrl: the first few and the last. */
function crlSerials(der: Uint8Array, limit: number): string[] {
  const outer = readElement(der, 0);
  const tbs = readElement(der, outer.contentStart, outer.end);
  const list = children(der, tbs).find((el, i) => i > 1 && el.tag === Tag.SEQUENCE);
  if (!list) return [];
  const entries = children(der, list);
  const picked = entries.length > limit ? [...entries.slice(0, limit - 1), entries[entries.length - 1]!] : entries;
  return picked.map((e) => serialHex(contentOf(der, readElement(der, e.contentStart, e.end))));
}

/**
 * Every CRL and OCSP response of the corpus with an issuer: the certificate
 * that verifies it when the corpus holds one, else one with the right name,
 * else any (the parse is still exercised). Null when the corpus is absent.
 */
export async function loadCorpus(dir: string = CORPUS_DIR): Promise<FuzzSample[] | null> {
  if (!existsSync(dir)) return null;
  const files = walk(dir).filter((f) => !/\.(md|txt|yml|yaml|py|sh|cnf|c)$/i.test(f));
  const certs: CertificateInfo[] = [];
  const answers: { name: string; bytes: Buffer }[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const name = relative(dir, file);
    try {
      certs.push(...readCertificates(bytes, name));
    } catch {
      answers.push({ name, bytes });
    }
  }
  const samples: FuzzSample[] = [];
  for (const { name, bytes } of answers) {
    if (looksLikeOcspResponse(bytes)) {
      let parsed: ReturnType<typeof parseOcspResponse>;
      try {
        parsed = parseOcspResponse(bytes);
      } catch {
        continue;
      }
      const first = parsed.basic?.responses[0];
      const issuer = (first && certs.find((c) => certIdMatchesIssuer(first.certId, new OcspIssuer(c.raw)))) ?? certs[0]!;
      const at = (parsed.basic?.producedAt ?? Date.parse('2020-01-01T00:00:00Z')) + 60_000;
      samples.push(sample(name, 'ocsp', bytes, issuer, first ? [first.serial] : ['01'], at));
      continue;
    }
    let der: Uint8Array;
    let header: Awaited<ReturnType<typeof scanCrl>>;
    try {
      der = crlDer(bytes, name);
      header = await scanCrl(der, { at: 0 });
    } catch {
      continue;
    }
    const named = certs.filter((c) => sameBytes(c.raw.subjectName, header.issuerName));
    let issuer = named[0] ?? certs[0]!;
    for (const c of named) {
      const scan = await scanCrl(der, { issuer: c.raw, at: header.thisUpdate + 60_000 });
      if (scan.signatureValid) {
        issuer = c;
        break;
      }
    }
    let serials: string[] = [];
    try {
      serials = crlSerials(der, 8);
    } catch {
      serials = [];
    }
    samples.push(sample(name, 'crl', Buffer.from(der), issuer, [...serials, '7fffffff01'], header.thisUpdate + 60_000));
  }
  return samples;
}

function sample(name: string, kind: 'crl' | 'ocsp', der: Buffer, issuer: CertificateInfo, serials: string[], at: number): FuzzSample {
  const headers: number[] = [];
  headerOffsets(der, 0, der.length, headers, 0);
  return { name, kind, der, issuer, serials, at, headers };
}

export type MutationKind = 'truncate' | 'bit-flip' | 'length-edit' | 'drop-element' | 'repeat-element';
const KINDS: readonly MutationKind[] = ['truncate', 'bit-flip', 'length-edit', 'length-edit', 'drop-element', 'repeat-element'];

/** One damaged copy of `s`; `random` decides everything, so a seed reproduces the input. */
export function mutate(s: FuzzSample, random: () => number): { kind: MutationKind; bytes: Buffer } {
  const pick = (n: number): number => Math.floor(random() * n);
  const kind = KINDS[pick(KINDS.length)]!;
  const der = s.der;
  if (kind === 'truncate') return { kind, bytes: Buffer.from(der.subarray(0, pick(der.length))) };
  if (kind === 'bit-flip') {
    const out = Buffer.from(der);
    const flips = 1 + pick(4);
    for (let i = 0; i < flips; i++) {
      const at = pick(out.length);
      out[at]! ^= 1 << pick(8);
    }
    return { kind, bytes: out };
  }
  const at = s.headers[pick(s.headers.length)] ?? 0;
  if (kind === 'length-edit') {
    const out = Buffer.from(der);
    const lenAt = at + 1;
    const len = out[lenAt]!;
    const choices =
      len & 0x80 ? [len + 1, len - 1, 0x80, 0x85, -1, -2] : [len + 1, len - 1, len + 2, len - 2, 0, 0x7f, 0x80, 0x81, 0xff, pick(256)];
    const choice = choices[pick(choices.length)]!;
    if (choice === -1 || choice === -2) {
      // the last length octet of a long form, one up or down
      const n = len & 0x7f;
      const last = lenAt + n;
      if (last < out.length) out[last] = (out[last]! + (choice === -1 ? 1 : 255)) & 0xff;
    } else out[lenAt] = choice & 0xff;
    return { kind, bytes: out };
  }
  let el: ReturnType<typeof readElement>;
  try {
    el = readElement(der, at, der.length);
  } catch {
    return { kind, bytes: Buffer.from(der) };
  }
  const piece = der.subarray(el.start, el.end);
  if (kind === 'drop-element') return { kind, bytes: Buffer.concat([der.subarray(0, el.start), der.subarray(el.end)]) };
  return { kind, bytes: Buffer.concat([der.subarray(0, el.end), piece, der.subarray(el.end)]) };
}

class OneAnswerFetcher implements Fetcher {
  constructor(private readonly body: Buffer) {}
  async fetch(request: FetchRequest): Promise<FetchResult> {
    return servedWhole(request.url, this.body);
  }
}

/** What one input did that it must not: empty when it behaved. */
export interface FuzzFault {
  readonly where: string;
  readonly error: string;
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

function checkOutcomes(outcomes: readonly ProbeOutcome[], serials: readonly string[], where: string, faults: FuzzFault[]): void {
  if (outcomes.length !== serials.length) faults.push({ where, error: `${outcomes.length} outcomes for ${serials.length} serials` });
  for (const o of outcomes) {
    if (o.status === 'error' && (!o.error.kind || !o.error.message))
      faults.push({ where, error: 'an error outcome without kind or message' });
  }
}

/** Feeds one input everywhere `check` and `inspect` would read it; returns what went wrong. */
export async function exercise(s: FuzzSample, bytes: Buffer): Promise<FuzzFault[]> {
  const faults: FuzzFault[] = [];
  const fetcher = new OneAnswerFetcher(bytes);
  const now = (): number => s.at;
  if (s.kind === 'crl') {
    try {
      const r = await probeCrl({ url: 'http://127.0.0.1:1/fuzz.crl', serials: s.serials, issuer: s.issuer.raw, fetcher, now });
      checkOutcomes(r.outcomes, s.serials, 'probeCrl', faults);
    } catch (err) {
      faults.push({ where: 'probeCrl escaped', error: describeError(err) });
    }
    try {
      await scanCrl(bytes, { serials: s.serials, issuer: s.issuer.raw, at: s.at });
    } catch (err) {
      if (!(err instanceof DerError)) faults.push({ where: 'scanCrl threw a non-DER error', error: describeError(err) });
    }
    try {
      await inspectCrl(bytes, 'fuzz.crl', { issuer: s.issuer, serials: s.serials, at: s.at });
    } catch (err) {
      if (!(err instanceof InputError)) faults.push({ where: 'inspectCrl', error: describeError(err) });
    }
  } else {
    const issuer = new OcspIssuer(s.issuer.raw);
    try {
      const o = await probeOcsp({ url: 'http://127.0.0.1:1/ocsp', serial: s.serials[0]!, issuer, fetcher, now });
      checkOutcomes([o], [s.serials[0]!], 'probeOcsp', faults);
    } catch (err) {
      faults.push({ where: 'probeOcsp escaped', error: describeError(err) });
    }
    let parsed = null;
    try {
      parsed = parseOcspResponse(bytes);
    } catch (err) {
      if (!(err instanceof DerError)) faults.push({ where: 'parseOcspResponse threw a non-DER error', error: describeError(err) });
    }
    if (parsed) {
      try {
        verifyOcspResponse(parsed, { issuer, serial: s.serials[0]!, at: s.at });
        verifyOcspResponse(parsed, { issuer, at: s.at });
      } catch (err) {
        faults.push({ where: 'verifyOcspResponse threw', error: describeError(err) });
      }
    }
    try {
      inspectOcsp(bytes, 'fuzz.ocsp', { issuer: s.issuer, cert: null, at: s.at });
    } catch (err) {
      if (!(err instanceof InputError)) faults.push({ where: 'inspectOcsp', error: describeError(err) });
    }
  }
  return faults;
}

export interface FuzzReport {
  readonly inputs: number;
  readonly byKind: Record<MutationKind, number>;
  /** Inputs with at least one fault, first few kept with how to reproduce them. */
  readonly failing: number;
  readonly examples: { sample: string; mutation: MutationKind; index: number; faults: FuzzFault[] }[];
}

/**
 * Runs `inputs` damaged inputs from one seed: CRLs and OCSP responses take
 * turns (the corpus holds far more CRLs), each kind round-robin over its samples.
 */
export async function fuzz(
  samples: readonly FuzzSample[],
  inputs: number,
  seed: number,
  onProgress?: (done: number) => void,
): Promise<FuzzReport> {
  const random = seededRandom(seed);
  const byKind: Record<MutationKind, number> = { truncate: 0, 'bit-flip': 0, 'length-edit': 0, 'drop-element': 0, 'repeat-element': 0 };
  const examples: FuzzReport['examples'] = [];
  let failing = 0;
  const crls = samples.filter((s) => s.kind === 'crl');
  const ocsp = samples.filter((s) => s.kind === 'ocsp');
  const turns = [crls, ocsp].filter((list) => list.length > 0);
  for (let i = 0; i < inputs; i++) {
    const list = turns[i % turns.length]!;
    const s = list[Math.floor(i / turns.length) % list.length]!;
    const { kind, bytes } = mutate(s, random);
    byKind[kind]++;
    const faults = await exercise(s, bytes);
    if (faults.length) {
      failing++;
      if (examples.length < 20) examples.push({ sample: s.name, mutation: kind, index: i, faults });
    }
    if (onProgress && (i + 1) % 10_000 === 0) onProgress(i + 1);
  }
  return { inputs, byKind, failing, examples };
}
