/**
 * File writes the sweep's local files rely on, durable as the evidence files
 * are (evidence-files.ts): a whole file is written under a temporary name,
 * flushed, then renamed over its final name, so a command killed mid-write
 * leaves the previous version, never half of the new one; an append-only log
 * gets each batch of lines flushed, and a line cut short by a crash is
 * dropped before the next append (a reader skips it meanwhile).
 *
 * The same writes exist asynchronously (`replaceFileAsync`, `appendLinesAsync`)
 * and behind a `WriteQueue`: an fsync takes milliseconds (tens on a loaded
 * disk), and a sweep that made its several thousand on the event loop held
 * back every fetch in flight meanwhile. The queue keeps the order a
 * synchronous writer had, one chain of writes per key (an issuer's index
 * files, a URL's logs), and keeps a failed write's error until it is asked
 * for: nothing written after it under its key is attempted, so a later write
 * never lands over a hole.
 */
import {
  closeSync,
  constants,
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
import { mkdir, open, rename, rm } from 'node:fs/promises';
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

/** `replaceFile` off the event loop: the same temporary name, flush, rename and directory flush. */
export async function replaceFileAsync(path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temporary = join(dir, `.${basename(path)}.${process.pid}.partial`);
  try {
    // The directory is made only when the open finds it missing: a sweep writes thousands of files into a few.
    const handle = await open(temporary, 'w').catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true });
      return open(temporary, 'w');
    });
    try {
      for (let at = 0; at < data.length; ) at += (await handle.write(data, at, data.length - at)).bytesWritten;
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    await syncDirectoryAsync(dir);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** `appendLinesDurably` off the event loop; throws the file system's error as it came (the queue names the file). */
export async function appendLinesAsync(path: string, text: string | Uint8Array): Promise<void> {
  // Read-write, made if missing, neither truncated nor in append mode (a write lands where it is aimed): one
  // open whether or not the log exists yet (a first sweep makes two logs per URL).
  const flags = constants.O_RDWR | constants.O_CREAT;
  const handle = await open(path, flags).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    await mkdir(dirname(path), { recursive: true });
    return open(path, flags);
  });
  let created = false;
  try {
    // Appended at the end of the complete lines: a line cut short by a crash is written over. An empty file is
    // taken as just made: its directory is flushed (once more than needed for one left empty before).
    const size = await completeLength(handle);
    created = size === 0;
    const data = typeof text === 'string' ? Buffer.from(text) : text;
    for (let at = 0; at < data.length; ) at += (await handle.write(data, at, data.length - at, size + at)).bytesWritten;
    await handle.truncate(size + data.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await syncDirectoryAsync(dirname(path));
}

/** The length of a file's complete lines: up to and including its last newline. */
async function completeLength(handle: Awaited<ReturnType<typeof open>>): Promise<number> {
  const size = (await handle.stat()).size;
  const tail = Buffer.alloc(Math.min(size, 64 * 1024));
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - tail.length);
    const { bytesRead } = await handle.read(tail, 0, end - start, start);
    const nl = tail.subarray(0, bytesRead).lastIndexOf(10);
    if (nl >= 0) return start + nl + 1;
    end = start;
  }
  return 0;
}

/**
 * Flushes a directory, after the caller's rename or create: the flush must start after it. Flushes of one
 * directory asked for while one runs share the next one (it starts after all of them): a sweep makes thousands of
 * files in a few directories, and a flush per file (a few milliseconds each) held the file system's threads.
 */
function syncDirectoryAsync(dir: string): Promise<void> {
  const state = directorySyncs.get(dir) ?? { running: null, next: null };
  directorySyncs.set(dir, state);
  if (state.next) return state.next;
  const next = (state.running ?? Promise.resolve()).then(async () => {
    state.next = null;
    state.running = next;
    try {
      await flushDirectory(dir);
    } finally {
      if (state.running === next) state.running = null;
      if (!state.running && !state.next) directorySyncs.delete(dir);
    }
  });
  state.next = next;
  return next;
}

const directorySyncs = new Map<string, { running: Promise<void> | null; next: Promise<void> | null }>();

async function flushDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // As syncDirectory: a file system that cannot sync a directory still renames atomically.
  }
}

/**
 * Writes run one after another per key, each after the previous one of its key has finished, keys side by
 * side. A write that fails is kept as a StoreUnavailableError naming what could not be written; the writes
 * queued after it under its key are not attempted (a later record must not land without an earlier one), and
 * `flush` and `failure` give the first error back.
 */
export class WriteQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, StoreUnavailableError>();
  private first: StoreUnavailableError | null = null;

  /** Queues `write` under `key`; the promise settles when it has run (or was skipped) and never rejects. */
  enqueue(key: string, what: string, write: () => Promise<void>): Promise<void> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(async () => {
      if (this.failures.has(key)) return;
      try {
        await write();
      } catch (err) {
        const failure =
          err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`cannot write ${what}: ${fsReason(err)}`, { cause: err });
        this.failures.set(key, failure);
        this.first ??= failure;
      }
    });
    this.tails.set(key, mine);
    void mine.then(() => {
      if (this.tails.get(key) === mine) this.tails.delete(key);
    });
    return mine;
  }

  /** Waits until every write queued under `key` so far has run. */
  async idle(key: string): Promise<void> {
    await this.tails.get(key);
  }

  /** The first write that failed under `key` (or under any key), if one did. */
  failure(key?: string): StoreUnavailableError | null {
    return key === undefined ? this.first : (this.failures.get(key) ?? null);
  }

  /** Waits for every queued write; throws the first that failed. */
  async flush(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
    if (this.first) throw this.first;
  }
}
