/**
 * The demo replays three days on a simulated clock: it must never write into
 * a home that holds real evidence. It refuses any directory that holds
 * anything but a previous demo (one line, exit 1, nothing changed), and what
 * it writes is never dated after the real clock of the command that wrote it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { DEMO_HOME_MARK } from '../../src/demo/demo.js';

const exec = promisify(execFile);
const dirs: string[] = [];
const tempDir = (name: string): string => {
  const d = mkdtempSync(join(tmpdir(), `revwatch-demo-home-${name}-`));
  dirs.push(d);
  return d;
};

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('node', ['bin/revwatch.js', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every file under `dir` with its size and modification time: what "nothing changed" compares. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${p} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

/** The latest observedAt of every observation in a home. */
async function latestObservation(home: string): Promise<{ latest: number; count: number }> {
  const open = await openEmbeddedStore(home);
  try {
    let latest = 0;
    let count = 0;
    for (const kase of await open.store.listCases())
      for (const cc of await open.store.loadCase(kase.id))
        for (const o of await open.store.listObservations(cc.cert.sha256)) {
          latest = Math.max(latest, o.observedAt);
          count++;
        }
    return { latest, count };
  } finally {
    await open.close();
  }
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('revwatch demo and real homes', { timeout: 240_000 }, () => {
  it('refuses a home a real command wrote: one line, exit 1, nothing changed', async () => {
    const home = tempDir('real');
    const status = await cli('--home', home, 'status');
    expect(status.code, status.stderr).toBe(0);
    const before = listing(home);
    expect(before.length).toBeGreaterThan(0);
    const r = await cli('--home', home, 'demo');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `revwatch: --home ${home} holds data that is not a previous demo's; the demo runs on a simulated clock and writes only to an empty directory or a previous demo's home (omit --home for a new one)`,
    ]);
    expect(r.stdout).toBe('');
    expect(listing(home)).toEqual(before);
  });

  it('refuses any other non-empty directory, and a path that is a file', async () => {
    const home = tempDir('other');
    writeFileSync(join(home, 'notes.txt'), 'mine');
    const r = await cli('--home', home, 'demo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('holds data that is not a previous demo');
    expect(readdirSync(home)).toEqual(['notes.txt']);
    const file = join(home, 'notes.txt');
    const f = await cli('--home', file, 'demo');
    expect(f.code).toBe(1);
    expect(f.stderr.trim().split('\n')).toEqual([`revwatch: --home ${file} is not a directory`]);
  });

  it('runs in an empty directory and again in its own home; nothing it records is dated after the real clock', async () => {
    const home = join(tempDir('demo'), 'home');
    mkdirSync(home);
    for (let i = 0; i < 2; i++) {
      const r = await cli('--home', home, 'demo');
      const finished = Date.now();
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(home)).toContain(DEMO_HOME_MARK);
      const { latest, count } = await latestObservation(home);
      expect(count).toBeGreaterThan(0);
      expect(latest).toBeLessThanOrEqual(finished);
    }
  });
});
