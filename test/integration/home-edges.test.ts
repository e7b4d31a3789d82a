/**
 * Homes and outputs a command cannot use end it at once with one line, and a
 * reader that goes away ends it quietly:
 * - a read-only home (a tmpfs remounted read-only, in a mount namespace of its
 *   own: `unshare -m`, as root; skipped with the reason elsewhere): exit 1 at
 *   once, where the lock used to be retried for 10 minutes and then exit 70;
 * - `--home /proc/self`: exit 1, where Node's recursive mkdir spun forever;
 * - stdout closed by its reader (`status --json | head -c 100`): no EPIPE trace.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');

const probe = spawnSync(
  'unshare',
  ['-m', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'],
  {
    encoding: 'utf8',
  },
);
const canMount = probe.status === 0;
if (!canMount) {
  console.warn(
    `home-edges: read-only home skipped, cannot mount a tmpfs in a mount namespace (${(probe.stderr || probe.error?.message || '').trim()})`,
  );
}

describe('homes and outputs a command cannot use', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.runIf(canMount)(
    'a read-only home: one line and exit 1 at once, with or without a store in it',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'revwatch-ro-'));
      dirs.push(dir);
      // In the namespace: a home with a store (made by a first command), another without, then both read-only.
      const script = [
        'set -e',
        'mount -t tmpfs -o size=4m tmpfs "$1"',
        'node "$2" --home "$1/with-store" status >/dev/null',
        'mkdir "$1/empty"',
        'mount -o remount,ro "$1"',
        'set +e',
        'node "$2" --home "$1/with-store" status; echo "exit=$?"',
        'node "$2" --home "$1/empty" status; echo "exit=$?"',
      ].join('\n');
      const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', dir, BIN], {
        encoding: 'utf8',
        timeout: 110_000,
        killSignal: 'SIGKILL',
      });
      expect(r.signal).toBeNull();
      expect(r.stdout).toBe('exit=1\nexit=1\n');
      expect(r.stderr.split('\n')).toEqual([
        `revwatch: cannot lock ${dir}/with-store (${dir}/with-store/db.lock): the file system is read-only`,
        `revwatch: cannot use ${dir}/empty/db as the store's directory: the file system is read-only`,
        '',
      ]);
    },
    120_000,
  );

  it('--home /proc/self: one line and exit 1, not a spin', () => {
    const r = spawnSync('node', [BIN, '--home', '/proc/self', 'status'], { encoding: 'utf8', timeout: 110_000, killSignal: 'SIGKILL' });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^revwatch: cannot use \/proc\/self\/db as the store's directory: .+\n$/);
  }, 120_000);

  it('stdout closed by its reader: the command ends as it would have, without an EPIPE trace', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-epipe-'));
    dirs.push(home);
    const child = spawn('node', [BIN, '--home', home, '--json', 'status'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the first byte (as `| head -c 0` would).
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    expect(stderr).toBe('');
    expect(ended).toEqual({ code: 0, signal: null });
  }, 120_000);
});
