/**
 * The home's lock (src/adapters/local/home-lock.ts): a lock whose owner's
 * process is gone is taken over at once, with a line saying so; a lock whose
 * owner runs is waited for; a home where no lock can be made fails at once.
 *
 * The locks made here carry an mtime 10 minutes ahead, so proper-lockfile's
 * own staleness (30 s without a refresh) can never be what frees them: only
 * the owner check can.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { InputError } from '../../src/errors.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');

const startTime = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

/** A lock as a command that holds it leaves it, refreshed "10 minutes from now". */
const leaveLock = (home: string, owner: { pid: number; host: string; started: string | null }): void => {
  const lock = join(home, 'db.lock');
  mkdirSync(lock, { recursive: true });
  writeFileSync(join(lock, 'owner'), JSON.stringify(owner));
  const ahead = (Date.now() + 10 * 60_000) / 1000;
  utimesSync(lock, ahead, ahead);
};

const runCli = (home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn('node', [BIN, '--home', home, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe.runIf(process.platform === 'linux')('the home lock', () => {
  const homes: string[] = [];
  const children: { kill: () => void }[] = [];
  const newHome = (): string => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-lock-'));
    homes.push(home);
    return home;
  };
  afterEach(() => {
    for (const c of children.splice(0)) c.kill();
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  });

  it('takes over at once a lock whose owner has died, and says so', async () => {
    const home = newHome();
    // A process that has ended: its PID is free.
    const gone = spawnSync('node', ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const pid = Number(gone.stdout);
    leaveLock(home, { pid, host: hostname(), started: '1' });
    const r = await runCli(home, ['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^no cases yet/i);
    expect(r.stderr).toBe(
      `revwatch: took over the lock on ${home} (${join(home, 'db.lock')}): it was left by process ${pid}, which is no longer running\n`,
    );
  }, 120_000);

  it('takes over a lock whose PID now belongs to another process (it started later)', async () => {
    const home = newHome();
    const other = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push({ kill: () => other.kill() });
    leaveLock(home, { pid: other.pid!, host: hostname(), started: String(Number(startTime(other.pid!)) - 1) });
    const r = await runCli(home, ['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^revwatch: took over the lock on .* which is no longer running\n$/);
  }, 120_000);

  it('waits for a lock whose owner runs, and says after the wait that the home is still locked', async () => {
    const home = newHome();
    const owner = spawn('sleep', ['120'], { stdio: 'ignore' });
    children.push({ kill: () => owner.kill() });
    leaveLock(home, { pid: owner.pid!, host: hostname(), started: startTime(owner.pid!) });
    const waits: string[] = [];
    const opening = openEmbeddedStore(home, { lockWaitMs: 1_500, onLockWait: (m) => waits.push(m) });
    await expect(opening).rejects.toBeInstanceOf(InputError);
    await expect(opening).rejects.toThrow(`${home} is still locked by another revwatch command after 2 s (${join(home, 'db.lock')})`);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toMatch(/^waiting for the lock on /);
  }, 120_000);

  it('waits as before for a lock that names no owner (an older revwatch, or one just made)', async () => {
    const home = newHome();
    mkdirSync(join(home, 'db.lock'));
    const ahead = (Date.now() + 10 * 60_000) / 1000;
    utimesSync(join(home, 'db.lock'), ahead, ahead);
    await expect(openEmbeddedStore(home, { lockWaitMs: 1_000 })).rejects.toThrow(/is still locked by another revwatch command/);
  }, 120_000);

  it('releases its lock, owner note included, when the command ends', async () => {
    const home = newHome();
    const r = await runCli(home, ['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(() => readFileSync(join(home, 'db.lock', 'owner'))).toThrow(/ENOENT/);
  }, 120_000);
});
