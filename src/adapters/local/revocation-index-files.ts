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

/** The short name of a URL's files: 16 hex digits of its SHA-256. */
export const urlId = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 16);

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
  delta: Map<string, string>;
  deltaBytes: number;
  urls: string[];
  /** Each URL's position in `urls`. */
  positions: Map<string, number>;
  /** How many of `urls` the .urls file on disk holds (or has been queued to hold). */
  urlsWritten: number;
  /** Delta lines folded but not yet appended; replaced (and emptied) by a merge, which holds them. */
  pending: { lines: string[] };
  /** Merges made: a queued write of a sorted file that a later merge replaces is skipped. */
  merges: number;
}

export interface RevocationIndexOptions {
  /** Commits return before their writes are flushed; `flush` waits for them (the sweep). Default: each commit waits. */
  readonly writeBehind?: boolean;
}

export class RevocationIndexFiles implements RevocationIndexStore {
  private readonly dir: string;
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
    // Serials asked in ascending order (a CRL's entries, sorted) are searched from where the previous one was
    // found, widening by doubling: a shard's serials cost a few comparisons each, not a full search.
    let from = 0;
    let previous = '';
    for (const serial of serials) {
      if (serial <= previous) from = 0;
      previous = serial;
      const line = lineAtOrAfter(files.base, starts, serial, from);
      from = line;
      const packed =
        files.delta.get(serial) ??
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
    const changesText = `${JSON.stringify(segment)}\n`;
    // The segment first (the source of truth); the issuer's writes wait for it, and are not made without it.
    const segmentWritten = this.queue.enqueue(changesPath, changesPath, () => appendLinesAsync(changesPath, changesText));
    if (records.length === 0) return this.settled(changesPath, segmentWritten);
    const files = await this.issuer(issuerKey);
    this.committed.add(issuerKey);
    const packed: string[] = new Array(records.length);
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const p = pack(r, files);
      packed[i] = p;
      bytes += r.serial.length + p.length + 2;
    }
    // A large change (every entry of a first sweep) is merged straight into the .idx: its records never enter
    // the delta's map, which would hold a string pair per entry until the merge and sort them all again.
    const mergeNow = files.deltaBytes + bytes > Math.max(COMPACT_MIN_BYTES, files.base.length / COMPACT_FRACTION);
    if (!mergeNow) for (let i = 0; i < records.length; i++) files.delta.set(records[i]!.serial, packed[i]!);
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
      done = this.compact(issuerKey, files, afterSegment, sortedLines(records, packed));
    } else {
      const pending = files.pending;
      let text = '';
      for (let i = 0; i < records.length; i++) text += `${records[i]!.serial}\t${packed[i]}\n`;
      pending.lines.push(text);
      files.deltaBytes += bytes;
      const deltaPath = this.path('index', `${issuerKey}.delta`);
      done = this.queue.enqueue(issuerKey, deltaPath, async () => {
        await afterSegment();
        if (pending.lines.length === 0) return;
        const text = pending.lines.join('');
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
   * Merges the delta into a new sorted file; a crash before the delta is emptied replays it onto the same records.
   * The .idx's lines between two delta serials are copied as one slice (found by binary search), so a merge
   * costs a copy of the file and a search per delta line, not a string per line.
   */
  private compact(
    issuerKey: string,
    files: IssuerFiles,
    before: () => Promise<void>,
    incoming: SortedLines = { serials: [], packed: [] },
  ): Promise<void> {
    const { serials: keys, packed: values } = mergeLines(files.delta, incoming);
    const base = files.base;
    const starts = files.starts ?? lineStarts(base);
    const startOf = (line: number): number => (line < starts.length ? starts[line]! : base.length);
    const parts: Buffer[] = [];
    // Delta lines that fall between the same two lines of the .idx, as one string: one Buffer per run, not per line.
    let run = '';
    let line = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      let lo = line;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareSerial(base, starts[mid]!, key) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (startOf(lo) > startOf(line)) {
        if (run) parts.push(Buffer.from(run, 'latin1'));
        run = '';
        parts.push(base.subarray(startOf(line), startOf(lo)));
      }
      run += `${key}\t${values[k]}\n`;
      line = lo < starts.length && compareSerial(base, starts[lo]!, key) === 0 ? lo + 1 : lo;
    }
    if (run) parts.push(Buffer.from(run, 'latin1'));
    parts.push(base.subarray(startOf(line)));
    const merged = Buffer.concat(parts);
    const mergedStarts = lineStarts(merged);
    files.base = merged;
    files.starts = mergedStarts;
    files.delta.clear();
    files.deltaBytes = 0;
    // Lines not yet appended are in the merged file: the appends queued for them find nothing to write.
    files.pending.lines = [];
    files.pending = { lines: [] };
    const merge = ++files.merges;
    const idxPath = this.path('index', `${issuerKey}.idx`);
    const keysPath = this.path('index', `${issuerKey}.keys`);
    const deltaPath = this.path('index', `${issuerKey}.delta`);
    const keys_ = this.writeBehind ? null : keyTable(merged, mergedStarts);
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
    const path = this.path('urls', `${urlId(snapshot.url)}.snapshots`);
    const text = `${JSON.stringify(snapshot)}\n`;
    return this.settled(
      path,
      this.queue.enqueue(path, path, () => appendLinesAsync(path, text)),
    );
  }

  async snapshots(url: string): Promise<SnapshotRef[]> {
    return this.jsonLines<SnapshotRef>(this.path('urls', `${urlId(url)}.snapshots`));
  }

  async segments(url: string): Promise<ChangeSegment[]> {
    return this.jsonLines<ChangeSegment>(this.path('urls', `${urlId(url)}.changes`));
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

/** The first line at or after `from` whose serial is not below `key`: a doubling step from `from`, then a binary search. */
function lineAtOrAfter(buf: Buffer, starts: Uint32Array, key: string, from: number): number {
  let lo = from;
  let step = 1;
  let hi = from;
  while (hi < starts.length && compareSerial(buf, starts[hi]!, key) < 0) {
    lo = hi + 1;
    hi += step;
    step *= 2;
  }
  if (hi > starts.length) hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareSerial(buf, starts[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/** Index lines as two parallel arrays, sorted by serial (each serial once). */
interface SortedLines {
  readonly serials: string[];
  readonly packed: string[];
}

/** A commit's records and their packed lines in serial order (a CRL's entries mostly come sorted: then no sort). */
function sortedLines(records: readonly IndexRecord[], packed: readonly string[]): SortedLines {
  let sorted = true;
  for (let i = 1; i < records.length && sorted; i++) sorted = records[i - 1]!.serial < records[i]!.serial;
  const order = sorted
    ? null
    : Array.from(records.keys()).sort((a, b) =>
        records[a]!.serial < records[b]!.serial ? -1 : records[a]!.serial > records[b]!.serial ? 1 : a - b,
      );
  const serials: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < records.length; i++) {
    const at = order ? order[i]! : i;
    const serial = records[at]!.serial;
    // A serial twice in one commit: the later record wins, as it would in the delta's map.
    if (serials.length > 0 && serials[serials.length - 1] === serial) {
      if (order === null || at > order[i - 1]!) lines[lines.length - 1] = packed[at]!;
      continue;
    }
    serials.push(serial);
    lines.push(packed[at]!);
  }
  return { serials, packed: lines };
}

/** The delta's lines merged with a commit's (sorted): a serial in both takes the commit's, the later fold. */
function mergeLines(delta: ReadonlyMap<string, string>, incoming: SortedLines): SortedLines {
  const deltaKeys = [...delta.keys()].sort();
  if (deltaKeys.length === 0) return incoming;
  const serials: string[] = [];
  const packed: string[] = [];
  let i = 0;
  let j = 0;
  while (i < deltaKeys.length || j < incoming.serials.length) {
    const a = deltaKeys[i];
    const b = incoming.serials[j];
    if (b === undefined || (a !== undefined && a < b)) {
      serials.push(a!);
      packed.push(delta.get(a!)!);
      i++;
    } else {
      if (a === b) i++;
      serials.push(b);
      packed.push(incoming.packed[j]!);
      j++;
    }
  }
  return { serials, packed };
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
 * A record as one compact line: [[url#, firstSeen, notListedAt, removed]…], [[url#, sweep, revocationDate s, reason]…].
 * Spelled out rather than JSON.stringify'd (the same text): a first sweep packs a record per CRL entry.
 */
function pack(r: IndexRecord, files: IssuerFiles): string {
  let out: string;
  if (r.listings === packedListings.of && files === packedListings.files) {
    out = packedListings.text;
  } else {
    out = '[[';
    for (let i = 0; i < r.listings.length; i++) {
      const l = r.listings[i]!;
      out += `${i ? ',' : ''}[${positionOf(files, l.url)},${l.firstSeen},${l.notListedAt},${l.removed}]`;
    }
    out += '],[';
    // Records of one change share their listing list when new (sweep/revocation-index.ts): packed once.
    packedListings.of = r.listings;
    packedListings.files = files;
    packedListings.text = out;
  }
  for (let i = 0; i < r.claims.length; i++) {
    const c = r.claims[i]!;
    out += `${i ? ',' : ''}[${positionOf(files, c.url)},${c.sweep},${c.revocationDate / 1000},${c.reasonCode}]`;
  }
  return `${out}]]`;
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
