/**
 * The lock on a local home: LevelDB admits one process at a time, so every
 * command that opens the store holds <home>/db.lock (a directory, made
 * atomically by proper-lockfile, which refreshes its mtime while held).
 *
 * Who holds it is written inside it (db.lock/owner: PID, host, and the
 * process's start time where the system tells it), so that a lock whose owner
 * has died (kill -9, a crash) is taken over at once instead of after the 30 s
 * in which an unrefreshed lock goes stale. The start time tells a dead owner
 * from a new process that was given the same PID.
 *
 * Failing to make the lock for any reason other than its being held (a
 * read-only home, no permission) ends the command at once with one line.
 */
import fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { InputError } from '../../errors.js';
import { fsReason } from '../../util/fs-reason.js';
import { announceLockWait } from './lock-wait.js';

/** A crashed holder's lock that names no owner this host can check goes stale after this long without a refresh. */
export const LOCK_STALE_MS = 30_000;
const RETRY_MS = 250;

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** The process's start time, in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where unknown. */
  readonly started: string | null;
}

function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readOwner(lockDir: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(join(lockDir, 'owner'), 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return null;
    return { pid: owner.pid, host: owner.host, started: typeof owner.started === 'string' ? owner.started : null };
  } catch {
    // None yet (just made), or a lock made by an older revwatch.
    return null;
  }
}

/** True only when the owner is known to be gone: on this host, and no process with its PID (and start time) runs. */
function ownerIsGone(owner: LockOwner): boolean {
  if (owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: a process of another user has this PID, so it runs.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // A process runs with its PID: the owner only if it started when the owner did (PIDs are reused).
  const started = owner.started === null ? null : processStartTime(owner.pid);
  return started !== null && started !== owner.started;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the home's lock, waiting up to `waitMs` for another command to release it. Resolves to the function
 * that releases it.
 */
export async function lockHome(
  home: string,
  options: { waitMs: number; onLockWait?: (message: string) => void },
): Promise<() => Promise<void>> {
  const lockDir = join(home, 'db.lock');
  let tookOver: LockOwner | null = null;
  // proper-lockfile does its file work through this: a lock whose owner is gone reads as long stale, so
  // proper-lockfile's own takeover (remove, then make it again, atomically) runs at once; removing the lock
  // removes the owner note in it first.
  const lockFs = {
    ...fs,
    stat(path: string, callback: (err: NodeJS.ErrnoException | null, stat?: fs.Stats) => void): void {
      fs.stat(path, (err, stat) => {
        if (err || path !== lockDir) {
          callback(err, stat);
          return;
        }
        const owner = readOwner(lockDir);
        if (owner === null || !ownerIsGone(owner)) {
          callback(null, stat);
          return;
        }
        tookOver = owner;
        callback(null, Object.assign(Object.create(Object.getPrototypeOf(stat) as object) as fs.Stats, stat, { mtime: new Date(0) }));
      });
    },
    rmdir(path: string, callback: (err: NodeJS.ErrnoException | null) => void): void {
      if (path === lockDir) fs.rm(join(lockDir, 'owner'), { force: true }, () => fs.rmdir(path, callback));
      else fs.rmdir(path, callback);
    },
    rmdirSync(path: string): void {
      if (path === lockDir) fs.rmSync(join(lockDir, 'owner'), { force: true });
      fs.rmdirSync(path);
    },
  };

  const deadline = Date.now() + options.waitMs;
  let announced = false;
  for (;;) {
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(home, { lockfilePath: lockDir, stale: LOCK_STALE_MS, retries: 0, realpath: false, fs: lockFs });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw new InputError(`cannot lock ${home} (${lockDir}): ${fsReason(err)}`);
      if (Date.now() >= deadline) {
        throw new InputError(
          `${home} is still locked by another revwatch command after ${Math.round(options.waitMs / 1000)} s (${lockDir})`,
        );
      }
      if (!announced) {
        announced = true;
        await announceLockWait(home, lockDir, LOCK_STALE_MS, options.onLockWait);
      }
      await sleep(RETRY_MS);
      continue;
    }
    writeOwner(lockDir);
    const previous = tookOver as LockOwner | null;
    if (previous !== null) {
      options.onLockWait?.(
        `took over the lock on ${home} (${lockDir}): it was left by process ${previous.pid}, which is no longer running`,
      );
    }
    return release;
  }
}

/**
 * Notes who holds the lock, inside it. proper-lockfile tells its lock from a rival's by the directory's mtime,
 * which writing a file into it changes: it is set back to what proper-lockfile recorded.
 */
function writeOwner(lockDir: string): void {
  const before = fs.statSync(lockDir);
  const owner: LockOwner = { pid: process.pid, host: hostname(), started: processStartTime(process.pid) };
  try {
    fs.writeFileSync(join(lockDir, 'owner'), JSON.stringify(owner));
  } catch {
    // Without the note the lock is still a lock; only its takeover after a crash waits for it to go stale.
    return;
  } finally {
    fs.utimesSync(lockDir, before.atime, before.mtime);
  }
}
