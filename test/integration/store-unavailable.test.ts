/**
 * No loopback, no answer: the embedded store is reached on a loopback port;
 * when that cannot work, a command ends with one line and exit 1, in bounded
 * time, and leaves no lock behind.
 *
 * - The loopback interface down: inside a network namespace of its own
 *   (`unshare -n`, whose loopback starts down); skipped with the reason where
 *   unshare is unavailable.
 * - A store that accepts connections and never answers: every request has a
 *   deadline (shortened here).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDynamoClient } from '../../src/adapters/local/embedded-store.js';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { StoreUnavailableError } from '../../src/errors.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');

// `ip` shows the namespace's loopback state, which the test checks is down before it relies on it.
const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'show', 'lo'], { encoding: 'utf8' });
const netns = probe.status === 0;
if (!netns) {
  console.warn(
    `store-unavailable: loopback-down case skipped, cannot create a network namespace or run ip in it (unshare -n ip link show lo: ${(probe.stderr || probe.error?.message || '').trim()})`,
  );
}

describe('the embedded store cannot be reached', () => {
  const homes: string[] = [];
  afterAll(() => {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it.runIf(netns)(
    'with the loopback interface down: one line, exit 1, the lock released',
    () => {
      const home = mkdtempSync(join(tmpdir(), 'revwatch-nolo-'));
      homes.push(home);
      // The namespace's loopback is down as created; `ip link` shows it, so a change of default would be seen.
      const r = spawnSync(
        'unshare',
        ['-n', 'sh', '-c', `ip link show lo | grep -q 'state DOWN' && exec node "$0" --home "$1" status`, BIN, home],
        {
          encoding: 'utf8',
          timeout: 110_000,
        },
      );
      expect(r.error).toBeUndefined();
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^revwatch: the embedded store on 127\.0\.0\.1:\d+ cannot be reached: connect ENETUNREACH .*\(is the loopback interface up\?\)\n$/,
      );
      expect(r.status).toBe(1);
      expect(existsSync(join(home, 'db.lock'))).toBe(false);
    },
    120_000,
  );

  describe('a store that accepts and never answers', () => {
    let server: Server;
    const sockets: Socket[] = [];
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    });

    it('every request has a deadline: the store is reported unavailable, not waited for', async () => {
      server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const client = localDynamoClient(`127.0.0.1:${port}`, { connectMs: 1_000, requestMs: 1_000 });
      try {
        const failure = await openDynamoTable(client, { tableName: 'revwatch' })
          .ensureTable()
          .then(
            () => null,
            (err: unknown) => err,
          );
        let cause: unknown = failure;
        while (cause instanceof Error && !(cause instanceof StoreUnavailableError)) cause = cause.cause;
        expect(cause, String(failure)).toBeInstanceOf(StoreUnavailableError);
        expect((cause as Error).message).toMatch(new RegExp(`^the embedded store on 127\\.0\\.0\\.1:${port} did not answer in time: `));
      } finally {
        client.destroy();
      }
    }, 120_000);
  });
});
