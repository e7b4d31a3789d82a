/**
 * The floor of `npm run bench -- sweep`, in a fresh process of its own: every
 * URL fetched with node:http at the sweep's concurrency (the same per-host
 * scheduler) and every byte hashed with SHA-256; nothing parsed, verified or
 * kept. Prints one JSON line: wall ms, bytes, peak RSS.
 *
 *   node sweep-floor.mjs <urls.json> <parallel> <perHost>
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { runPerHost } from '../src/util/host-pool.js';

const [urlsPath, parallelArg, perHostArg] = process.argv.slice(2) as [string, string, string];
const urls = JSON.parse(readFileSync(urlsPath, 'utf8')) as string[];
const agent = new Agent({ keepAlive: true, maxSockets: Number(perHostArg) });

function fetchHashed(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      const hash = createHash('sha256');
      let n = 0;
      res.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        n += chunk.length;
      });
      res.on('end', () => {
        hash.digest();
        resolve(n);
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

const peakRssMb = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
};

const t = performance.now();
let bytes = 0;
await runPerHost(
  urls,
  (u) => u,
  async (u) => {
    // Read after the await: `bytes += await …` would add to the total as it stood when the fetch began.
    const n = await fetchHashed(u);
    bytes += n;
  },
  { parallel: Number(parallelArg), perHost: Number(perHostArg) },
);
const ms = performance.now() - t;
agent.destroy();
console.log(JSON.stringify({ ms, bytes, urls: urls.length, peakRssMb: peakRssMb() }));
