/**
 * A StatusSpool on a temporary file, as an external merge sort: verdicts are
 * gathered into runs of a few thousand, each run is sorted by key and written
 * as one chunk, and `inOrder` merges the runs, reading each one front to back
 * in blocks. `status` on a 100,000-certificate case then holds one run's text
 * and where each run lies (the sort keys are written beside the verdicts)
 * instead of every verdict (~1.5 KB each as text, several times that as
 * objects) or every key, and reads the file in a few thousand block reads, where
 * reading each verdict where it lay took one read call per certificate (0.9 s
 * of a 10 s `status`). The file is unlinked as soon as it is open, so nothing
 * is left behind, whatever way the process ends.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusSpool } from '../../ports/store.js';
import type { CertificateStatus } from '../../rules/verdict.js';

/** Verdicts in one sorted run: ~6 MB of text. */
const RUN_SIZE = 4096;
/** What the merge's read buffers may take together, split over the runs (3,000,000 certificates make ~730). */
const READ_BUFFERS_BYTES = 16 << 20;
/** Each entry in the file: its key's and its text's UTF-8 byte lengths (two uint32, little-endian), the key, the text. */
const ENTRY_HEAD = 8;

interface Run {
  /** Where the run starts and ends in the file. */
  readonly start: number;
  readonly end: number;
}

/** A run being merged: its next entry's key, and a block of the file read ahead. */
interface Cursor {
  readonly run: number;
  /** The key of the entry at `position`. */
  key: string;
  /** File offset of the next entry. */
  position: number;
  block: Buffer;
  /** File offset of block[0], and how many bytes of it are valid. */
  blockStart: number;
  blockBytes: number;
}

const compareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function fileSpool(directory: string = tmpdir(), options: { runSize?: number } = {}): StatusSpool {
  const runSize = Math.max(1, options.runSize ?? RUN_SIZE);
  const dir = mkdtempSync(join(directory, 'revwatch-spool-'));
  const path = join(dir, 'statuses');
  let fd: number | null = openSync(path, 'w+', 0o600);
  rmSync(dir, { recursive: true, force: true });

  // Only where each run lies is kept: the keys are written with the verdicts, so nothing here grows per
  // certificate (at 3,000,000 certificates the keys alone held ~400 MB).
  const runs: Run[] = [];
  // The run being gathered, as text: a Buffer per verdict would be memory outside the JS heap that only a
  // garbage collection gives back.
  let pendingKeys: string[] = [];
  let pendingTexts: string[] = [];
  let fileBytes = 0;

  const writeRun = (): void => {
    if (pendingKeys.length === 0 || fd === null) return;
    // Stable: equal keys keep the order they were added in (Array.prototype.sort is stable).
    const order = Array.from(pendingKeys.keys()).sort((a, b) => compareKeys(pendingKeys[a]!, pendingKeys[b]!));
    let bytes = 0;
    for (const i of order) bytes += ENTRY_HEAD + Buffer.byteLength(pendingKeys[i]!, 'utf8') + Buffer.byteLength(pendingTexts[i]!, 'utf8');
    const chunk = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const i of order) {
      const keyBytes = chunk.write(pendingKeys[i]!, at + ENTRY_HEAD, 'utf8');
      const textBytes = chunk.write(pendingTexts[i]!, at + ENTRY_HEAD + keyBytes, 'utf8');
      chunk.writeUInt32LE(keyBytes, at);
      chunk.writeUInt32LE(textBytes, at + 4);
      at += ENTRY_HEAD + keyBytes + textBytes;
    }
    let written = 0;
    while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, fileBytes + written);
    runs.push({ start: fileBytes, end: fileBytes + chunk.length });
    fileBytes += chunk.length;
    pendingKeys = [];
    pendingTexts = [];
  };

  /** Makes the `length` bytes at the cursor's position readable from its block (refilled from the file when they are not all in it). */
  const ensure = (c: Cursor, length: number): number => {
    const offset = c.position - c.blockStart;
    if (offset + length > c.blockBytes) {
      if (c.block.length < length) c.block = Buffer.alloc(length);
      const want = Math.min(c.block.length, runs[c.run]!.end - c.position);
      let read = 0;
      while (read < want) {
        const n = readSync(fd!, c.block, read, want - read, c.position + read);
        if (n === 0) throw new Error(`the status spool ended early (run ${c.run}, at ${c.position})`);
        read += n;
      }
      c.blockStart = c.position;
      c.blockBytes = want;
    }
    return c.position - c.blockStart;
  };

  /** The lengths of the entry at the cursor's position, and its key read into the cursor; false at the run's end. */
  const readKey = (c: Cursor): boolean => {
    if (c.position >= runs[c.run]!.end) return false;
    const head = ensure(c, ENTRY_HEAD);
    const keyBytes = c.block.readUInt32LE(head);
    const textBytes = c.block.readUInt32LE(head + 4);
    const at = ensure(c, ENTRY_HEAD + keyBytes + textBytes);
    c.key = c.block.toString('utf8', at + ENTRY_HEAD, at + ENTRY_HEAD + keyBytes);
    return true;
  };

  /** The verdict at the cursor's position (its key already read); the cursor moves on to the next entry's key. */
  const take = (c: Cursor): { status: CertificateStatus; more: boolean } => {
    // readKey made the whole entry readable from the block.
    const at = c.position - c.blockStart;
    const keyBytes = c.block.readUInt32LE(at);
    const textBytes = c.block.readUInt32LE(at + 4);
    const textAt = at + ENTRY_HEAD + keyBytes;
    const status = JSON.parse(c.block.toString('utf8', textAt, textAt + textBytes)) as CertificateStatus;
    c.position += ENTRY_HEAD + keyBytes + textBytes;
    return { status, more: readKey(c) };
  };

  return {
    add(key, status) {
      pendingKeys.push(key);
      pendingTexts.push(JSON.stringify(status));
      if (pendingKeys.length >= runSize) writeRun();
    },
    *inOrder() {
      writeRun();
      const blockBytes = Math.max(8 << 10, Math.min(64 << 10, Math.floor(READ_BUFFERS_BYTES / Math.max(1, runs.length))));
      // A binary heap of cursors on (their next key, run index): the run index keeps equal keys in the order added.
      const before = (a: Cursor, b: Cursor): boolean => {
        const byKey = compareKeys(a.key, b.key);
        return byKey < 0 || (byKey === 0 && a.run < b.run);
      };
      const heap: Cursor[] = [];
      const siftDown = (i: number): void => {
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let top = i;
          if (l < heap.length && before(heap[l]!, heap[top]!)) top = l;
          if (r < heap.length && before(heap[r]!, heap[top]!)) top = r;
          if (top === i) return;
          [heap[i], heap[top]] = [heap[top]!, heap[i]!];
          i = top;
        }
      };
      runs.forEach((run, index) => {
        const c: Cursor = {
          run: index,
          key: '',
          position: run.start,
          block: Buffer.alloc(blockBytes),
          blockStart: run.start,
          blockBytes: 0,
        };
        if (readKey(c)) heap.push(c);
      });
      for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftDown(i);
      while (heap.length > 0) {
        const c = heap[0]!;
        const { status, more } = take(c);
        if (!more) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        }
        if (heap.length > 0) siftDown(0);
        yield status;
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
