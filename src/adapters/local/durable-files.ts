/**
 * File writes the sweep's local files rely on, durable as the evidence files
 * are (evidence-files.ts): a whole file is written under a temporary name,
 * flushed, then renamed over its final name, so a command killed mid-write
 * leaves the previous version, never half of the new one; an append-only log
 * gets each batch of lines flushed, and a line cut short by a crash is
 * dropped before the next append (a reader skips it meanwhile).
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { StoreUnavailableError } from '../../errors.js';
import { fsReason } from '../../util/fs-reason.js';

/**
 * Writes `data` under a temporary name beside `path`, flushes it, renames it
 * over `path` and flushes the directory. On any failure the temporary file is
 * removed and the file system's error is thrown as it came: the caller names
 * what could not be written.
 */
export function replaceFile(path: string, data: Uint8Array): void {
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.${process.pid}.partial`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(temporary, 'w');
    try {
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
    syncDirectory(dir);
  } catch (err) {
    rmSync(temporary, { force: true });
    throw err;
  }
}

export function writeFileDurably(path: string, bytes: Uint8Array | string): void {
  try {
    replaceFile(path, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  } catch (err) {
    throw new StoreUnavailableError(`cannot write ${path}: ${fsReason(err)}`, { cause: err });
  }
}

/** Appends complete lines (`text` ends with a newline) and flushes them. */
export function appendLinesDurably(path: string, text: string): void {
  const dir = dirname(path);
  try {
    const created = !existsSync(path);
    if (created) mkdirSync(dir, { recursive: true });
    const fd = openSync(path, 'a+');
    try {
      dropPartialLastLine(fd);
      const data = Buffer.from(text);
      for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) syncDirectory(dir);
  } catch (err) {
    throw new StoreUnavailableError(`cannot append to ${path}: ${fsReason(err)}`, { cause: err });
  }
}

/** The lines of an append-only file; a last line without its newline (a crash mid-append) is not one. */
export function completeLines(text: string): string[] {
  const end = text.lastIndexOf('\n');
  return end < 0 ? [] : text.slice(0, end).split('\n');
}

function dropPartialLastLine(fd: number): void {
  const size = fstatSync(fd).size;
  if (size === 0) return;
  const tail = Buffer.alloc(Math.min(size, 64 * 1024));
  let end = size;
  for (;;) {
    const start = Math.max(0, end - tail.length);
    const n = readSync(fd, tail, 0, end - start, start);
    const nl = tail.subarray(0, n).lastIndexOf(10);
    if (nl >= 0) {
      const keep = start + nl + 1;
      if (keep !== size) ftruncateSync(fd, keep);
      return;
    }
    if (start === 0) {
      ftruncateSync(fd, 0);
      return;
    }
    end = start;
  }
}

function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems cannot sync a directory; the rename is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
