/**
 * A StatusSpool on a temporary file, as an external merge sort: verdicts are
 * gathered into runs of a few thousand, each run is sorted by key and written
 * as one chunk, and `inOrder` merges the runs, reading each one front to back
 * in blocks. `status` on a 100,000-certificate case then holds one run's text
 * and the keys instead of every verdict (~1.5 KB each as text, several times
 * that as objects), and reads the file in a few thousand block reads, where
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

interface Run {
  /** Where the run starts in the file. */
  readonly start: number;
  /** Sort keys and JSON byte lengths of its entries, in the run's (sorted) order. */
  readonly keys: string[];
  readonly lengths: Uint32Array;
}

/** A run being merged: the next entry, and a block of the file read ahead. */
interface Cursor {
  readonly run: number;
  entry: number;
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
    const lengths = new Uint32Array(order.length);
    const texts = order.map((i, n) => {
      const text = pendingTexts[i]!;
      lengths[n] = Buffer.byteLength(text, 'utf8');
      return text;
    });
    const chunk = Buffer.from(texts.join(''), 'utf8');
    let written = 0;
    while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, fileBytes + written);
    runs.push({ start: fileBytes, keys: order.map((i) => pendingKeys[i]!), lengths });
    fileBytes += chunk.length;
    pendingKeys = [];
    pendingTexts = [];
  };

  /** The next entry of a cursor's run, read from its block (refilled from the file when the entry is not all in it). */
  const take = (c: Cursor): CertificateStatus => {
    const length = runs[c.run]!.lengths[c.entry]!;
    const offset = c.position - c.blockStart;
    if (offset + length > c.blockBytes) {
      if (c.block.length < length) c.block = Buffer.alloc(length);
      const runEnd = c.run + 1 < runs.length ? runs[c.run + 1]!.start : fileBytes;
      const want = Math.min(c.block.length, runEnd - c.position);
      let read = 0;
      while (read < want) {
        const n = readSync(fd!, c.block, read, want - read, c.position + read);
        if (n === 0) throw new Error(`the status spool ended early (run ${c.run}, entry ${c.entry})`);
        read += n;
      }
      c.blockStart = c.position;
      c.blockBytes = want;
    }
    const at = c.position - c.blockStart;
    const status = JSON.parse(c.block.toString('utf8', at, at + length)) as CertificateStatus;
    c.position += length;
    c.entry++;
    return status;
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
        const byKey = compareKeys(runs[a.run]!.keys[a.entry]!, runs[b.run]!.keys[b.entry]!);
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
        if (run.keys.length > 0)
          heap.push({ run: index, entry: 0, position: run.start, block: Buffer.alloc(blockBytes), blockStart: run.start, blockBytes: 0 });
      });
      for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftDown(i);
      while (heap.length > 0) {
        const c = heap[0]!;
        yield take(c);
        if (c.entry >= runs[c.run]!.keys.length) {
          heap[0] = heap[heap.length - 1]!;
          heap.pop();
        }
        if (heap.length > 0) siftDown(0);
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
