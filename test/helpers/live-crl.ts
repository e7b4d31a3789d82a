/**
 * A CA's CRL served live on 127.0.0.1 for tests that spawn the CLI: every
 * request gets a freshly signed CRL listing what `entries()` says at that
 * moment, with the next crlNumber, thisUpdate a minute ago and nextUpdate in a
 * week. Also the spawned `revwatch` of those tests, which reports how the
 * process ended (exit code or signal) instead of throwing.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { LocalCa } from '../../src/local-ca/ca.js';
import type { CrlEntryInput } from '../../src/local-ca/crl-writer.js';

const DAY = 86_400_000;
const BIN = join(__dirname, '../../bin/revwatch.js');

export interface LiveCrl {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `ca`'s CRL at `/ca.crl` (any other path is a 404). */
export async function serveLiveCrl(ca: LocalCa, entries: () => readonly CrlEntryInput[]): Promise<LiveCrl> {
  let crlNumber = 1;
  const server = createServer((req, res) => {
    if (req.url !== '/ca.crl') {
      res.writeHead(404).end();
      return;
    }
    const now = Date.now();
    const crl = ca.crl({ entries: entries(), thisUpdate: now - 60_000, nextUpdate: now + 7 * DAY, crlNumber: crlNumber++ });
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Ended {
  readonly args: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI in its own process on `home` (private addresses allowed: the CRL is on 127.0.0.1). */
export const spawnRevwatch = (home: string, args: readonly string[]): Promise<Ended> =>
  new Promise((resolve) => {
    execFile(
      'node',
      [BIN, '--home', home, '--allow-private-network', ...args],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        resolve({
          args: args.join(' '),
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
