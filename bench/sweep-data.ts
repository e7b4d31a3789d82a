/**
 * The synthetic CCADB of `npm run bench -- sweep` (issue 27): CRL URLs of many
 * CAs on 100 loopback host names, sizes with a heavy tail, the CCADB's V5
 * records report and PEM report to match, and a second version of 1 % of the
 * CRLs (1 % of their entries added, three removed). Generated once per scale
 * into the OS temp directory and reused.
 *
 * Entries are written straight into one buffer per CRL (a fixed layout: a
 * 16-byte serial, a UTCTime, a reasonCode on every other entry) and each CRL
 * is signed once with node:crypto, so millions of entries take seconds. The
 * serial of entry k of URL u is a function of (u, k): the lookup list is made
 * without keeping the entries.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCa } from '../src/local-ca/ca.js';
import { signStructure, signatureAlgorithmDer } from '../src/local-ca/keys.js';
import { Tag, encodeLength, encodeOid, explicit, integer, octetString, seq, tlv, derBoolean, x509Time } from '../src/pki/der.js';
import { toPem } from '../src/pki/certificate.js';

/** Bump when the generated layout changes: an older cache is then made again. */
const LAYOUT = 3;
export const FULL_URLS = 5000;
export const FULL_CAS = 300;
export const FULL_SHARDED_ISSUERS = 8;
export const SHARDS_PER_ISSUER = 128;
export const FULL_ENTRIES = 8_000_000;
export const HOSTS = 100;
/** The port of the 100 loopback addresses (127.0.1.1 to 127.0.1.100) unless BENCH_SWEEP_PORT names another. */
export const DEFAULT_PORT = 47_211;
/**
 * The port the data set's URLs name. It is inside the cached CRLs (signed issuingDistributionPoints) and reports,
 * so a set is cached per port: two sweep benches run side by side when one is given BENCH_SWEEP_PORT (its set is
 * generated once for that port), and a collision is refused in one line (bench/sweep.ts serve).
 */
export const PORT = benchPort(process.env.BENCH_SWEEP_PORT);

function benchPort(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1024 || port > 65_535)
    throw new Error(`BENCH_SWEEP_PORT must be a port in 1024..65535, not "${text}"`);
  return port;
}
const MAX_CRL_BYTES = 40 * 1024 * 1024;
const MIN_ENTRIES = 20;
const DAY = 86_400_000;

export interface BenchUrl {
  readonly url: string;
  readonly host: string;
  readonly path: string;
  readonly ca: number;
  readonly entries: number;
  readonly bytes: number;
  readonly etag: string;
  /** The second version (1 % of the URLs): its entry range, bytes and ETag. */
  readonly v2: { readonly from: number; readonly to: number; readonly bytes: number; readonly etag: string } | null;
}

export interface BenchSet {
  readonly scale: number;
  readonly dir: string;
  readonly urls: readonly BenchUrl[];
  readonly cas: number;
  readonly shardedIssuers: number;
  readonly entries: number;
  readonly bytes: number;
  readonly records: string;
  readonly pems: string;
  readonly generatedMs: number;
}

/** A 32-bit finaliser (MurmurHash3's): a bijection, so distinct inputs give distinct outputs. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Word j of entry k's serial on URL u: distinct over k for one u, because k*4+j is. */
const serialWord = (u: number, k: number, j: number): number => fmix32(fmix32(k * 4 + j) ^ Math.imul(u + 1, 0x9e3779b1)) >>> 0;
/** The first byte is kept in 0x10..0x4f: a positive INTEGER of exactly 16 bytes, no leading zero digit in hex. */
const firstWord = (w: number): number => ((((w >>> 24) & 0x3f) | 0x10) << 24) | (w & 0xffffff);

/** Entry k of URL u's serial as `lookup` prints it (lowercase hex, no leading zeros). */
export function serialOf(u: number, k: number): string {
  let hex = (firstWord(serialWord(u, k, 0)) >>> 0).toString(16);
  for (let j = 1; j < 4; j++) hex += serialWord(u, k, j).toString(16).padStart(8, '0');
  return hex;
}

const REASON_EXTENSIONS = [1, 4, 5, 9].map((r) =>
  Buffer.from([0x30, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x04, 0x03, 0x0a, 0x01, r]),
);
const ENTRY_BYTES = 2 + 18 + 15;
const ENTRY_WITH_REASON_BYTES = ENTRY_BYTES + 14;

/** Entries [from, to) of URL u, DER, each 35 or 49 bytes. */
function writeEntries(u: number, from: number, to: number, times: readonly Buffer[]): Buffer {
  const n = to - from;
  const withReason = Math.floor(n / 2) + (n % 2 === 1 && from % 2 === 0 ? 1 : 0);
  const buf = Buffer.allocUnsafe(n * ENTRY_BYTES + withReason * 14 + 16);
  let p = 0;
  for (let k = from; k < to; k++) {
    const reason = k % 2 === 0;
    buf[p++] = Tag.SEQUENCE;
    buf[p++] = (reason ? ENTRY_WITH_REASON_BYTES : ENTRY_BYTES) - 2;
    buf[p++] = Tag.INTEGER;
    buf[p++] = 16;
    buf.writeUInt32BE(firstWord(serialWord(u, k, 0)) >>> 0, p);
    buf.writeUInt32BE(serialWord(u, k, 1), p + 4);
    buf.writeUInt32BE(serialWord(u, k, 2), p + 8);
    buf.writeUInt32BE(serialWord(u, k, 3), p + 12);
    p += 16;
    times[k % times.length]!.copy(buf, p);
    p += 15;
    if (reason) {
      REASON_EXTENSIONS[(k >>> 1) % 4]!.copy(buf, p);
      p += 14;
    }
  }
  return buf.subarray(0, p);
}

const ext = (oid: string, value: Uint8Array, critical = false): Buffer =>
  critical ? seq(encodeOid(oid), derBoolean(true), octetString(value)) : seq(encodeOid(oid), octetString(value));

function signedCrl(
  ca: LocalCa,
  body: Buffer,
  o: { thisUpdate: number; crlNumber: number; idpUri: string | null; authorityKeyId: Buffer },
): Buffer {
  const exts = [ext('2.5.29.35', seq(tlv(0x80, o.authorityKeyId))), ext('2.5.29.20', integer(o.crlNumber))];
  // A shard names its own URL in a critical issuingDistributionPoint (BR 7.2.2.1; RFC 5280 5.2.5).
  if (o.idpUri) exts.push(ext('2.5.29.28', seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(o.idpUri, 'latin1'))))), true));
  const parts = [
    integer(1),
    signatureAlgorithmDer(ca.keys.type),
    Buffer.from(ca.info.raw.subjectName),
    x509Time(o.thisUpdate),
    x509Time(o.thisUpdate + 7 * DAY),
    ...(body.length ? [Buffer.concat([Uint8Array.of(Tag.SEQUENCE), encodeLength(body.length)]), body] : []),
    explicit(0, seq(...exts)),
  ];
  const length = parts.reduce((n, b) => n + b.length, 0);
  const tbs = Buffer.concat([Uint8Array.of(Tag.SEQUENCE), encodeLength(length), ...parts]);
  return signStructure(ca.keys.type, ca.keys.privateKey, tbs);
}

/** A small deterministic generator (mulberry32), so one scale always makes the same set. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Entry counts with a heavy (Pareto) tail, clamped to [MIN_ENTRIES, 40 MB], summing to about `total`. */
function entryCounts(urls: number, total: number, rand: () => number): number[] {
  const maxEntries = Math.floor(MAX_CRL_BYTES / ((ENTRY_BYTES + ENTRY_WITH_REASON_BYTES) / 2));
  const weights = Array.from({ length: urls }, () => (1 - rand()) ** (-1 / 1.1));
  let counts = weights.map(() => 0);
  let free = weights.map((_, i) => i);
  let left = total;
  // Clamp the tail and hand what it could not take to the rest, a few rounds.
  for (let round = 0; round < 4 && free.length > 0 && left > 0; round++) {
    const sum = free.reduce((s, i) => s + weights[i]!, 0);
    const still: number[] = [];
    let used = 0;
    for (const i of free) {
      const want = Math.max(MIN_ENTRIES, Math.round((left * weights[i]!) / sum));
      const n = Math.min(maxEntries, want);
      counts[i] = n;
      used += n;
      if (n < maxEntries) still.push(i);
    }
    if (used <= left * 1.001) break;
    left -= free.filter((i) => counts[i] === maxEntries).reduce((s, i) => s + counts[i]!, 0);
    free = still;
  }
  counts = counts.map((n) => Math.max(MIN_ENTRIES, n));
  return counts;
}

const etagOf = (bytes: Uint8Array): string => `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`;

/** CSV as the CCADB writes it: every field quoted, quotes doubled, CRLF. */
const csvRow = (cells: readonly string[]): string => `${cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')}\r\n`;

export async function benchSet(scale: number, log: (line: string) => void): Promise<BenchSet> {
  const dir = join(tmpdir(), `revwatch-bench-sweep-v${LAYOUT}-scale-${scale}${PORT === DEFAULT_PORT ? '' : `-port-${PORT}`}`);
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath)) return JSON.parse(readFileSync(manifestPath, 'utf8')) as BenchSet;
  const started = performance.now();
  log(`generating the scale-${scale} data set in ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'v1'), { recursive: true });
  mkdirSync(join(dir, 'v2'), { recursive: true });
  const rand = random(27);
  const urlCount = Math.max(200, Math.round(FULL_URLS * scale));
  const caCount = Math.max(20, Math.round(FULL_CAS * scale));
  const sharded = Math.max(1, Math.round(FULL_SHARDED_ISSUERS * scale));
  const totalEntries = Math.round(FULL_ENTRIES * scale);
  const T0 = Date.now() - 3_600_000;
  const times = Array.from({ length: 4096 }, (_, i) => x509Time(T0 - 60_000 - i * 7_717_000));

  const root = await LocalCa.create({ name: 'Bench Sweep Root', notBefore: T0 - 400 * DAY, notAfter: T0 + 3650 * DAY });
  const cas: LocalCa[] = [];
  for (let c = 0; c < caCount; c++)
    cas.push(await LocalCa.create({ name: `Bench Sweep CA ${c}`, notBefore: T0 - 400 * DAY, notAfter: T0 + 3650 * DAY, parent: root }));

  // URL u belongs to CA ca[u]: the first `sharded` CAs own 128 shards each, the others share the remaining full CRLs.
  const owners: number[] = [];
  for (let s = 0; s < sharded; s++) for (let k = 0; k < SHARDS_PER_ISSUER; k++) owners.push(s);
  for (let u = owners.length, i = 0; u < urlCount; u++, i++) owners.push(sharded + (i % (caCount - sharded)));
  const counts = entryCounts(urlCount, totalEntries, rand);
  // 1 % of the URLs change for the third sweep: spread over sizes, every 100th.
  const changes = new Set(
    Array.from({ length: Math.max(1, Math.round(urlCount / 100)) }, (_, i) => i * 100 + 37).filter((u) => u < urlCount),
  );

  const urls: BenchUrl[] = [];
  let entries = 0;
  let bytes = 0;
  for (let u = 0; u < urlCount; u++) {
    const c = owners[u]!;
    const ca = cas[c]!;
    const host = `127.0.1.${(c % HOSTS) + 1}:${PORT}`;
    const path = c < sharded ? `/ca${c}/shard-${u % SHARDS_PER_ISSUER}.crl` : `/ca${c}/full-${u}.crl`;
    const url = `http://${host}${path}`;
    const n = counts[u]!;
    const aki = Buffer.from(ca.info.subjectKeyId!, 'hex');
    const idpUri = c < sharded ? url : null;
    const v1 = signedCrl(ca, writeEntries(u, 0, n, times), { thisUpdate: T0, crlNumber: 1, idpUri, authorityKeyId: aki });
    writeFileSync(join(dir, 'v1', `${u}.crl`), v1);
    let v2: BenchUrl['v2'] = null;
    if (changes.has(u)) {
      const from = Math.min(3, n);
      const to = n + Math.ceil(n / 100);
      const der = signedCrl(ca, writeEntries(u, from, to, times), {
        thisUpdate: T0 + 1_800_000,
        crlNumber: 2,
        idpUri,
        authorityKeyId: aki,
      });
      writeFileSync(join(dir, 'v2', `${u}.crl`), der);
      v2 = { from, to, bytes: der.length, etag: etagOf(der) };
    }
    urls.push({ url, host, path, ca: c, entries: n, bytes: v1.length, etag: etagOf(v1), v2 });
    entries += n;
    bytes += v1.length;
    if (u % 500 === 499) log(`  generated ${u + 1}/${urlCount} CRLs, ${(bytes / 1e6).toFixed(0)} MB`);
  }

  // The two CCADB reports, with the real headers: the records (V5) carry the URLs, the PEM report the certificates.
  const header = (name: string): string[] =>
    readFileSync(join('test', 'fixtures', 'ccadb', `${name}.header.csv`), 'utf8')
      .replace(/^\uFEFF/, '')
      .trim()
      .split(',');
  const recordsHeader = header('AllCertificateRecordsCSVFormatV5');
  const col = (name: string): number => recordsHeader.indexOf(name);
  let records = csvRow(recordsHeader);
  let pems = csvRow(header('AllCertificatePEMsCSVFormat'));
  for (let c = 0; c < caCount; c++) {
    const info = cas[c]!.info;
    const mine = urls.filter((x) => x.ca === c).map((x) => x.url);
    const row = recordsHeader.map(() => '');
    row[col('CA Owner')] = `Bench Owner ${Math.floor(c / 3)}`;
    row[col('Salesforce Record ID')] = `bench${String(c).padStart(6, '0')}`;
    row[col('Certificate Name')] = `Bench Sweep CA ${c}`;
    row[col('Certificate Record Type')] = 'Intermediate Certificate';
    row[col('SHA-256 Fingerprint')] = info.sha256.toUpperCase();
    row[col('Parent SHA-256 Fingerprint')] = root.info.sha256.toUpperCase();
    row[col('Subject Key Identifier')] = Buffer.from(info.subjectKeyId!, 'hex').toString('base64');
    row[col('Authority Key Identifier')] = Buffer.from(root.info.subjectKeyId!, 'hex').toString('base64');
    row[col('JSON Array of All Full CRL URLs')] = c < sharded ? '' : JSON.stringify(mine);
    row[col('JSON Array of Partitioned CRLs')] = c < sharded ? JSON.stringify(mine) : '';
    records += csvRow(row);
    pems += csvRow([info.sha256.toUpperCase(), toPem(info.der)]);
  }
  writeFileSync(join(dir, 'AllCertificateRecordsCSVFormatV5.csv'), records);
  writeFileSync(join(dir, 'AllCertificatePEMsCSVFormat.csv'), pems);

  const set: BenchSet = {
    scale,
    dir,
    urls,
    cas: caCount,
    shardedIssuers: sharded,
    entries,
    bytes,
    records: join(dir, 'AllCertificateRecordsCSVFormatV5.csv'),
    pems: join(dir, 'AllCertificatePEMsCSVFormat.csv'),
    generatedMs: performance.now() - started,
  };
  writeFileSync(`${manifestPath}.tmp`, JSON.stringify(set));
  renameSync(`${manifestPath}.tmp`, manifestPath);
  return set;
}
