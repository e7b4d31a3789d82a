/**
 * The revocation index as local files under <home>/sweep/ (layout and sizes:
 * docs/data-model.md, "The revocation index"):
 *
 *   urls/<url id>.changes       a URL's change segments, one JSON line per changed snapshot (append-only); a
 *                               segment with no previous snapshot adds every entry of its own, which is kept by
 *                               hash in <home>/crls/: its line names that CRL instead of listing them again
 *   urls/<url id>.snapshots     a URL's distinct snapshots, one JSON line each (append-only)
 *   index/<issuer key>.idx      the folded records, one line per serial, sorted: "<serial>\t<record>\n"
 *   index/<issuer key>.delta    records folded since the last compaction, appended; a later line wins
 *   index/<issuer key>.urls     the URLs the records of that issuer refer to by position (JSON array)
 *   index/<issuer key>.keys     the .idx's serials as 32-bit fingerprints with their line offsets, sorted
 *
 * A lookup binary-searches the sorted .idx held in memory (as look(1) does on
 * a sorted text file: no offset table to keep in step) and consults the
 * delta, which is read once into a map. A commit appends to the delta; when
 * the delta outgrows a quarter of the .idx it is merged into a new .idx
 * (written whole, then renamed), so a changed CRL costs its difference and the
 * merge is paid once per quarter of growth.
 *
 * `lookup` without an issuer asks every issuer for every serial. The .keys
 * table (8 bytes a serial, written beside each new .idx) answers that without
 * reading the records: all the serials' fingerprints are sorted once and
 * merged against each issuer's table, and only a matching line is read from
 * the .idx, at its offset. A .keys that does not belong to the .idx beside it
 * (a crash between the two writes, an index made before it existed) is rebuilt
 * in memory from the .idx.
 *
 * Writes go through a WriteQueue (durable-files.ts), one chain per issuer's
 * files and one per URL's logs, flushed and renamed as before but off the event
 * loop. Made with `writeBehind`, a commit returns once its records are folded
 * in memory and its writes queued, and `flush` (the sweep's last step before it
 * saves its state) waits for them and throws the first that failed: a sweep
 * cut short before then leaves the state of the sweep before, and its re-run
 * folds the same segments onto the same records. Queued writes of one file
 * are merged: appends to an issuer's delta become one write and one flush,
 * and a sorted file that a later merge replaces is not written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangeSegment, IndexRecord, Listing, RevocationIndexStore, SnapshotRef } from '../../ports/revocation-index.js';
import { appendLinesAsync, completeLines, replaceFileAsync, WriteQueue } from './durable-files.js';
import { lookupRecords, orderByPrint, unpack } from './revocation-index-lookup.js';
import { readCrlEntries } from '../../sweep/crl-entries.js';
import { StoreUnavailableError } from '../../errors.js';
import { fsReason } from '../../util/fs-reason.js';

/** A change segment's line when it added every entry of its snapshot (kept by hash): the CRL is named, not copied. */
type SegmentOfEveryEntry = Omit<ChangeSegment, 'added'> & { readonly added: { readonly everyEntryOf: string } };

/** The short name of a URL's files: 16 hex digits of its SHA-256. */
export const urlId = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

/** The name of a URL's snapshot log under urls/ (the store appends it; `lookup` reads every URL's in one pass). */
export const snapshotsFileName = (url: string): string => `${urlId(url)}.snapshots`;

/**
 * Compaction threshold: the delta is merged once it would exceed this share of the sorted file (or 256 KiB).
 * A quarter: the first sweep of a partitioned set grows an issuer's file shard by shard, and each merge
 * copies the whole file, so the share bounds the copies (about 1 + 1/share times the file's final size).
 */
const COMPACT_FRACTION = 4;
const COMPACT_MIN_BYTES = 256 * 1024;
/** Issuers' files held in memory at once, by their bytes: at WebPKI scale all of them would be most of a gigabyte. */
const HELD_BYTES = 192 * 1024 * 1024;

interface IssuerFiles {
  base: Buffer;
  /** Where each line of `base` starts; made on first lookup. */
  starts: Uint32Array | null;
  /** Each line's serial prefix (`prefixKey`), made on first lookup; null when not made (or a serial is not hex). */
  prefixes: Uint32Array | null;
  delta: Map<string, string>;
  deltaBytes: number;
  urls: string[];
  /** Each URL's position in `urls`. */
  positions: Map<string, number>;
  /** How many of `urls` the .urls file on disk holds (or has been queued to hold). */
  urlsWritten: number;
  /** Delta lines folded but not yet appended; replaced (and emptied) by a merge, which holds them. */
  pending: { lines: Buffer[] };
  /** Merges made: a queued write of a sorted file that a later merge replaces is skipped. */
  merges: number;
}

export interface RevocationIndexOptions {
  /** Commits return before their writes are flushed; `flush` waits for them (the sweep). Default: each commit waits. */
  readonly writeBehind?: boolean;
}

export class RevocationIndexFiles implements RevocationIndexStore {
  private readonly dir: string;
  /** Where the sweep keeps each CRL by hash (evidence-files.ts). */
  private readonly crlDir: string;
  private readonly issuers = new Map<string, IssuerFiles>();
  private readonly loading = new Map<string, Promise<IssuerFiles>>();
  private readonly queue = new WriteQueue();
  private readonly writeBehind: boolean;
  /** Issuers whose .idx was replaced while writing behind: their .keys is written once, by `flush`. */
  private readonly keysDue = new Set<string>();
  /** Issuers committed to by this instance (their files may still be queued). */
  private readonly committed = new Set<string>();

  constructor(home: string, options: RevocationIndexOptions = {}) {
    this.dir = join(home, 'sweep');
    this.crlDir = join(home, 'crls');
    this.writeBehind = options.writeBehind ?? false;
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  private async issuer(issuerKey: string): Promise<IssuerFiles> {
    const cached = this.issuers.get(issuerKey);
    if (cached) {
      this.issuers.delete(issuerKey);
      this.issuers.set(issuerKey, cached);
      return cached;
    }
    const loading = this.loading.get(issuerKey);
    if (loading) return loading;
    const load = this.load(issuerKey);
    this.loading.set(issuerKey, load);
    try {
      return await load;
    } finally {
      this.loading.delete(issuerKey);
    }
  }

  /** Reads an issuer's files, once the writes queued for them have landed. */
  private async load(issuerKey: string): Promise<IssuerFiles> {
    await this.queue.idle(issuerKey);
    const basePath = this.path('index', `${issuerKey}.idx`);
    const deltaPath = this.path('index', `${issuerKey}.delta`);
    const urlsPath = this.path('index', `${issuerKey}.urls`);
    const [base, deltaText, urlsText] = await Promise.all([readOrNull(basePath), readOrNull(deltaPath), readOrNull(urlsPath)]);
    const delta = new Map<string, string>();
    let deltaBytes = 0;
    if (deltaText) {
      const text = deltaText.toString('utf8');
      deltaBytes = text.length;
      for (const line of completeLines(text)) {
        const tab = line.indexOf('\t');
        if (tab > 0) delta.set(line.slice(0, tab), line.slice(tab + 1));
      }
    }
    const urls = urlsText ? (JSON.parse(urlsText.toString('utf8')) as string[]) : [];
    const files: IssuerFiles = {
      base: base ?? Buffer.alloc(0),
      starts: null,
      prefixes: null,
      delta,
      deltaBytes,
      urls,
      positions: new Map(urls.map((u, i) => [u, i])),
      urlsWritten: urls.length,
      pending: { lines: [] },
      merges: 0,
    };
    this.issuers.set(issuerKey, files);
    this.evict(issuerKey);
    return files;
  }

  /** Lets go of the least recently used issuers beyond HELD_BYTES (their writes stay queued; a reload waits for them). */
  private evict(keep: string): void {
    let held = 0;
    for (const f of this.issuers.values()) held += f.base.length + 3 * f.deltaBytes;
    for (const [key, f] of this.issuers) {
      if (held <= HELD_BYTES) return;
      if (key === keep) continue;
      held -= f.base.length + 3 * f.deltaBytes;
      this.issuers.delete(key);
    }
  }

  async records(issuerKey: string, serials: readonly string[]): Promise<Map<string, IndexRecord>> {
    const files = await this.issuer(issuerKey);
    const out = new Map<string, IndexRecord>();
    // An issuer with no records yet (each issuer's first CRL in a first sweep): nothing to look for.
    if (files.base.length === 0 && files.delta.size === 0) return out;
    files.starts ??= lineStarts(files.base);
    const starts = files.starts;
    files.prefixes ??= linePrefixes(files.base, starts);
    const lines = { buf: files.base, starts, prefixes: files.prefixes };
    const inDelta = files.delta.size > 0;
    // Serials asked in ascending order (a CRL's entries, sorted) are searched from where the previous one was
    // found, widening by doubling: a shard's serials cost a few comparisons each, not a full search.
    let from = 0;
    let previous = '';
    for (const serial of serials) {
      if (serial <= previous) from = 0;
      previous = serial;
      const line = lineAtOrAfter(lines, serial, from);
      from = line;
      const packed =
        (inDelta ? files.delta.get(serial) : undefined) ??
        (line < starts.length && compareSerial(files.base, starts[line]!, serial) === 0
          ? recordAt(files.base, starts[line]!, serial)
          : null);
      if (packed !== null) out.set(serial, unpack(issuerKey, serial, packed, files.urls));
    }
    return out;
  }

  async issuerKeys(): Promise<string[]> {
    const dir = this.path('index');
    const onDisk = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => /^[0-9a-f]{64}\.(idx|delta)$/.test(f))
          .map((f) => f.slice(0, 64))
      : [];
    return [...new Set([...onDisk, ...this.committed])].sort();
  }

  async commit(segment: ChangeSegment, records: readonly IndexRecord[]): Promise<void> {
    const issuerKey = segment.issuerKey;
    const failed = this.queue.failure(issuerKey);
    if (failed) throw failed;
    const changesPath = this.path('urls', `${urlId(segment.url)}.changes`);
    // A first read adds every entry of its CRL: the line names the kept CRL (the signed source of the entries)
    // rather than repeating them, which made the logs of a first sweep larger than the CRLs themselves.
    const changesText = segmentLine(segment, segment.previousSha256 === null && existsSync(this.crlPath(segment.sha256)));
    // The segment first (the source of truth); the issuer's writes wait for it, and are not made without it.
    const segmentWritten = this.queue.enqueue(changesPath, changesPath, () => appendLinesAsync(changesPath, changesText));
    if (records.length === 0) return this.settled(changesPath, segmentWritten);
    const files = await this.issuer(issuerKey);
    this.committed.add(issuerKey);
    // The records as index lines, in serial order, written straight into one buffer (no string per record).
    const incoming = packedLines(records, files);
    const bytes = incoming.buf.length;
    // A large change (every entry of a first sweep) is merged straight into the .idx: its records never enter
    // the delta's map, which would hold a string pair per entry until the merge and sort them all again.
    const mergeNow = files.deltaBytes + bytes > Math.max(COMPACT_MIN_BYTES, files.base.length / COMPACT_FRACTION);
    if (!mergeNow) eachLine(incoming, (serial, packed) => files.delta.set(serial, packed));
    const afterSegment = async (): Promise<void> => {
      await segmentWritten;
      const lost = this.queue.failure(changesPath);
      if (lost) throw lost;
    };
    // The URL list first: a record must never name a position the list does not have. A later list is the
    // same list with URLs added, so a queued write takes the list as it is when it runs, and one that finds
    // it written already does nothing.
    if (files.urls.length !== files.urlsWritten) {
      const urlsPath = this.path('index', `${issuerKey}.urls`);
      this.queue.enqueue(issuerKey, urlsPath, async () => {
        await afterSegment();
        const count = files.urls.length;
        if (count === files.urlsWritten) return;
        await replaceFileAsync(urlsPath, Buffer.from(JSON.stringify(files.urls.slice(0, count))));
        files.urlsWritten = count;
      });
    }
    let done: Promise<void>;
    if (mergeNow) {
      // Merged at once, these records with the delta: a large change is not written to the delta first.
      done = this.compact(issuerKey, files, afterSegment, incoming);
    } else {
      const pending = files.pending;
      pending.lines.push(incoming.buf);
      files.deltaBytes += bytes;
      const deltaPath = this.path('index', `${issuerKey}.delta`);
      done = this.queue.enqueue(issuerKey, deltaPath, async () => {
        await afterSegment();
        if (pending.lines.length === 0) return;
        const text = Buffer.concat(pending.lines);
        pending.lines = [];
        await appendLinesAsync(deltaPath, text);
      });
    }
    return this.settled(issuerKey, done);
  }

  /** Without writeBehind, a commit waits for its writes and throws what failed; with it, `flush` does. */
  private async settled(key: string, written: Promise<void>): Promise<void> {
    if (this.writeBehind) return;
    await written;
    const failed = this.queue.failure(key) ?? this.queue.failure();
    if (failed) throw failed;
  }

  /**
   * Waits for every queued write and throws the first that failed; then writes the .keys of each issuer
   * whose sorted file changed (once, not at every merge of the sweep).
   */
  async flush(): Promise<void> {
    await this.queue.flush();
    for (const issuerKey of [...this.keysDue]) {
      this.keysDue.delete(issuerKey);
      const files = await this.issuer(issuerKey);
      files.starts ??= lineStarts(files.base);
      const table = keyTable(files.base, files.starts);
      const keysPath = this.path('index', `${issuerKey}.keys`);
      this.queue.enqueue(issuerKey, keysPath, () => replaceFileAsync(keysPath, table));
    }
    await this.queue.flush();
  }

  /**
   * Merges the delta (and a commit's lines) into a new sorted file; a crash before the delta is emptied replays it
   * onto the same records. The three are sorted runs of lines merged in one pass (a later fold wins a serial): the
   * .idx's lines between two newer serials are copied as one slice, and the merged file's line starts are kept
   * as they are written, so a merge costs a copy of the file and a comparison per line, not a string per line.
   */
  private compact(issuerKey: string, files: IssuerFiles, before: () => Promise<void>, incoming: LineBlock = EMPTY_BLOCK): Promise<void> {
    const newer = files.delta.size > 0 ? mergeBlocks(deltaBlock(files.delta), incoming) : incoming;
    const merged = mergeBlocks({ buf: files.base, starts: files.starts ?? lineStarts(files.base) }, newer);
    files.base = merged.buf;
    files.starts = merged.starts;
    files.prefixes = null;
    files.delta.clear();
    files.deltaBytes = 0;
    // Lines not yet appended are in the merged file: the appends queued for them find nothing to write.
    files.pending.lines = [];
    files.pending = { lines: [] };
    const merge = ++files.merges;
    const idxPath = this.path('index', `${issuerKey}.idx`);
    const keysPath = this.path('index', `${issuerKey}.keys`);
    const deltaPath = this.path('index', `${issuerKey}.delta`);
    const keys_ = this.writeBehind ? null : keyTable(merged.buf, merged.starts);
    if (this.writeBehind) this.keysDue.add(issuerKey);
    return this.queue.enqueue(issuerKey, idxPath, async () => {
      await before();
      // A later merge of this issuer is queued: it holds these lines too, and writes them. (The file is taken
      // from `files` when written, so a queue of merges holds no copies of it.)
      if (merge !== files.merges) return;
      await replaceFileAsync(idxPath, files.base);
      if (keys_) await replaceFileAsync(keysPath, keys_);
      await replaceFileAsync(deltaPath, new Uint8Array(0));
    });
  }

  async addSnapshot(snapshot: SnapshotRef): Promise<void> {
    const known = await this.snapshots(snapshot.url);
    if (known.some((s) => s.sweep === snapshot.sweep && s.sha256 === snapshot.sha256)) return;
    const path = this.path('urls', snapshotsFileName(snapshot.url));
    const text = `${JSON.stringify(snapshot)}\n`;
    return this.settled(
      path,
      this.queue.enqueue(path, path, () => appendLinesAsync(path, text)),
    );
  }

  async snapshots(url: string): Promise<SnapshotRef[]> {
    return this.jsonLines<SnapshotRef>(this.path('urls', snapshotsFileName(url)));
  }

  async segments(url: string): Promise<ChangeSegment[]> {
    const lines = await this.jsonLines<ChangeSegment | SegmentOfEveryEntry>(this.path('urls', `${urlId(url)}.changes`));
    return lines.map((line) => (Array.isArray(line.added) ? (line as ChangeSegment) : this.everyEntry(line as SegmentOfEveryEntry)));
  }

  private crlPath(sha256: string): string {
    return join(this.crlDir, `${sha256}.crl`);
  }

  /** A segment whose line names its CRL, with the entries read from that CRL as the sweep read them. */
  private everyEntry(line: SegmentOfEveryEntry): ChangeSegment {
    const path = this.crlPath(line.added.everyEntryOf);
    let der: Buffer;
    try {
      der = readFileSync(path);
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot read ${path}, the CRL whose entries a change segment of ${line.url} added: ${fsReason(err)}`,
        {
          cause: err,
        },
      );
    }
    // Kept by hash: a file whose bytes are not that hash (damaged on disk) is not the CRL the line names.
    if (createHash('sha256').update(der).digest('hex') !== line.added.everyEntryOf)
      throw new StoreUnavailableError(`${path}, the CRL whose entries a change segment of ${line.url} added, does not hash to its name`);
    const added = readCrlEntries(der).map((e) => [e.serial, e.revocationDate, e.reasonCode] as const);
    return { ...line, added };
  }

  /** A log's complete lines, once the appends queued for it have landed. */
  private async jsonLines<T>(path: string): Promise<T[]> {
    await this.queue.idle(path);
    if (!existsSync(path)) return [];
    return completeLines(readFileSync(path, 'utf8')).map((l) => JSON.parse(l) as T);
  }

  /**
   * For each of `issuerKeys`, the records it holds of `serials` (`lookup`, many serials, often every issuer), once
   * the writes queued for them have landed: the same answer as `records` issuer by issuer, from the .keys tables
   * and only the matching lines of each .idx (revocation-index-lookup.ts).
   */
  async recordsOfMany(issuerKeys: readonly string[], serials: readonly string[]): Promise<Map<string, Map<string, IndexRecord>>> {
    for (const issuerKey of issuerKeys) await this.queue.idle(issuerKey);
    return lookupRecords(this.path('index'), issuerKeys, serials, (issuerKey) => this.issuers.get(issuerKey), keyTable);
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

/** Compares a line's serial (bytes from `start` to its tab) with `key` as strings compare: byte order, shorter first. */
function compareSerial(buf: Buffer, start: number, key: string): number {
  for (let i = 0; ; i++) {
    const b = buf[start + i]!;
    const atEnd = b === 9;
    if (i === key.length) return atEnd ? 0 : 1;
    if (atEnd) return -1;
    const d = b - key.charCodeAt(i);
    if (d !== 0) return d;
  }
}

/**
 * The first line at or after `from` whose serial is not below `key`: a doubling step from `from`, then a binary
 * search. Lines are compared by their prefix keys first (integers), by their bytes only where those are equal.
 */
function lineAtOrAfter(
  lines: { readonly buf: Buffer; readonly starts: Uint32Array; readonly prefixes: Uint32Array | null },
  key: string,
  from: number,
): number {
  const { starts, prefixes } = lines;
  const prefix = prefixes ? prefixKey(key) : -1;
  const below = (line: number): boolean => lineBelow(lines, line, prefix, key);
  let lo = from;
  let step = 1;
  let hi = from;
  while (hi < starts.length && below(hi)) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  if (hi > starts.length) hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether a line's serial is below `key` (whose prefix key is `prefix`, -1 when not used). */
function lineBelow(
  lines: { readonly buf: Buffer; readonly starts: Uint32Array; readonly prefixes: Uint32Array | null },
  line: number,
  prefix: number,
  key: string,
): boolean {
  if (prefix >= 0) {
    const p = lines.prefixes![line]!;
    if (p !== prefix) return p < prefix;
  }
  return compareSerial(lines.buf, lines.starts[line]!, key) < 0;
}

/** Characters of a serial as digits of base PREFIX_BASE in the order their bytes compare ('-' < '0'…'9' < 'a'…'f'); 0 is past the end. */
const PREFIX_BASE = 18;
const PREFIX_CHARS = 7;
const prefixDigit = (c: number): number =>
  c === 0x2d ? 1 : c >= 0x30 && c <= 0x39 ? c - 0x30 + 2 : c >= 0x61 && c <= 0x66 ? c - 0x61 + 12 : -1;

/**
 * A serial's first 7 characters as one number below 2^32 (18^7), ordered as the strings are: two serials whose
 * keys differ compare as their keys do. -1 for a character no hex serial has (the caller then compares bytes).
 */
function prefixKey(serial: string): number {
  let k = 0;
  for (let i = 0; i < PREFIX_CHARS; i++) {
    const d = i < serial.length ? prefixDigit(serial.charCodeAt(i)) : 0;
    if (d < 0) return -1;
    k = k * PREFIX_BASE + d;
  }
  return k;
}

/** Each line's prefix key (its serial up to the tab); null when a serial has a character outside hex. */
function linePrefixes(buf: Buffer, starts: Uint32Array): Uint32Array | null {
  const out = new Uint32Array(starts.length);
  for (let line = 0; line < starts.length; line++) {
    const start = starts[line]!;
    let k = 0;
    let ended = false;
    for (let i = 0; i < PREFIX_CHARS; i++) {
      if (!ended && buf[start + i] === 9) ended = true;
      const d = ended ? 0 : prefixDigit(buf[start + i]!);
      if (d < 0) return null;
      k = k * PREFIX_BASE + d;
    }
    out[line] = k;
  }
  return out;
}

/** The record on the line starting at `start`, whose serial is `serial`. */
function recordAt(buf: Buffer, start: number, serial: string): string {
  const tab = start + serial.length;
  return buf.toString('utf8', tab + 1, buf.indexOf(10, tab));
}

/** The record of `serial` in a sorted "<serial>\t<record>\n" buffer, by binary search over its lines. */
export function findLine(buf: Buffer, serial: string, starts: Uint32Array = lineStarts(buf)): string | null {
  const key = serial;
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

/** Sorted index lines ("<serial>\t<record>\n", each serial once) in one buffer, with where each line starts. */
interface LineBlock {
  readonly buf: Buffer;
  readonly starts: Uint32Array;
}

const EMPTY_BLOCK: LineBlock = { buf: Buffer.alloc(0), starts: new Uint32Array(0) };

/** Bytes enough for one packed listing or claim: four numbers (a double spells in at most 24 characters) and punctuation. */
const PACKED_PART_BYTES = 112;

/**
 * A commit's records as index lines in serial order (a CRL's entries mostly come sorted: then no sort), written
 * straight into one buffer: a first sweep packs a record per CRL entry, and a string per record (then a Buffer
 * per run of them) was most of its index work. A serial twice in one commit: the later record wins, as it would
 * in the delta's map.
 */
function packedLines(records: readonly IndexRecord[], files: IssuerFiles): LineBlock {
  const n = records.length;
  let order: number[] | null = null;
  for (let i = 1; i < n; i++) {
    if (!(records[i - 1]!.serial < records[i]!.serial)) {
      order = Array.from(records.keys()).sort((a, b) =>
        records[a]!.serial < records[b]!.serial ? -1 : records[a]!.serial > records[b]!.serial ? 1 : a - b,
      );
      break;
    }
  }
  const starts = new Uint32Array(n);
  let buf = Buffer.allocUnsafe(Math.max(1024, n * 96));
  let pos = 0;
  let lines = 0;
  let last = '';
  for (let k = 0; k < n; k++) {
    const r = records[order ? order[k]! : k]!;
    if (lines > 0 && r.serial === last) pos = starts[--lines]!;
    const need = r.serial.length + 8 + PACKED_PART_BYTES * (r.listings.length + r.claims.length);
    if (pos + need > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * buf.length, pos + need));
      buf.copy(grown, 0, 0, pos);
      buf = grown;
    }
    starts[lines++] = pos;
    pos = writeAscii(buf, pos, r.serial);
    buf[pos++] = 9;
    pos = packInto(buf, pos, r, files);
    buf[pos++] = 10;
    last = r.serial;
  }
  return { buf: buf.subarray(0, pos), starts: starts.subarray(0, lines) };
}

/** The delta's lines as a sorted block. */
function deltaBlock(delta: ReadonlyMap<string, string>): LineBlock {
  const keys = [...delta.keys()].sort();
  let bytes = 0;
  for (const k of keys) bytes += k.length + delta.get(k)!.length + 2;
  const buf = Buffer.allocUnsafe(bytes);
  const starts = new Uint32Array(keys.length);
  let pos = 0;
  for (let i = 0; i < keys.length; i++) {
    starts[i] = pos;
    pos = writeAscii(buf, pos, keys[i]!);
    buf[pos++] = 9;
    pos = writeAscii(buf, pos, delta.get(keys[i]!)!);
    buf[pos++] = 10;
  }
  return { buf, starts };
}

/** Each line of a block as its serial and packed record. */
function eachLine(block: LineBlock, each: (serial: string, packed: string) => void): void {
  const { buf, starts } = block;
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]! : buf.length;
    const tab = buf.indexOf(9, start);
    each(buf.toString('latin1', start, tab), buf.toString('latin1', tab + 1, end - 1));
  }
}

/** Compares the serials of two lines (each up to its tab) as strings compare: byte order, shorter first. */
function compareLines(a: Buffer, at: number, b: Buffer, bt: number): number {
  for (let i = 0; ; i++) {
    const x = a[at + i]!;
    const y = b[bt + i]!;
    if (x === 9) return y === 9 ? 0 : -1;
    if (y === 9) return 1;
    if (x !== y) return x - y;
  }
}

/**
 * Two sorted blocks merged into one; a serial in both keeps the newer's line. The older's lines before the next
 * newer line are copied as one slice; the merged line starts are recorded as lines are placed.
 */
function mergeBlocks(older: LineBlock, newer: LineBlock): LineBlock {
  if (newer.starts.length === 0) return older;
  if (older.starts.length === 0) return newer;
  const a = older.buf;
  const as = older.starts;
  const b = newer.buf;
  const bs = newer.starts;
  const out = Buffer.allocUnsafe(a.length + b.length);
  const starts = new Uint32Array(as.length + bs.length);
  const endA = (i: number): number => (i + 1 < as.length ? as[i + 1]! : a.length);
  const endB = (j: number): number => (j + 1 < bs.length ? bs[j + 1]! : b.length);
  let i = 0;
  let pos = 0;
  let line = 0;
  for (let j = 0; j < bs.length; j++) {
    const bStart = bs[j]!;
    const runStart = i < as.length ? as[i]! : a.length;
    // The older lines below this newer one: found by doubling steps, then a binary search (a run is often long).
    let lo = i;
    let hi = i;
    for (let step = 1; hi < as.length && compareLines(a, as[hi]!, b, bStart) < 0; step *= 2) {
      lo = hi + 1;
      hi += step;
    }
    if (hi > as.length) hi = as.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareLines(a, as[mid]!, b, bStart) < 0) lo = mid + 1;
      else hi = mid;
    }
    const shift = pos - runStart;
    for (; i < lo; i++) starts[line++] = as[i]! + shift;
    const runEnd = i < as.length ? as[i]! : a.length;
    pos = copyBytes(a, runStart, runEnd, out, pos);
    // The same serial: the older line is dropped for the newer.
    if (i < as.length && compareLines(a, as[i]!, b, bStart) === 0) i++;
    starts[line++] = pos;
    pos = copyBytes(b, bStart, endB(j), out, pos);
  }
  if (i < as.length) {
    const runStart = as[i]!;
    for (; i < as.length; i++) starts[line++] = pos + as[i]! - runStart;
    pos = copyBytes(a, runStart, endA(as.length - 1), out, pos);
  }
  return { buf: out.subarray(0, pos), starts: starts.subarray(0, line) };
}

/** A segment's fields in the order the sweep makes them (sweep/revocation-index.ts). */
const SEGMENT_KEYS = 'url,issuerKey,sweep,previousRead,previousSha256,sha256,added,removed,claimChanged';

/**
 * A change segment as its log line: the text of JSON.stringify(segment) and a newline, its entry lists written
 * straight into one buffer (a first read's segment lists every entry of the CRL: a tuple each, millions in a
 * first sweep). With `namesCrl` (a segment with no previous snapshot, whose CRL is kept by hash) `added` is
 * written as {"everyEntryOf": sha256} and not read at all: the sweep makes it on demand. A segment whose fields
 * are not in their usual order is stringified as it is.
 */
export function segmentLine(segment: ChangeSegment, namesCrl = false): Buffer {
  const added = (): ChangeSegment['added'] | { everyEntryOf: string } => (namesCrl ? { everyEntryOf: segment.sha256 } : segment.added);
  // Fields named one by one, never spread: the sweep's `added` is a getter that builds its tuples when read.
  const plain = (): Buffer =>
    Buffer.from(
      `${JSON.stringify({ url: segment.url, issuerKey: segment.issuerKey, sweep: segment.sweep, previousRead: segment.previousRead, previousSha256: segment.previousSha256, sha256: segment.sha256, added: added(), removed: segment.removed, claimChanged: segment.claimChanged })}\n`,
    );
  if (Object.keys(segment).join(',') !== SEGMENT_KEYS) {
    return namesCrl ? plain() : Buffer.from(`${JSON.stringify(segment)}\n`);
  }
  const head = JSON.stringify({
    url: segment.url,
    issuerKey: segment.issuerKey,
    sweep: segment.sweep,
    previousRead: segment.previousRead,
    previousSha256: segment.previousSha256,
    sha256: segment.sha256,
  });
  let bytes = Buffer.byteLength(head) + 64 + (namesCrl ? segment.sha256.length + 32 : 0);
  if (!namesCrl) for (const e of segment.added) bytes += e[0].length + 64;
  for (const serial of segment.removed) bytes += serial.length + 3;
  for (const e of segment.claimChanged) bytes += e[0].length + 64;
  const buf = Buffer.allocUnsafe(bytes);
  let pos = buf.write(`${head.slice(0, -1)},`, 0, 'utf8');
  // One loop per list, each over items of one shape (the tuples and the serials apart).
  if (namesCrl) {
    pos = writeAscii(buf, pos, '"added":{"everyEntryOf":');
    pos = writeHexString(buf, pos, segment.sha256);
    if (pos < 0) return plain();
    pos = writeAscii(buf, pos, '}');
  } else {
    pos = writeClaimTuples(buf, writeAscii(buf, pos, '"added":['), segment.added);
    if (pos < 0) return plain();
    pos = writeAscii(buf, pos, ']');
  }
  pos = writeAscii(buf, pos, ',"removed":[');
  for (let i = 0; i < segment.removed.length && pos >= 0; i++) {
    if (i) buf[pos++] = 44;
    pos = writeHexString(buf, pos, segment.removed[i]!);
  }
  if (pos < 0) return plain();
  pos = writeClaimTuples(buf, writeAscii(buf, pos, '],"claimChanged":['), segment.claimChanged);
  if (pos < 0) return plain();
  buf[pos++] = 93;
  buf[pos++] = 125;
  buf[pos++] = 10;
  return buf.subarray(0, pos);
}

/** [serial, revocationDate, reasonCode] tuples as JSON, comma-separated; -1 when a serial is not hex. */
function writeClaimTuples(buf: Buffer, pos: number, tuples: ChangeSegment['added']): number {
  for (let i = 0; i < tuples.length; i++) {
    const tuple = tuples[i]!;
    const date = tuple[1];
    const reason = tuple[2];
    if (i) buf[pos++] = 44;
    buf[pos++] = 91;
    pos = writeHexString(buf, pos, tuple[0]);
    if (pos < 0) return -1;
    buf[pos++] = 44;
    pos = writeNumber(buf, pos, Number.isFinite(date) ? date : null);
    buf[pos++] = 44;
    pos = writeNumber(buf, pos, reason === null || Number.isFinite(reason) ? reason : null);
    buf[pos++] = 93;
  }
  return pos;
}

/** A serial (hex, maybe a leading minus) as a JSON string; -1 for any other text, which the caller stringifies. */
function writeHexString(buf: Buffer, pos: number, text: string): number {
  buf[pos++] = 34;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || c === 0x2d)) return -1;
    buf[pos++] = c;
  }
  buf[pos++] = 34;
  return pos;
}

/** Copies bytes [from, to) of `src` to `dst` at `pos`: a short span (a line) by a loop, cheaper than a Buffer copy call. */
function copyBytes(src: Buffer, from: number, to: number, dst: Buffer, pos: number): number {
  if (to - from > 256) return pos + src.copy(dst, pos, from, to);
  for (let i = from; i < to; i++) dst[pos++] = src[i]!;
  return pos;
}

/** Writes an ASCII string (serials, packed records) byte by byte: cheaper than an encoder call for short strings. */
function writeAscii(buf: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}

/** Writes a number as a template literal spells it (`null` too), whole non-negative numbers digit by digit. */
function writeNumber(buf: Buffer, pos: number, n: number | null): number {
  if (n === null) return writeAscii(buf, pos, 'null');
  if (!(Number.isInteger(n) && n >= 0 && n < 1e15)) return writeAscii(buf, pos, `${n}`);
  // Below 1e9 the digits come from 32-bit integer division; a larger number (a date in ms) is split in two.
  if (n >= 1e9) {
    const high = Math.floor(n / 1e9);
    return writeDigits(buf, writeNumber(buf, pos, high), n - high * 1e9, 9);
  }
  let digits = 1;
  for (let v = n; v >= 10; v = (v / 10) | 0) digits++;
  return writeDigits(buf, pos, n, digits);
}

/** Writes `v` (below 1e9) as exactly `digits` decimal digits, zero-padded. */
function writeDigits(buf: Buffer, pos: number, v: number, digits: number): number {
  for (let k = pos + digits - 1; k >= pos; k--) {
    const q = (v / 10) | 0;
    buf[k] = 48 + v - q * 10;
    v = q;
  }
  return pos + digits;
}

const positionOf = (files: IssuerFiles, url: string): number => {
  let i = files.positions.get(url);
  if (i === undefined) {
    i = files.urls.push(url) - 1;
    files.positions.set(url, i);
  }
  return i;
};

/**
 * A record as one compact line, written at `pos`: [[url#, firstSeen, notListedAt, removed]…], [[url#, sweep,
 * revocationDate s, reason]…] (the text JSON.stringify would give). Returns the position after it.
 */
function packInto(buf: Buffer, pos: number, r: IndexRecord, files: IssuerFiles): number {
  if (r.listings !== packedListings.of || files !== packedListings.files) {
    let out = '[[';
    for (let i = 0; i < r.listings.length; i++) {
      const l = r.listings[i]!;
      out += `${i ? ',' : ''}[${positionOf(files, l.url)},${l.firstSeen},${l.notListedAt},${l.removed}]`;
    }
    // Records of one change share their listing list when new (sweep/revocation-index.ts): packed once.
    packedListings.of = r.listings;
    packedListings.files = files;
    packedListings.text = `${out}],[`;
  }
  pos = writeAscii(buf, pos, packedListings.text);
  for (let i = 0; i < r.claims.length; i++) {
    const c = r.claims[i]!;
    if (i) buf[pos++] = 44;
    buf[pos++] = 91;
    pos = writeNumber(buf, pos, positionOf(files, c.url));
    buf[pos++] = 44;
    pos = writeNumber(buf, pos, c.sweep);
    buf[pos++] = 44;
    pos = writeNumber(buf, pos, c.revocationDate / 1000);
    buf[pos++] = 44;
    pos = writeNumber(buf, pos, c.reasonCode);
    buf[pos++] = 93;
  }
  buf[pos++] = 93;
  buf[pos++] = 93;
  return pos;
}

/** The last listing list packed, and for which issuer's URL positions (a list is read-only: same list, same text). */
const packedListings: { of: readonly Listing[] | null; files: IssuerFiles | null; text: string } = { of: null, files: null, text: '' };

async function readOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
