/**
 * The read side of the revocation index's local files (written by
 * revocation-index-files.ts; layout in docs/data-model.md, "The revocation
 * index"): many serials looked up across many issuers at once, as `lookup`
 * asks them (100,000 serials, often under every issuer).
 *
 * Per issuer it reads the .keys table (8 bytes a serial: fingerprint and line
 * offset, sorted by fingerprint), the .delta and the .urls, and from the .idx
 * only the lines whose fingerprint matched, in offset order, a window of
 * nearby lines to a read. The serials' fingerprints are sorted once; each
 * issuer's table is merged against them by galloping, so an issuer costs
 * O(min(a, b) log(max(a, b) / min(a, b))) comparisons of integers, not a
 * string per serial asked: a thousand small issuers and 100,000 serials are
 * then cheap. A string is made only where fingerprints match.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Claim, IndexRecord, Listing, SnapshotRef } from '../../ports/revocation-index.js';

/** What a store instance holds of an issuer in memory (its files may not all be written yet). */
export interface HeldIssuerFiles {
  readonly base: Buffer;
  readonly delta: ReadonlyMap<string, string>;
  readonly urls: readonly string[];
}

/**
 * .idx lines closer than this are read in one call: a read call costs about as much as copying a few pages from
 * the page cache. (At 32 KB, 50,000 matches spread over a 600 MB index merged into windows as large as whole
 * files, and the lookup copied most of the index.)
 */
const WINDOW_GAP = 4 * 1024;
/** The most a window reads: the lines it spans are read into one reused buffer of this size. */
const WINDOW_MAX = 256 * 1024;
/** Bytes read past a window's last line start: most records are far shorter; a longer one is read on its own. */
const LINE_SLACK = 1024;

/**
 * For each of `issuerKeys`, the records its files under `indexDir` hold of `serials` (the same answer as
 * reading each issuer's sorted file whole): a delta line wins over the .idx, a later delta line over an earlier.
 */
export function lookupRecords(
  indexDir: string,
  issuerKeys: readonly string[],
  serials: readonly string[],
  held: (issuerKey: string) => HeldIssuerFiles | undefined,
  /** The .keys table of an .idx (revocation-index-files.ts `keyTable`), for a .keys missing or stale. */
  keyTable: (idx: Buffer) => Buffer,
): Map<string, Map<string, IndexRecord>> {
  const { distinct, sortedPrints } = distinctByPrint(serials);
  const byPrint = printBuckets(sortedPrints);
  const prefixes = prefixBits(distinct);
  const out = new Map<string, Map<string, IndexRecord>>();
  // Every issuer's .keys, .delta and .idx windows are read into these, reused: no buffer per file or window to allocate,
  // fault in and collect (a lookup reads 8 bytes a serial of every issuer: 64 MB at 8 million serials).
  const windowBuffer = Buffer.allocUnsafeSlow(WINDOW_MAX);
  const keysBuffer = { bytes: new Uint8Array(0) };
  const deltaBuffer = { bytes: new Uint8Array(0) };
  for (const issuerKey of issuerKeys) {
    const found = new Map<string, IndexRecord>();
    out.set(issuerKey, found);
    const mine = held(issuerKey);
    let urls: readonly string[] | null = mine?.urls ?? null;
    const urlsOf = (): readonly string[] => {
      urls ??= readUrls(join(indexDir, `${issuerKey}.urls`));
      return urls;
    };
    // The delta first: what it holds of a serial is newer than the .idx.
    const fromDelta = new Map<string, string>();
    if (mine) {
      if (mine.delta.size > 0)
        for (const s of distinct) {
          const packed = mine.delta.get(s);
          if (packed !== undefined) fromDelta.set(s, packed);
        }
    } else {
      scanDelta(join(indexDir, `${issuerKey}.delta`), distinct, sortedPrints, byPrint, prefixes, deltaBuffer, (serial, packed) =>
        fromDelta.set(serial, packed),
      );
    }
    const shared = new Map<string, readonly Listing[]>();
    for (const [serial, packed] of fromDelta) found.set(serial, unpack(issuerKey, serial, packed, urlsOf(), shared));

    const idxPath = join(indexDir, `${issuerKey}.idx`);
    const idxBytes = mine ? mine.base.length : existsSync(idxPath) ? statSync(idxPath).size : 0;
    if (idxBytes === 0) continue;
    const table = keysOf(join(indexDir, `${issuerKey}.keys`), idxBytes, keysBuffer, () => keyTable(mine?.base ?? readFileSync(idxPath)));
    // Matches of fingerprints: (line offset, serial) pairs, some of them collisions that the line itself rules out.
    const offsets: number[] = [];
    const asked: number[] = [];
    const each = (q: number, offset: number): void => {
      if (fromDelta.size > 0 && fromDelta.has(distinct[q]!)) return;
      offsets.push(offset);
      asked.push(q);
    };
    // Few serials asked of a large table: gallop through it; otherwise look every entry up in the buckets.
    if (sortedPrints.length * 16 < table.length >>> 1) mergePrints(sortedPrints, table, each);
    else scanTable(sortedPrints, byPrint, table, each);
    if (offsets.length === 0) continue;
    const byOffset = inOffsetOrder(offsets);
    const take = (m: number, packed: string | null): void => {
      if (packed !== null) found.set(distinct[asked[m]!]!, unpack(issuerKey, distinct[asked[m]!]!, packed, urlsOf(), shared));
    };
    if (mine) {
      for (const m of byOffset) take(m, lineIn(mine.base, 0, offsets[m]!, distinct[asked[m]!]!) ?? null);
      continue;
    }
    const fd = openSync(idxPath, 'r');
    try {
      for (let w = 0; w < byOffset.length; ) {
        // One window: lines whose starts are within WINDOW_GAP of the one before, up to WINDOW_MAX bytes.
        const from = offsets[byOffset[w]!]!;
        let last = w;
        while (
          last + 1 < byOffset.length &&
          offsets[byOffset[last + 1]!]! - offsets[byOffset[last]!]! <= WINDOW_GAP &&
          offsets[byOffset[last + 1]!]! + LINE_SLACK - from <= WINDOW_MAX
        )
          last++;
        const to = Math.min(idxBytes, offsets[byOffset[last]!]! + LINE_SLACK);
        const buf = windowBuffer.subarray(0, to - from);
        const got = readFully(fd, buf, from);
        for (let k = w; k <= last; k++) {
          const m = byOffset[k]!;
          const serial = distinct[asked[m]!]!;
          const packed = lineIn(buf.subarray(0, got), from, offsets[m]!, serial);
          take(m, packed === undefined ? readLineAt(fd, offsets[m]!, serial) : packed);
        }
        w = last + 1;
      }
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

/**
 * Calls `match(q, offset)` for every pair of a sorted query fingerprint (its position q) and a table entry with the
 * same fingerprint, in table order: each entry is looked up in `buckets` (`printBuckets`), a few loads from a table
 * that stays in the cache. Linear in the table, whatever the number of serials asked: 100,000 serials against 300
 * issuers' tables cost 8 million lookups here, and several times that in compared steps when galloping.
 */
export function scanTable(sorted: Uint32Array, buckets: Uint32Array, table: Uint32Array, match: (q: number, offset: number) => void): void {
  const n = table.length;
  for (let j = 0; j < n; j += 2) {
    const print = table[j]!;
    const bucket = print >>> BUCKET_SHIFT;
    for (let q = buckets[bucket]!, end = buckets[bucket + 1]!; q < end; q++) if (sorted[q] === print) match(q, table[j + 1]!);
  }
}

/** Fingerprints fall in 2^17 buckets by their top bits: about one serial a bucket at 100,000 serials, in 512 KB. */
const BUCKET_SHIFT = 15;

/** Where each bucket's fingerprints start in `sorted` (ascending), and one past the last bucket's end. */
function printBuckets(sorted: Uint32Array): Uint32Array {
  const starts = new Uint32Array((1 << (32 - BUCKET_SHIFT)) + 1);
  for (let i = 0; i < sorted.length; i++) starts[(sorted[i]! >>> BUCKET_SHIFT) + 1]!++;
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  return starts;
}

/** The first position of `print` in `sorted` (`buckets` its `printBuckets`), or -1 when it is not there. */
function firstOfPrint(sorted: Uint32Array, buckets: Uint32Array, print: number): number {
  const bucket = print >>> BUCKET_SHIFT;
  for (let q = buckets[bucket]!, end = buckets[bucket + 1]!; q < end; q++) if (sorted[q] === print) return q;
  return -1;
}

/**
 * Calls `match(q, offset)` for every pair of a sorted query fingerprint (its position q) and a table entry with the
 * same fingerprint. Both lists are walked together, each skipping ahead by galloping (doubling steps, then a
 * binary search) past the other's current value.
 */
export function mergePrints(sorted: Uint32Array, table: Uint32Array, match: (q: number, offset: number) => void): void {
  const m = sorted.length;
  const n = table.length >>> 1;
  let q = 0;
  let j = 0;
  while (q < m && j < n) {
    const a = sorted[q]!;
    const b = table[2 * j]!;
    if (a < b) q = gallop(sorted, 1, q, m, b);
    else if (b < a) j = gallop(table, 2, j, n, a);
    else {
      let end = j;
      while (end < n && table[2 * end] === a) end++;
      for (; q < m && sorted[q] === a; q++) for (let k = j; k < end; k++) match(q, table[2 * k + 1]!);
      j = end;
    }
  }
}

/** The first position at or after `from` (below `n`) whose value (every `stride`-th number of `list`) is >= `target`. */
function gallop(list: Uint32Array, stride: number, from: number, n: number, target: number): number {
  let lo = from;
  let step = 1;
  let hi = from + 1;
  while (hi < n && list[stride * hi]! < target) {
    lo = hi;
    step *= 2;
    hi = from + step;
  }
  if (hi > n) hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[stride * mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The positions of `offsets` in ascending order of offset. Each offset and its position as one number
 * (offset * 2^21 + position: exact below 2^53), sorted by the typed array's own numeric sort, not a
 * comparator called per pair; more than 2^21 matches in one issuer take the comparator.
 */
function inOffsetOrder(offsets: readonly number[]): Uint32Array {
  const n = offsets.length;
  if (n >= 2 ** 21) return Uint32Array.from(offsets.keys()).sort((a, b) => offsets[a]! - offsets[b]!);
  const keyed = new Float64Array(n);
  for (let i = 0; i < n; i++) keyed[i] = offsets[i]! * 2 ** 21 + i;
  keyed.sort();
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = keyed[i]! % 2 ** 21;
  return out;
}

/**
 * The .keys table of an .idx of `idxBytes` bytes, or one made from the .idx when the file on disk is not its own.
 * The file is read into `scratch` and viewed as uint32s in place: the table is used only until the next issuer's.
 */
function keysOf(keysPath: string, idxBytes: number, scratch: { bytes: Uint8Array }, made: () => Buffer): Uint32Array {
  const raw = readInto(keysPath, scratch);
  if (raw === null || raw.length < 8 || raw.length % 8 !== 0 || raw.readDoubleLE(0) !== idxBytes) return uint32sLE(made(), 8);
  return LITTLE_ENDIAN ? new Uint32Array(raw.buffer, raw.byteOffset + 8, (raw.length - 8) / 4) : uint32sLE(raw, 8);
}

/**
 * Calls `each` with every delta line (in file order: a later line of a serial is told last) whose serial is
 * one of `distinct` (ordered by `sortedPrints`, bucketed by `buckets`); the other lines are hashed from their
 * bytes and never made into strings. The file is read into `scratch` (grown as needed, reused).
 *
 * Most lines are ruled out by their first PREFIX_BYTES bytes: the fingerprint's running hash after them is
 * looked up in `prefixes` (`prefixBits`), and only a line that passes is hashed to its end (a delta is tens of
 * megabytes at scale; hashing every serial whole was most of its scan).
 */
function scanDelta(
  path: string,
  distinct: readonly string[],
  sortedPrints: Uint32Array,
  buckets: Uint32Array,
  prefixes: Uint32Array,
  scratch: { bytes: Uint8Array },
  each: (serial: string, packed: string) => void,
): void {
  const buf = readInto(path, scratch);
  if (buf === null) return;
  const end = buf.lastIndexOf(10);
  for (let at = 0; at < end; ) {
    let h = 0x811c9dc5;
    let i = at;
    for (const stop = Math.min(end, at + PREFIX_BYTES); i < stop && buf[i] !== 9 && buf[i] !== 10; i++)
      h = Math.imul(h ^ buf[i]!, 0x01000193);
    if (hasBit(prefixes, h >>> 0)) {
      for (; i < end && buf[i] !== 9 && buf[i] !== 10; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
      const first = buf[i] === 9 && i > at ? firstOfPrint(sortedPrints, buckets, h >>> 0) : -1;
      if (first >= 0) {
        const serial = buf.toString('latin1', at, i);
        for (let k = first; k < sortedPrints.length && sortedPrints[k] === h >>> 0; k++)
          if (distinct[k] === serial) {
            each(serial, buf.toString('utf8', i + 1, buf.indexOf(10, i)));
            break;
          }
      }
    }
    at = buf.indexOf(10, i) + 1;
  }
}

/** Serial bytes hashed before a delta line is looked up in the prefix filter. */
const PREFIX_BYTES = 8;

/**
 * A bit for each of 2^22 values of the running fingerprint (its top 22 bits) after a serial's first PREFIX_BYTES
 * bytes (all of a shorter serial's), set for the serials asked: 512 KB, about 2 % of other lines let through at
 * 100,000 serials.
 */
function prefixBits(distinct: readonly string[]): Uint32Array {
  const bits = new Uint32Array(1 << 17);
  for (const serial of distinct) {
    let h = 0x811c9dc5;
    for (let i = 0; i < Math.min(serial.length, PREFIX_BYTES); i++) h = Math.imul(h ^ serial.charCodeAt(i), 0x01000193);
    const bit = (h >>> 0) >>> 10;
    bits[bit >>> 5]! |= 1 << (bit & 31);
  }
  return bits;
}

const hasBit = (bits: Uint32Array, h: number): boolean => (bits[h >>> 15]! & (1 << ((h >>> 10) & 31))) !== 0;

/** A whole file read into `scratch` (grown as needed; valid until the next read into it), or null when there is none. */
function readInto(path: string, scratch: { bytes: Uint8Array }): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    if (scratch.bytes.length < size) scratch.bytes = new Uint8Array(Math.max(size, 2 * scratch.bytes.length));
    const buf = Buffer.from(scratch.bytes.buffer, 0, size);
    return buf.subarray(0, readFully(fd, buf, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * The distinct serials in ascending order of fingerprint, with their fingerprints: one radix sort, and repeats
 * dropped where fingerprints are equal (no set of 100,000 strings, which cost more than the sort).
 */
function distinctByPrint(serials: readonly string[]): { distinct: string[]; sortedPrints: Uint32Array } {
  const prints = new Uint32Array(serials.length);
  for (let i = 0; i < serials.length; i++) prints[i] = fingerprint(serials[i]!);
  const order = orderByPrint(prints);
  const distinct: string[] = [];
  const sorted = new Uint32Array(serials.length);
  let runStart = 0;
  for (let k = 0; k < order.length; k++) {
    const serial = serials[order[k]!]!;
    const print = prints[order[k]!]!;
    if (distinct.length === 0 || sorted[distinct.length - 1] !== print) runStart = distinct.length;
    else if (distinct.indexOf(serial, runStart) >= 0) continue;
    sorted[distinct.length] = print;
    distinct.push(serial);
  }
  return { distinct, sortedPrints: sorted.subarray(0, distinct.length) };
}

/**
 * Each URL's snapshots from its log under `urlsDir` (`fileOf` names it; none when there is no log): complete lines
 * only, as the store's own reader takes them. One synchronous pass over the files into a reused buffer: `lookup`
 * reads every swept URL's (5,000 in the bench), and a wait per file cost more than the reading.
 */
export function readSnapshotsOfMany(urlsDir: string, urls: readonly string[], fileOf: (url: string) => string): Map<string, SnapshotRef[]> {
  const out = new Map<string, SnapshotRef[]>();
  const scratch = { bytes: new Uint8Array(64 * 1024) };
  for (const url of urls) {
    const buf = readInto(join(urlsDir, fileOf(url)), scratch);
    const end = buf === null ? -1 : buf.lastIndexOf(10);
    out.set(url, end < 0 ? [] : (JSON.parse(`[${buf!.toString('utf8', 0, end).replaceAll('\n', ',')}]`) as SnapshotRef[]));
  }
  return out;
}

function readUrls(path: string): string[] {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as string[]) : [];
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/**
 * The record on the line at file offset `offset`, from `buf` holding the file from `bufStart`: null when that line
 * is not `serial`'s, undefined when the line runs past the end of `buf` (read it alone).
 */
function lineIn(buf: Buffer, bufStart: number, offset: number, serial: string): string | null | undefined {
  const at = offset - bufStart;
  const tab = at + serial.length;
  if (tab >= buf.length) return undefined;
  for (let i = 0; i < serial.length; i++) if (buf[at + i] !== serial.charCodeAt(i)) return null;
  if (buf[tab] !== 9) return null;
  const nl = buf.indexOf(10, tab);
  if (nl < 0) return undefined;
  return buf.toString('utf8', tab + 1, nl);
}

/** The record on the line at `offset` of an open .idx, if that line is `serial`'s (a line longer than a window). */
function readLineAt(fd: number, offset: number, serial: string): string | null {
  for (let size = 4 * LINE_SLACK; ; size *= 4) {
    const buf = Buffer.allocUnsafe(size);
    const got = readFully(fd, buf, offset);
    const packed = lineIn(buf.subarray(0, got), offset, offset, serial);
    if (packed !== undefined) return packed;
    if (got < size) return null;
  }
}

/** FNV-1a over the serial's characters (serials are ASCII hex), 32 bits: the .keys fingerprint. */
function fingerprint(serial: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serial.length; i++) h = Math.imul(h ^ serial.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The positions of `prints` in ascending order (stable): a two-pass radix sort, linear where a compared sort is not. */
export function orderByPrint(prints: Uint32Array): Uint32Array {
  // A plain loop, not Uint32Array.from(prints.keys()): an iterator step per serial cost more than the sort.
  const order = new Uint32Array(prints.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const next = new Uint32Array(prints.length);
  // Each pass its own call of one small function: a lookup sorts once, so the sort runs cold, and V8 optimises
  // a function called twice sooner than one loop nested in another (a cold sort of 100,000: 40-80 ms of CPU
  // nested, under 20 ms as two calls).
  radixPass(prints, order, next, 0);
  radixPass(prints, next, order, 16);
  return order;
}

/** One stable counting-sort pass over 16 bits of `prints` (at `shift`): `from`'s positions into `to`. */
function radixPass(prints: Uint32Array, from: Uint32Array, to: Uint32Array, shift: number): void {
  const counts = new Uint32Array(65_537);
  const n = prints.length;
  for (let i = 0; i < n; i++) counts[((prints[i]! >>> shift) & 0xffff) + 1]!++;
  for (let b = 1; b < 65_537; b++) counts[b]! += counts[b - 1]!;
  for (let i = 0; i < n; i++) {
    const at = from[i]!;
    const digit = (prints[at]! >>> shift) & 0xffff;
    to[counts[digit]!] = at;
    counts[digit]!++;
  }
}

/** The little-endian uint32s of `raw` from `offset` on, as one copy. */
function uint32sLE(raw: Buffer, offset: number): Uint32Array {
  const out = new Uint32Array((raw.length - offset) / 4);
  new Uint8Array(out.buffer).set(raw.subarray(offset));
  if (!LITTLE_ENDIAN) for (let i = 0; i < out.length; i++) out[i] = raw.readUInt32LE(offset + 4 * i);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type PackedListing = [number, number, number | null, number | null];
type PackedClaim = [number, number, number, number | null];

/**
 * A packed record line (revocation-index-files.ts `pack`) as a record (plain loops: 50,000 of them a lookup).
 * With `shared` (one map per issuer, for records only read), records whose listings are packed alike share one
 * listing list: most records of a CRL were first listed by the same sweep, and a lookup then makes (and `lookup
 * --json` spells) each list once.
 */
export function unpack(
  issuerKey: string,
  serial: string,
  packed: string,
  urls: readonly string[],
  shared?: Map<string, readonly Listing[]>,
): IndexRecord {
  if (shared) {
    // "[[<listing>,…],[<claim>,…]]" whose tuples hold numbers and nulls only: the listing list ends at its first "]]".
    const end = packed.startsWith('[[]') ? 3 : packed.indexOf(']]') + 2;
    const listingsText = packed.slice(1, end);
    let listings = shared.get(listingsText);
    if (listings === undefined) {
      listings = listingsOf(JSON.parse(listingsText) as PackedListing[], urls);
      shared.set(listingsText, listings);
    }
    return { issuerKey, serial, listings, claims: claimsOf(JSON.parse(packed.slice(end + 1, -1)) as PackedClaim[], urls) };
  }
  const [packedListings, packedClaims] = JSON.parse(packed) as [PackedListing[], PackedClaim[]];
  return { issuerKey, serial, listings: listingsOf(packedListings, urls), claims: claimsOf(packedClaims, urls) };
}

function listingsOf(packed: readonly PackedListing[], urls: readonly string[]): Listing[] {
  const listings: Listing[] = new Array(packed.length);
  for (let i = 0; i < packed.length; i++) {
    const l = packed[i]!;
    listings[i] = { url: urls[l[0]]!, firstSeen: l[1], notListedAt: l[2], removed: l[3] };
  }
  return listings;
}

function claimsOf(packed: readonly PackedClaim[], urls: readonly string[]): Claim[] {
  const claims: Claim[] = new Array(packed.length);
  for (let i = 0; i < packed.length; i++) {
    const c = packed[i]!;
    claims[i] = { url: urls[c[0]]!, sweep: c[1], revocationDate: c[2] * 1000, reasonCode: c[3] };
  }
  return claims;
}
