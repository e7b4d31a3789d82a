/**
 * Run ONLY inside a loopback-only network namespace (`unshare -n`, set up by
 * test/integration/address-guard-netns.test.ts): there, 169.254.169.254,
 * 10.0.0.1 and fd00:ec2::254 are addresses on the namespace's own `lo`, so even
 * a guard that failed could reach nothing outside it. Starts an HTTP server on
 * every namespace address, fetches each through HttpFetcher, and prints one
 * JSON line: what each fetch returned and which addresses the server saw.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { OcspClient } from '../../src/adapters/net/ocsp-client.js';
import { SystemClock } from '../../src/adapters/system-clock.js';

async function main(): Promise<void> {
  if (process.env.REVWATCH_IN_NETNS !== '1') throw new Error('refusing to run outside the test network namespace');
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.socket.localAddress ?? '?');
    res.end('reached');
  });
  await new Promise<void>((resolve) => server.listen(0, '::', resolve));
  const port = (server.address() as AddressInfo).port;
  const targets = [
    `http://169.254.169.254:${port}/`,
    `http://[::ffff:169.254.169.254]:${port}/`,
    `http://[fd00:ec2::254]:${port}/`,
    `http://169.254.10.10:${port}/`,
    `http://10.0.0.1:${port}/`,
    `http://127.0.0.1:${port}/`,
    `http://[::7f00:1]:${port}/`,
  ];
  const results: Record<string, Record<string, string>> = {};
  for (const allow of [false, true]) {
    const fetcher = new HttpFetcher({
      clock: new SystemClock(),
      allowPrivateNetwork: allow,
      maxAttempts: 1,
      connectTimeoutMs: 2_000,
      otherDeadlineMs: 5_000,
    });
    const mode = allow ? 'allow' : 'default';
    results[mode] = {};
    for (const url of targets) {
      const r = await fetcher.fetch({ url, maxBytes: 1000 });
      results[mode]![url.replace(`:${port}`, '')] = r.ok ? 'ok' : `${r.kind}: ${r.message}`;
    }
    // The keep-alive OCSP client (its own connections, not the general fetcher's) under the same guard.
    const ocsp = new OcspClient({ fallback: fetcher, allowPrivateNetwork: allow, timeoutMs: 5_000 });
    const request = Uint8Array.from([0x30, 0x03, 0x30, 0x01, 0x00]);
    for (const url of targets) {
      const r = await ocsp.fetch({
        url,
        method: 'POST',
        body: request,
        headers: { 'content-type': 'application/ocsp-request' },
        maxBytes: 1000,
      });
      results[mode]![`ocsp ${url.replace(`:${port}`, '')}`] = r.ok ? 'ok' : `${r.kind}: ${r.message}`;
    }
    await ocsp.close();
    await fetcher.close();
  }
  server.close();
  process.stdout.write(`${JSON.stringify({ results, hits })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
