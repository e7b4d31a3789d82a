/**
 * The revocation index as local files under <home>/sweep/ (layout and sizes:
 * docs/data-model.md, "The revocation index"):
 *
 *   urls/<url id>.changes       a URL's change segments, one JSON line per changed snapshot (append-only)
 *   urls/<url id>.snapshots     a URL's distinct snapshots, one JSON line each (append-only)
 *   index/<issuer key>.idx      the folded records, one line per serial, sorted: "<serial>\t<record>\n"
 *   index/<issuer key>.delta    records folded since the last compaction, appended; a later line wins
 *   index/<issuer key>.urls     the URLs the records of that issuer refer to by position (JSON array)
 *   index/<issuer key>.keys     the .idx's serials as 32-bit fingerprints with their line offsets, sorted
 *
 * A lookup binary-searches the sorted .idx held in memory (as look(1) does on
 * a sorted text file: no offset table to keep in step) and consults the
 * delta, which is read once into a map. A commit appends to the delta; when
 * the delta outgrows an eighth of the .idx it is merged into a new .idx
 * (written whole, then renamed), so a changed CRL costs its difference and the
 * merge is paid once per eighth of growth.
 *
 * `lookup` without an issuer asks every issuer for every serial. The .keys
 * table (8 bytes a serial, written beside each new .idx) answers that without
 * reading the records: all the serials' fingerprints are sorted once and
 * merged against each issuer's table, and only a matching line is read from
 * the .idx, at its offset. A .keys that does not belong to the .idx beside it
 * (a crash between the two writes, an index made before it existed) is rebuilt
 * in memory from the .idx.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChangeSegment, Claim, IndexRecord, Listing, RevocationIndexStore, SnapshotRef } from '../../ports/revocation-index.js';
import { appendLinesDurably, completeLines, writeFileDurably } from './durable-files.js';

/** The short name of a URL's files: 16 hex digits of its SHA-256. */
export const urlId = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

/** Compaction threshold: the delta is merged once it exceeds this share of the sorted file (or 256 KiB). */
const COMPACT_FRACTION = 8;
const COMPACT_MIN_BYTES = 256 * 1024;
const ISSUERS_HELD = 8;

type PackedListing = [number, number, number | null, number | null];
type PackedClaim = [number, number, number, number | null];

interface IssuerFiles {
  base: Buffer;
  /** Where each line of `base` starts; made on first lookup. */
  starts: Uint32Array | null;
  delta: Map<string, string>;
  deltaBytes: number;
  urls: string[];
}

export class RevocationIndexFiles implements RevocationIndexStore {
  private readonly dir: string;
  private readonly issuers = new Map<string, IssuerFiles>();

  constructor(home: string) {
    this.dir = join(home, 'sweep');
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  private issuer(issuerKey: string): IssuerFiles {
    const cached = this.issuers.get(issuerKey);
    if (cached) {
      this.issuers.delete(issuerKey);
      this.issuers.set(issuerKey, cached);
      return cached;
    }
    const basePath = this.path('index', `${issuerKey}.idx`);
    const deltaPath = this.path('index', `${issuerKey}.delta`);
    const urlsPath = this.path('index', `${issuerKey}.urls`);
    const delta = new Map<string, string>();
    let deltaBytes = 0;
    if (existsSync(deltaPath)) {
      const text = readFileSync(deltaPath, 'utf8');
      deltaBytes = text.length;
      for (const line of completeLines(text)) {
        const tab = line.indexOf('\t');
        if (tab > 0) delta.set(line.slice(0, tab), line.slice(tab + 1));
      }
    }
    const files: IssuerFiles = {
      base: existsSync(basePath) ? readFileSync(basePath) : Buffer.alloc(0),
      starts: null,
      delta,
      deltaBytes,
      urls: existsSync(urlsPath) ? (JSON.parse(readFileSync(urlsPath, 'utf8')) as string[]) : [],
    };
    // A few issuers' files held at once: at WebPKI scale all of them would be most of a gigabyte.
    if (this.issuers.size >= ISSUERS_HELD) this.issuers.delete(this.issuers.keys().next().value!);
    this.issuers.set(issuerKey, files);
    return files;
  }

  async records(issuerKey: string, serials: readonly string[]): Promise<Map<string, IndexRecord>> {
    const files = this.issuer(issuerKey);
    const out = new Map<string, IndexRecord>();
    for (const serial of serials) {
      files.starts ??= lineStarts(files.base);
      const packed = files.delta.get(serial) ?? findLine(files.base, serial, files.starts);
      if (packed !== null && packed !== undefined) out.set(serial, unpack(issuerKey, serial, packed, files.urls));
    }
    return out;
  }

  async issuerKeys(): Promise<string[]> {
    const dir = this.path('index');
    if (!existsSync(dir)) return [];
    return [
      ...new Set(
        readdirSync(dir)
          .filter((f) => /^[0-9a-f]{64}\.(idx|delta)$/.test(f))
          .map((f) => f.slice(0, 64)),
      ),
    ].sort();
  }

  async commit(segment: ChangeSegment, records: readonly IndexRecord[]): Promise<void> {
    appendLinesDurably(this.path('urls', `${urlId(segment.url)}.changes`), `${JSON.stringify(segment)}\n`);
    if (records.length === 0) return;
    const files = this.issuer(segment.issuerKey);
    const urlsBefore = files.urls.length;
    const lines: string[] = [];
    for (const r of records) {
      const packed = pack(r, files.urls);
      files.delta.set(r.serial, packed);
      lines.push(`${r.serial}\t${packed}\n`);
    }
    // The URL list first: a record must never name a position the list does not have.
    if (files.urls.length !== urlsBefore) writeFileDurably(this.path('index', `${segment.issuerKey}.urls`), JSON.stringify(files.urls));
    const text = lines.join('');
    appendLinesDurably(this.path('index', `${segment.issuerKey}.delta`), text);
    files.deltaBytes += text.length;
    if (files.deltaBytes > Math.max(COMPACT_MIN_BYTES, files.base.length / COMPACT_FRACTION)) this.compact(segment.issuerKey, files);
  }

  /**
   * Merges the delta into a new sorted file; a crash before the delta is emptied replays it onto the same records.
   * The .idx's lines between two delta serials are copied as one slice (found by binary search), so a merge
   * costs a copy of the file and a search per delta line, not a string per line.
   */
  private compact(issuerKey: string, files: IssuerFiles): void {
    const keys = [...files.delta.keys()].sort();
    const base = files.base;
    const starts = files.starts ?? lineStarts(base);
    const startOf = (line: number): number => (line < starts.length ? starts[line]! : base.length);
    const parts: Buffer[] = [];
    let line = 0;
    for (const key of keys) {
      const wanted = Buffer.from(key, 'latin1');
      let lo = line;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareSerial(base, starts[mid]!, wanted) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (startOf(lo) > startOf(line)) parts.push(base.subarray(startOf(line), startOf(lo)));
      parts.push(Buffer.from(`${key}\t${files.delta.get(key)}\n`));
      line = lo < starts.length && compareSerial(base, starts[lo]!, wanted) === 0 ? lo + 1 : lo;
    }
    parts.push(base.subarray(startOf(line)));
    const merged = Buffer.concat(parts);
    const mergedStarts = lineStarts(merged);
    writeFileDurably(this.path('index', `${issuerKey}.idx`), merged);
    writeFileDurably(this.path('index', `${issuerKey}.keys`), keyTable(merged, mergedStarts));
    writeFileDurably(this.path('index', `${issuerKey}.delta`), '');
    files.base = merged;
    files.starts = mergedStarts;
    files.delta.clear();
    files.deltaBytes = 0;
  }

  async addSnapshot(snapshot: SnapshotRef): Promise<void> {
    const known = await this.snapshots(snapshot.url);
    if (known.some((s) => s.sweep === snapshot.sweep && s.sha256 === snapshot.sha256)) return;
    appendLinesDurably(this.path('urls', `${urlId(snapshot.url)}.snapshots`), `${JSON.stringify(snapshot)}\n`);
  }

  async snapshots(url: string): Promise<SnapshotRef[]> {
    return this.jsonLines<SnapshotRef>(this.path('urls', `${urlId(url)}.snapshots`));
  }

  async segments(url: string): Promise<ChangeSegment[]> {
    return this.jsonLines<ChangeSegment>(this.path('urls', `${urlId(url)}.changes`));
  }

  private jsonLines<T>(path: string): T[] {
    if (!existsSync(path)) return [];
    return completeLines(readFileSync(path, 'utf8')).map((l) => JSON.parse(l) as T);
  }

  /**
   * For each of `issuerKeys`, the records it holds of `serials` (`lookup`, many serials, often every issuer):
   * each serial's fingerprint is made once, each issuer's .keys table merged against them, and only a
   * matching line read from its .idx. The answer is what `records` would give issuer by issuer.
   */
  async recordsOfMany(issuerKeys: readonly string[], serials: readonly string[]): Promise<Map<string, Map<string, IndexRecord>>> {
    const wanted = new Set(serials);
    const distinct = [...wanted];
    const prints = new Uint32Array(distinct.length);
    for (let i = 0; i < distinct.length; i++) prints[i] = fingerprint(distinct[i]!);
    const order = orderByPrint(prints);
    const sortedPrints = Uint32Array.from(order, (i) => prints[i]!);
    const out = new Map<string, Map<string, IndexRecord>>();
    for (const issuerKey of issuerKeys) {
      const found = new Map<string, IndexRecord>();
      out.set(issuerKey, found);
      const idxPath = this.path('index', `${issuerKey}.idx`);
      const delta = this.deltaOf(issuerKey);
      const urls = () => this.urlsOf(issuerKey);
      for (const [serial, packed] of delta) if (wanted.has(serial)) found.set(serial, unpack(issuerKey, serial, packed, urls()));
      if (!existsSync(idxPath)) continue;
      const table = this.keyTableOf(issuerKey, idxPath);
      if (table.length === 0) continue;
      const fd = openSync(idxPath, 'r');
      try {
        // A merge of two sorted lists of fingerprints: O(serials + table) per issuer.
        let j = 0;
        const n = table.length / 2;
        for (let q = 0; q < sortedPrints.length && j < n; q++) {
          const p = sortedPrints[q]!;
          while (j < n && table[2 * j]! < p) j++;
          for (let k = j; k < n && table[2 * k] === p; k++) {
            const serial = distinct[order[q]!]!;
            if (found.has(serial)) break;
            const packed = readLineAt(fd, table[2 * k + 1]!, serial);
            if (packed !== null) found.set(serial, unpack(issuerKey, serial, packed, urls()));
          }
        }
      } finally {
        closeSync(fd);
      }
    }
    return out;
  }

  /** An issuer's delta records, from the held files or read alone (without its .idx). */
  private deltaOf(issuerKey: string): Map<string, string> {
    const held = this.issuers.get(issuerKey);
    if (held) return held.delta;
    const delta = new Map<string, string>();
    const deltaPath = this.path('index', `${issuerKey}.delta`);
    if (existsSync(deltaPath)) {
      for (const line of completeLines(readFileSync(deltaPath, 'utf8'))) {
        const tab = line.indexOf('\t');
        if (tab > 0) delta.set(line.slice(0, tab), line.slice(tab + 1));
      }
    }
    return delta;
  }

  private readonly urlLists = new Map<string, string[]>();
  private urlsOf(issuerKey: string): string[] {
    const held = this.issuers.get(issuerKey);
    if (held) return held.urls;
    let urls = this.urlLists.get(issuerKey);
    if (!urls) {
      const urlsPath = this.path('index', `${issuerKey}.urls`);
      urls = existsSync(urlsPath) ? (JSON.parse(readFileSync(urlsPath, 'utf8')) as string[]) : [];
      this.urlLists.set(issuerKey, urls);
    }
    return urls;
  }

  /** The .keys table of an .idx: its serials' fingerprints and line offsets, interleaved, sorted by fingerprint. */
  private keyTableOf(issuerKey: string, idxPath: string): Uint32Array {
    const keysPath = this.path('index', `${issuerKey}.keys`);
    const idxBytes = statSync(idxPath).size;
    if (existsSync(keysPath)) {
      const raw = readFileSync(keysPath);
      if (raw.length >= 8 && raw.length % 8 === 0 && raw.readDoubleLE(0) === idxBytes) {
        const copy = new Uint32Array(raw.length / 4 - 2);
        for (let i = 0; i < copy.length; i++) copy[i] = raw.readUInt32LE(8 + 4 * i);
        return copy;
      }
    }
    const table = keyTable(readFileSync(idxPath));
    return new Uint32Array(table.buffer, table.byteOffset + 8, table.length / 4 - 2).slice();
  }

  /** Bytes on disk of the index proper (sorted files, deltas, URL lists), for the data-model figures. */
  indexBytes(): number {
    const dir = this.path('index');
    if (!existsSync(dir)) return 0;
    return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  }
}

/** Where each line of a sorted "<serial>\t<record>\n" buffer starts: one pass, so a lookup is a binary search over lines. */
export function lineStarts(buf: Buffer): Uint32Array {
  let n = 0;
  for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) n++;
  const starts = new Uint32Array(n);
  let line = 0;
  let start = 0;
  for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) {
    starts[line++] = start;
    start = at + 1;
  }
  return starts;
}

/** FNV-1a over the serial's characters (or bytes: serials are ASCII hex), 32 bits. */
function fingerprint(serial: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serial.length; i++) h = Math.imul(h ^ serial.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The .keys file of a sorted .idx buffer: the .idx's length (a float64, to tell a stale table), then for each
 * line its serial's fingerprint and its offset (uint32 each, little-endian), sorted by fingerprint.
 */
export function keyTable(idx: Buffer, starts: Uint32Array = lineStarts(idx)): Buffer {
  const prints = new Uint32Array(starts.length);
  for (let line = 0; line < starts.length; line++) {
    let h = 0x811c9dc5;
    for (let at = starts[line]!; idx[at] !== 9; at++) h = Math.imul(h ^ idx[at]!, 0x01000193);
    prints[line] = h >>> 0;
  }
  const order = orderByPrint(prints);
  const out = Buffer.allocUnsafe(8 + 8 * starts.length);
  out.writeDoubleLE(idx.length, 0);
  for (let i = 0; i < order.length; i++) {
    out.writeUInt32LE(prints[order[i]!]!, 8 + 8 * i);
    out.writeUInt32LE(starts[order[i]!]!, 12 + 8 * i);
  }
  return out;
}

/** The positions of `prints` in ascending order (stable): a two-pass radix sort, linear where a compared sort is not. */
function orderByPrint(prints: Uint32Array): Uint32Array {
  let order = Uint32Array.from(prints.keys());
  let next = new Uint32Array(prints.length);
  for (const shift of [0, 16]) {
    const counts = new Uint32Array(65_537);
    for (let i = 0; i < prints.length; i++) counts[((prints[i]! >>> shift) & 0xffff) + 1]!++;
    for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
    for (let i = 0; i < order.length; i++) {
      const at = order[i]!;
      next[counts[(prints[at]! >>> shift) & 0xffff]!++] = at;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** The record on the line at `offset` of an open .idx, if that line is `serial`'s. */
function readLineAt(fd: number, offset: number, serial: string): string | null {
  let size = 512;
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const got = readSync(fd, buf, 0, size, offset);
    const nl = buf.indexOf(10);
    if (nl < 0 || nl >= got) {
      if (got < size) return null;
      size *= 4;
      continue;
    }
    const tab = buf.indexOf(9);
    if (tab !== serial.length || buf.toString('latin1', 0, tab) !== serial) return null;
    return buf.toString('utf8', tab + 1, nl);
  }
}

/** Compares a line's serial (bytes from `start` to its tab) with `key` as strings compare: byte order, shorter first. */
function compareSerial(buf: Buffer, start: number, key: Buffer): number {
  for (let i = 0; ; i++) {
    const b = buf[start + i]!;
    const atEnd = b === 9;
    if (i === key.length) return atEnd ? 0 : 1;
    if (atEnd) return -1;
    const d = b - key[i]!;
    if (d !== 0) return d;
  }
}

/** The record of `serial` in a sorted "<serial>\t<record>\n" buffer, by binary search over its lines. */
export function findLine(buf: Buffer, serial: string, starts: Uint32Array = lineStarts(buf)): string | null {
  const key = Buffer.from(serial, 'latin1');
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const start = starts[mid]!;
    const c = compareSerial(buf, start, key);
    if (c === 0) {
      const tab = start + key.length;
      return buf.toString('utf8', tab + 1, buf.indexOf(10, tab));
    }
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return null;
}

const positionOf = (urls: string[], url: string): number => {
  let i = urls.indexOf(url);
  if (i < 0) i = urls.push(url) - 1;
  return i;
};

/** A record as one compact line: [[url#, firstSeen, notListedAt, removed]…], [[url#, sweep, revocationDate s, reason]…]. */
function pack(r: IndexRecord, urls: string[]): string {
  const listings: PackedListing[] = r.listings.map((l) => [positionOf(urls, l.url), l.firstSeen, l.notListedAt, l.removed]);
  const claims: PackedClaim[] = r.claims.map((c) => [positionOf(urls, c.url), c.sweep, c.revocationDate / 1000, c.reasonCode]);
  return JSON.stringify([listings, claims]);
}

function unpack(issuerKey: string, serial: string, packed: string, urls: readonly string[]): IndexRecord {
  const [listings, claims] = JSON.parse(packed) as [PackedListing[], PackedClaim[]];
  return {
    issuerKey,
    serial,
    listings: listings.map(([u, firstSeen, notListedAt, removed]): Listing => ({ url: urls[u]!, firstSeen, notListedAt, removed })),
    claims: claims.map(([u, sweep, date, reasonCode]): Claim => ({ url: urls[u]!, sweep, revocationDate: date * 1000, reasonCode })),
  };
}
