/**
 * The revocation index as local files under <home>/sweep/ (layout and sizes:
 * docs/data-model.md, "The revocation index"):
 *
 *   urls/<url id>.changes       a URL's change segments, one JSON line per changed snapshot (append-only)
 *   urls/<url id>.snapshots     a URL's distinct snapshots, one JSON line each (append-only)
 *   index/<issuer key>.idx      the folded records, one line per serial, sorted: "<serial>\t<record>\n"
 *   index/<issuer key>.delta    records folded since the last compaction, appended; a later line wins
 *   index/<issuer key>.urls     the URLs the records of that issuer refer to by position (JSON array)
 *
 * A lookup binary-searches the sorted .idx held in memory (as look(1) does on
 * a sorted text file: no offset table to keep in step) and consults the
 * delta, which is read once into a map. A commit appends to the delta; when
 * the delta outgrows an eighth of the .idx it is merged into a new .idx
 * (written whole, then renamed), so a changed CRL costs its difference and the
 * merge is paid once per eighth of growth.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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

  /** Merges the delta into a new sorted file; a crash before the delta is emptied replays it onto the same records. */
  private compact(issuerKey: string, files: IssuerFiles): void {
    const keys = [...files.delta.keys()].sort();
    const parts: string[] = [];
    const base = files.base;
    let at = 0;
    let k = 0;
    while (at < base.length || k < keys.length) {
      const nl = at < base.length ? base.indexOf(10, at) : -1;
      const tab = at < base.length ? base.indexOf(9, at) : -1;
      const baseSerial = at < base.length ? base.toString('latin1', at, tab) : null;
      const key = keys[k];
      if (baseSerial !== null && (key === undefined || baseSerial < key)) {
        parts.push(base.toString('utf8', at, nl + 1));
        at = nl + 1;
      } else {
        parts.push(`${key}\t${files.delta.get(key!)}\n`);
        if (baseSerial === key) at = nl + 1;
        k++;
      }
    }
    const merged = Buffer.from(parts.join(''));
    writeFileDurably(this.path('index', `${issuerKey}.idx`), merged);
    writeFileDurably(this.path('index', `${issuerKey}.delta`), '');
    files.base = merged;
    files.starts = null;
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
