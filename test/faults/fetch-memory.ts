/**
 * One fetch, measured in its own process: `node --import tsx
 * test/faults/fetch-memory.ts <scenario>` prints one JSON line with the peak
 * resident set (process.resourceUsage().maxRSS, which only grows) before and
 * after the fetch. Scenarios: endless (chunked, never ends, against the
 * 256 MiB CRL cap), chunked-100mb (a 100 MB body without Content-Length:
 * spills to a temporary file past 64 MB), declared-100mb (Content-Length
 * 100 MB: one buffer of that size). Loopback only.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { DEFAULT_CRL_MAX_BYTES } from '../../src/check/probe.js';

const MB = 1024 * 1024;
const scenario = process.argv[2] ?? 'endless';
const block = Buffer.alloc(MB, 0x30);

const server = createServer((req, res) => {
  if (req.url === '/warm') return res.end(Buffer.alloc(MB));
  if (scenario === 'declared-100mb') res.writeHead(200, { 'content-length': String(100 * MB) });
  else res.writeHead(200, {});
  let sent = 0;
  const limit = scenario === 'endless' ? Infinity : 100 * MB;
  const pump = (): void => {
    while (!res.destroyed && sent < limit) {
      sent += block.length;
      if (!res.write(block)) return void res.once('drain', pump);
    }
    if (sent >= limit) res.end();
  };
  pump();
});

async function main(): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fetcher = new HttpFetcher({ clock: new SystemClock(), allowPrivateNetwork: true, maxAttempts: 1 });
  await fetcher.fetch({ url: `${url}/warm`, maxBytes: 2 * MB });
  const baseline = process.resourceUsage().maxRSS * 1024;
  const started = Date.now();
  const r = await fetcher.fetch({ url: `${url}/body`, maxBytes: DEFAULT_CRL_MAX_BYTES, purpose: 'crl' });
  const seconds = (Date.now() - started) / 1000;
  const peak = process.resourceUsage().maxRSS * 1024;
  await fetcher.close();
  server.closeAllConnections();
  server.close();
  process.stdout.write(
    `${JSON.stringify({ scenario, outcome: r.ok ? `ok ${r.body.length} bytes` : `${r.kind}: ${r.message}`, seconds, baselineMb: Math.round(baseline / MB), peakMb: Math.round(peak / MB), fetchMb: Math.round((peak - baseline) / MB), capMb: DEFAULT_CRL_MAX_BYTES / MB })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
