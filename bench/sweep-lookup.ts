/**
 * `npm run bench -- sweep --stages=lookup [--scale F] [--rounds=N]`: step 5 of
 * the sweep bench (bench/sweep.ts) alone, so `lookup` can be re-measured in
 * seconds. The swept home (import, first sweep, unchanged re-sweep, re-sweep
 * with the changed 1 %: the state the full bench looks up in) is made once per
 * scale into the temp directory and kept; later runs only look up. The serials
 * are the full bench's: half listed (spread over every URL), half never issued.
 *
 * Each round is a fresh CLI process (process start included), as in the full
 * bench; the machine's load average is printed beside the figures because the
 * machine is shared.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { benchSet, serialOf, type BenchSet } from './sweep-data.js';
import { runChild, serve } from './sweep.js';

const LOOKUPS = 100_000;
const PARALLEL = 64;
const PER_HOST = 4;

/** The full bench's lookup list (bench/sweep.ts, step 5). */
function lookupSerials(set: BenchSet): string[] {
  const serials: string[] = [];
  for (let i = 0; i < LOOKUPS; i++) {
    const u = (i * 7919) % set.urls.length;
    serials.push(i % 2 === 0 ? serialOf(u, (i * 104_729) % set.urls[u]!.entries) : serialOf(u, set.urls[u]!.entries + 1000 + i));
  }
  return serials;
}

/** A home swept as the full bench sweeps it, made once per scale (in a scratch directory, renamed into place when done). */
async function sweptHome(out: string, set: BenchSet, log: (line: string) => void): Promise<string> {
  const home = `${set.dir}-home`;
  if (existsSync(join(home, 'done'))) return home;
  const scratch = `${home}.partial`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  log(`sweeping the scale-${set.scale} data set into ${home} (once; later runs reuse it)`);
  const cli = async (...args: string[]): Promise<void> => {
    const ran = await runChild(out, ['bin/revwatch.js', '--home', scratch, '--allow-private-network', '--json', ...args]);
    if (ran.code !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed: ${ran.stderr.slice(-2000)}`);
  };
  const http = await serve(set);
  try {
    await cli('ccadb', 'import', set.records, set.pems);
    const sweep = ['sweep', '--parallel', String(PARALLEL), '--per-host', String(PER_HOST)];
    await cli(...sweep);
    await cli(...sweep);
    http.setVersion(2);
    await cli(...sweep);
  } finally {
    for (const x of http.servers) x.closeAllConnections();
    await Promise.all(http.servers.map((x) => new Promise((resolve) => x.close(resolve))));
  }
  writeFileSync(join(scratch, 'serials.txt'), `${lookupSerials(set).join('\n')}\n`);
  writeFileSync(join(scratch, 'done'), '');
  rmSync(home, { recursive: true, force: true });
  renameSync(scratch, home);
  return home;
}

export async function benchSweepLookup(out: string, scale: number, rounds = 3): Promise<string[]> {
  const log = (line: string): void => {
    console.error(line);
  };
  const set = await benchSet(scale, log);
  const home = await sweptHome(out, set, log);
  const serials = join(home, 'serials.txt');
  const lines = [`sweep bench, lookup stage only, at scale ${scale}: ${set.urls.length} CRL URLs, ${set.entries} entries; home ${home}`];
  const times: number[] = [];
  let listed = -1;
  for (let r = 0; r < rounds; r++) {
    const load = loadavg()[0]!.toFixed(2);
    const ran = await runChild(out, ['bin/revwatch.js', '--home', home, '--json', 'lookup', serials]);
    if (ran.code !== 0) throw new Error(`lookup failed: ${ran.stderr.slice(-2000)}`);
    listed = (JSON.parse(ran.stdout) as { listed: boolean }[]).filter((a) => a.listed).length;
    times.push(ran.ms);
    lines.push(
      `  round ${r + 1}: lookup of ${LOOKUPS} serials (${listed} listed, ${LOOKUPS / 2} expected): ${(ran.ms / 1000).toFixed(2)} s wall (${(ran.cpuMs / 1000).toFixed(2)} s CPU), peak RSS ${ran.peakRssMb.toFixed(0)} MB; load average ${load} on ${cpus().length} cores`,
    );
  }
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  lines.push(
    `${median <= 2000 && listed === LOOKUPS / 2 ? 'PASS' : 'FAIL'} lookup of ${LOOKUPS} serials ${(median / 1000).toFixed(2)} s, median of ${rounds} (goal <= 2 s)`,
  );
  return lines;
}
