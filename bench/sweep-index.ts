/**
 * `npx tsx bench/sweep-index.ts [entries]`: the revocation index's size per
 * revoked serial, the cost of a first and of a 1 %-changed snapshot, and
 * `revwatch lookup` of 100,000 serials (half listed) against it, through the
 * built CLI. Synthetic: one issuer key, 8 shards, 16-byte serials as public
 * CAs use, dates and reasons spread. The whole sweep, over HTTP with the
 * floor beside it, is `npm run bench -- sweep` (bench/sweep.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RevocationIndexFiles } from '../src/adapters/local/revocation-index-files.js';
import { SweepStateFile } from '../src/adapters/local/sweep-state-file.js';
import type { CrlEntry } from '../src/sweep/crl-entries.js';
import { indexSnapshot } from '../src/sweep/revocation-index.js';

const total = Number(process.argv[2] ?? 1_000_000);
const SHARDS = 8;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const issuerKey = createHash('sha256').update('bench issuer').digest('hex');
const serialAt = (i: number): string => `7${createHash('sha256').update(String(i)).digest('hex').slice(0, 31)}`;
const entryAt = (i: number): CrlEntry => ({
  serial: serialAt(i),
  revocationDate: T0 + (i % 86_400) * 1000,
  reasonCode: [null, 1, 4, 5][i % 4]!,
});
const sorted = (list: CrlEntry[]): CrlEntry[] => list.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0));

const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-index-'));
const index = new RevocationIndexFiles(home);
const shards: CrlEntry[][] = Array.from({ length: SHARDS }, () => []);
for (let i = 0; i < total; i++) shards[i % SHARDS]!.push(entryAt(i));
shards.forEach(sorted);
const url = (s: number): string => `http://crl.bench.example/shard-${s}.crl`;

// CPU time beside wall time: on a shared, loaded machine the wall clock says more about the neighbours.
const cpuSeconds = (since: NodeJS.CpuUsage): string => {
  const u = process.cpuUsage(since);
  return ((u.user + u.system) / 1e6).toFixed(2);
};
let cpu = process.cpuUsage();
let t = performance.now();
for (let s = 0; s < SHARDS; s++) {
  await indexSnapshot(index, {
    url: url(s),
    issuerKey,
    snapshot: {
      url: url(s),
      sweep: 1,
      at: T0,
      sha256: `s1-${s}`,
      thisUpdate: T0,
      nextUpdate: null,
      crlNumber: '1',
      entries: shards[s]!.length,
    },
    previousRead: null,
    previous: null,
    entries: shards[s]!,
  });
}
const firstMs = performance.now() - t;
const firstCpu = cpuSeconds(cpu);
const bytes = index.indexBytes();

// Sweep 2: one shard changes by 1 % of its entries added and a few removed.
const before = shards[0]!;
const added = Array.from({ length: Math.round(before.length / 100) }, (_, k) => entryAt(total + k));
const after = sorted([...before.slice(10), ...added]);
cpu = process.cpuUsage();
t = performance.now();
const work = await indexSnapshot(index, {
  url: url(0),
  issuerKey,
  snapshot: {
    url: url(0),
    sweep: 2,
    at: T0 + 4 * 3_600_000,
    sha256: 's2-0',
    thisUpdate: T0,
    nextUpdate: null,
    crlNumber: '2',
    entries: after.length,
  },
  previousRead: 1,
  previous: { sha256: 's1-0', entries: before },
  entries: after,
});
const changeMs = performance.now() - t;
const changeCpu = cpuSeconds(cpu);

await new SweepStateFile(home).save({
  sweeps: [
    { sweep: 1, startedAt: T0, finishedAt: T0, urls: SHARDS, changed: SHARDS, unchanged: 0, faults: 0 },
    { sweep: 2, startedAt: T0 + 4 * 3_600_000, finishedAt: T0 + 4 * 3_600_000, urls: SHARDS, changed: 1, unchanged: SHARDS - 1, faults: 0 },
  ],
  urls: {},
  issuers: { [issuerKey]: { issuerKey, subjectKeyId: null, caSha256: [], name: 'bench', owner: 'bench' } },
  health: {},
});
const queries = Array.from({ length: 100_000 }, (_, k) => (k % 2 ? serialAt(k * 7) : `ff${serialAt(k)}`));
const file = join(home, 'serials.txt');
writeFileSync(file, `${queries.join('\n')}\n`);
t = performance.now();
const r = spawnSync('node', ['bin/revwatch.js', '--home', home, '--json', 'lookup', file], { maxBuffer: 1 << 30 });
const lookupMs = performance.now() - t;
if (r.status !== 0) throw new Error(`lookup failed: ${r.stderr.toString()}`);
const answers = JSON.parse(r.stdout.toString()) as { listed: boolean }[];

console.log(`entries indexed: ${total} on ${SHARDS} shards of one issuer`);
console.log(`index bytes: ${bytes} = ${(bytes / total).toFixed(1)} bytes per revoked serial (sorted file + delta + URL list)`);
console.log(`first snapshot of every shard: ${(firstMs / 1000).toFixed(2)} s wall, ${firstCpu} s CPU`);
console.log(
  `one shard 1 % changed (+${work.added} -${work.removed}): ${work.recordsWritten} records written in ${changeMs.toFixed(0)} ms wall, ${changeCpu} s CPU`,
);
console.log(
  `lookup of ${queries.length} serials (CLI, --json, ${answers.filter((a) => a.listed).length} listed): ${(lookupMs / 1000).toFixed(2)} s wall, process start included`,
);
