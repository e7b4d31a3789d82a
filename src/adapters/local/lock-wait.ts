/**
 * Says why a command is waiting for the home's lock, before it waits: a
 * `kill -9`ed command leaves a lock that is only taken over once it goes
 * stale, and waiting up to that long in silence looks like a hang.
 */
import { statSync } from 'node:fs';
import lockfile from 'proper-lockfile';

export async function announceLockWait(
  home: string,
  lockfilePath: string,
  staleMs: number,
  onWait: ((message: string) => void) | undefined,
  now: () => number = Date.now,
): Promise<void> {
  if (!onWait) return;
  let held: boolean;
  try {
    held = await lockfile.check(home, { lockfilePath, stale: staleMs, realpath: false });
  } catch {
    return;
  }
  if (!held) return;
  let age = '';
  try {
    age = `, last refreshed ${Math.max(0, Math.round((now() - statSync(lockfilePath).mtimeMs) / 1000))} s ago`;
  } catch {
    // Released between the check and the stat: nothing to wait for.
    return;
  }
  onWait(
    `waiting for the lock on ${home} (${lockfilePath}${age}): another revwatch command is using this home; ` +
      `a lock left by a command that has died is taken over at once when its process is known to be gone, ` +
      `else once it has not been refreshed for ${Math.round(staleMs / 1000)} s`,
  );
}
