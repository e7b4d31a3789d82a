/**
 * `npm run bench -- sweep [--scale <fraction>]` (issue 27, "How it is
 * measured"): a synthetic CCADB (bench/sweep-data.ts) served from loopback,
 * imported and swept by the built CLI, each run a fresh process whose peak RSS
 * is its own:
 *
 * 1. the floor: every URL fetched by node:http at the same concurrency and
 *    every byte hashed (bench/sweep-floor.ts);
 * 2. the first sweep (every CRL new), against the floor: wall and peak RSS;
 * 3. an unchanged re-sweep: every CRL answers 304;
 * 4. a re-sweep with 1 % of the CRLs changed (1 % of their entries added,
 *    three removed): wall and the entries it diffed;
 * 5. `lookup` of 100,000 serials, half of them listed;
 * 6. the index's bytes per revoked serial, and per sweep the records
 *    (the AWS layout's items) and snapshots (its objects) written and the
 *    bytes fetched: the inputs of README's WebPKI cost on paper.
 *
 * Figures are the CLI's wall time, process start included.
 */
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { RevocationIndexFiles } from '../src/adapters/local/revocation-index-files.js';
import { PORT, benchSet, serialOf, type BenchSet, type BenchUrl } from './sweep-data.js';

const PARALLEL = 64;
const PER_HOST = 4;
const LOOKUPS = 100_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  /** User + system CPU of the process: on a loaded machine, what it cost beside the wall time it took. */
  cpuMs: number;
  peakRssMb: number;
}

/** A child process, its wall time and its own peak RSS (VmHWM, printed by a preload at exit). */
export function runChild(out: string, args: readonly string[], profileDir?: string): Promise<Ran> {
  const preload = join(out, 'peak-rss.mjs');
  writeFileSync(
    preload,
    "import { readFileSync } from 'node:fs';\nprocess.on('exit', () => { const m = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8')); const u = process.resourceUsage(); process.stderr.write('\\nPEAK_RSS_KB ' + (m ? m[1] : 0) + ' CPU_MS ' + Math.round((u.userCPUTime + u.systemCPUTime) / 1000) + '\\n'); });\n",
  );
  return new Promise((resolve, reject) => {
    const t = performance.now();
    // BENCH_CPU_PROF=<dir>: every measured process writes a CPU profile there (node --cpu-prof).
    const dir = profileDir ?? process.env.BENCH_CPU_PROF;
    const prof = dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
    const child = spawn(process.execPath, [...prof, '--import', preload, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const err = Buffer.concat(stderr).toString();
      const kb = Number(/PEAK_RSS_KB (\d+)/.exec(err)?.[1] ?? 0);
      const cpuMs = Number(/CPU_MS (\d+)/.exec(err)?.[1] ?? 0);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString(),
        stderr: err,
        ms: performance.now() - t,
        cpuMs,
        peakRssMb: kb / 1024,
      });
    });
  });
}

/** One server per loopback host name; `version` says which CRLs they serve (2: the changed 1 % too). */
export async function serve(
  set: BenchSet,
): Promise<{ servers: Server[]; setVersion(v: 1 | 2): void; counts: { full: number; notModified: number } }> {
  let version: 1 | 2 = 1;
  const counts = { full: 0, notModified: 0 };
  const byHostPath = new Map<string, { u: number; entry: BenchUrl }>();
  for (const [u, entry] of set.urls.entries()) byHostPath.set(`${entry.host}${entry.path}`, { u, entry });
  const servers: Server[] = [];
  for (const host of new Set(set.urls.map((x) => x.host))) {
    const server = createServer((req, res) => {
      const hit = byHostPath.get(`${req.headers.host}${req.url}`);
      if (!hit) {
        res.statusCode = 404;
        res.end();
        return;
      }
      const v2 = version === 2 && hit.entry.v2 ? hit.entry.v2 : null;
      const etag = v2 ? v2.etag : hit.entry.etag;
      if (req.headers['if-none-match'] === etag) {
        counts.notModified++;
        res.statusCode = 304;
        res.setHeader('etag', etag);
        res.end();
        return;
      }
      counts.full++;
      res.setHeader('etag', etag);
      res.setHeader('content-type', 'application/pkix-crl');
      res.setHeader('content-length', v2 ? v2.bytes : hit.entry.bytes);
      createReadStream(join(set.dir, v2 ? 'v2' : 'v1', `${hit.u}.crl`)).pipe(res);
    });
    server.keepAliveTimeout = 30_000;
    const address = host.split(':')[0]!;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(PORT, address, () => resolve());
      });
    } catch (err) {
      await Promise.all(servers.map((x) => new Promise((resolve) => x.close(resolve))));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      // One line, no stack: the cause is another bench, not this code.
      console.error(
        `sweep bench: ${address}:${PORT} is in use (another sweep bench is serving its data set); wait for it, or run with BENCH_SWEEP_PORT=<another port> (its data set is generated once for that port)`,
      );
      process.exit(2);
    }
    servers.push(server);
  }
  return {
    servers,
    setVersion: (v) => {
      version = v;
    },
    counts,
  };
}

interface SweepJson {
  urls: number;
  changed: number;
  unchanged: number;
  notModified: number;
  faults: number;
  added: number;
  removed: number;
  claimChanged: number;
  recordsWritten: number;
  bytesFetched: number;
  startedAt: number;
  finishedAt: number;
  results: { url: string; fault: { kind: string; message: string } | null }[];
}

const dirBytes = (dir: string): { bytes: number; files: number } => {
  let bytes = 0;
  let files = 0;
  for (const f of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!f.isFile()) continue;
    bytes += statSync(join(f.parentPath ?? f.path, f.name)).size;
    files++;
  }
  return { bytes, files };
};

/**
 * Where the first sweep's wall time went, from its main thread's CPU profile: each sample is put in the phase
 * of its innermost frame that names one (so a Buffer copy made by the index writer counts as index writing),
 * "idle" is the event loop waiting for the network or the disk, and the shares are of the profile's span,
 * which is the process's life.
 */
const PHASES: readonly (readonly [string, RegExp])[] = [
  ['garbage collection', /^\(garbage collector\)$/],
  ['idle (waiting for network or disk)', /^\(idle\)$/],
  ['signature verification', /crypto\/sig|^verifyOneShot$/],
  ['CRL entries: read and sort (sweep/crl-entries)', /sweep\/crl-entries\.js/],
  ['CRL parse and checks (pki/crl, pki/der)', /pki\/(crl|der|certificate)\.js/],
  ['index fold: diff and records (sweep/revocation-index)', /sweep\/revocation-index\.js/],
  ['index files: pack, merge, .keys, queue (revocation-index-files)', /local\/revocation-index-files\.js/],
  [
    'durable writes: open, write, fsync, rename (durable-files, evidence)',
    /durable-files\.js|evidence-files\.js|fs\/promises|^(fsync|openFileHandle|close|mkdir|writeBuffer|writeString|rename)$/,
  ],
  ['health findings (sweep/health*)', /sweep\/health(-report)?\.js/],
  ['fetch: HTTP, body, SHA-256 (net/, undici)', /net\/|undici|dispatcher\/|llhttp|crypto\/hash|node:net|streams\//],
  ['embedded store and state (dynalite client, store/)', /store\/|adapters\/aws|@aws-sdk|@smithy|sweep-state/],
  ['process start: module loading', /modules\/(esm|cjs)|esm\/|cjs\/|cjs-module-lexer|bootstrap\//],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

function phaseLines(dir: string): string[] {
  const file = readdirSync(dir).find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) return ['  (no CPU profile of the first sweep)'];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const phaseOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = phaseOf.get(id);
    if (known !== undefined) return known;
    const frame = byId.get(id)!.callFrame;
    const text = `${frame.functionName} ${frame.url}`;
    const hit = PHASES.find(([, re]) => re.test(frame.functionName) || re.test(frame.url) || re.test(text));
    const up = parent.get(id);
    const phase = hit ? hit[0] : up === undefined ? 'other' : classify(up);
    phaseOf.set(id, phase);
    return phase;
  };
  const spent = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const phase = classify(profile.samples[i]!);
    spent.set(phase, (spent.get(phase) ?? 0) + us);
  }
  const lines = [`  first sweep, share of its wall time by phase (main thread's CPU profile, ${s(total / 1000)} s sampled):`];
  for (const [phase, us] of [...spent].sort((a, b) => b[1] - a[1])) {
    lines.push(`    ${((100 * us) / total).toFixed(1).padStart(5)} %  ${s(us / 1000).padStart(6)} s  ${phase}`);
  }
  return lines;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const s = (ms: number): string => (ms / 1000).toFixed(2);
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

export async function benchSweep(out: string, scale: number): Promise<string[]> {
  const lines: string[] = [];
  const log = (line: string): void => {
    console.error(line);
  };
  let fresh = false;
  const set = await benchSet(scale, (line) => {
    fresh = true;
    log(line);
  });
  lines.push(
    `sweep bench at scale ${scale}: ${set.urls.length} CRL URLs of ${set.cas} CAs (${set.shardedIssuers} with ${set.urls.filter((x) => x.ca < set.shardedIssuers).length} shards) on ${new Set(set.urls.map((x) => x.host)).size} hosts, ${set.entries} entries, ${mb(set.bytes)} MB; largest CRL ${mb(Math.max(...set.urls.map((x) => x.bytes)))} MB, smallest ${(Math.min(...set.urls.map((x) => x.bytes)) / 1024).toFixed(1)} KB`,
    `  data set ${fresh ? `generated in ${s(set.generatedMs)} s` : 'reused from cache'}: ${set.dir}`,
  );

  const floorJs = join(out, 'sweep-floor.mjs');
  buildSync({
    entryPoints: [join('bench', 'sweep-floor.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: floorJs,
    logLevel: 'error',
  });
  const urlsFile = join(out, 'sweep-urls.json');
  writeFileSync(urlsFile, JSON.stringify(set.urls.map((x) => x.url)));

  const http = await serve(set);
  const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-sweep-home-'));
  const cli = (...args: string[]): Promise<Ran> =>
    runChild(out, ['bin/revwatch.js', '--home', home, '--allow-private-network', '--json', ...args]);
  // The first sweep is always profiled (a sampling profiler: a few per cent of its wall time), for its phases.
  const firstProfile = join(out, 'sweep-first-profile');
  rmSync(firstProfile, { recursive: true, force: true });
  try {
    const imported = await cli('ccadb', 'import', set.records, set.pems);
    if (imported.code !== 0) throw new Error(`ccadb import failed: ${imported.stderr}`);
    const imp = JSON.parse(imported.stdout) as { disclosures: number; withCrls: number; caCertificates: number };
    lines.push(
      `  ccadb import (V5 records + PEM report): ${imp.disclosures} disclosures, ${imp.withCrls} with CRLs, ${imp.caCertificates} CA certificates in ${s(imported.ms)} s`,
    );

    const floor = await runChild(out, [floorJs, urlsFile, String(PARALLEL), String(PER_HOST)]);
    if (floor.code !== 0) throw new Error(`floor failed: ${floor.stderr}`);
    const f = JSON.parse(floor.stdout.trim().split('\n').pop()!) as { ms: number; bytes: number };
    lines.push(
      `  floor (node:http, ${PARALLEL} parallel, ${PER_HOST} per host, SHA-256 of every byte): ${s(floor.ms)} s wall (${s(f.ms)} s fetching, ${s(floor.cpuMs)} s CPU), ${mb(f.bytes)} MB, peak RSS ${floor.peakRssMb.toFixed(0)} MB`,
    );

    const sweep = async (label: string, profileDir?: string): Promise<{ run: Ran; json: SweepJson }> => {
      const run = await runChild(
        out,
        [
          'bin/revwatch.js',
          '--home',
          home,
          '--allow-private-network',
          '--json',
          'sweep',
          '--parallel',
          String(PARALLEL),
          '--per-host',
          String(PER_HOST),
        ],
        profileDir,
      );
      let json: SweepJson;
      try {
        json = JSON.parse(run.stdout) as SweepJson;
      } catch {
        throw new Error(`${label} sweep printed no JSON (exit ${run.code}): ${run.stderr.slice(-2000)}`);
      }
      const faults = json.results.filter((r) => r.fault);
      lines.push(
        `  ${label}: ${s(run.ms)} s wall (sweep ${s(json.finishedAt - json.startedAt)} s, ${s(run.cpuMs)} s CPU), peak RSS ${run.peakRssMb.toFixed(0)} MB; ${json.changed} changed, ${json.unchanged} unchanged (${json.notModified} answered 304), ${json.faults} faults; ${mb(json.bytesFetched)} MB fetched; entries diffed: +${json.added} -${json.removed} ~${json.claimChanged}; records written ${json.recordsWritten}, snapshots written ${json.changed}`,
      );
      for (const r of faults.slice(0, 3)) lines.push(`    fault ${r.url}: ${r.fault!.kind}: ${r.fault!.message}`);
      return { run, json };
    };

    const first = await sweep('first sweep', firstProfile);
    lines.push(...phaseLines(firstProfile));
    const index = new RevocationIndexFiles(home);
    const indexBytes = index.indexBytes();
    const urlFiles = dirBytes(join(home, 'sweep', 'urls'));
    lines.push(
      `  index after the first sweep: ${indexBytes} bytes = ${(indexBytes / Math.max(1, first.json.added)).toFixed(1)} bytes per indexed serial (${first.json.added}) (sorted files, deltas, URL lists); per-URL snapshot and change files ${mb(urlFiles.bytes)} MB in ${urlFiles.files} files; CRLs kept ${mb(dirBytes(join(home, 'crls')).bytes)} MB`,
    );
    const again = await sweep('unchanged re-sweep');
    http.setVersion(2);
    const changedUrls = set.urls.filter((x) => x.v2);
    const expectAdded = changedUrls.reduce((n, x) => n + (x.v2!.to - x.entries), 0);
    const expectRemoved = changedUrls.reduce((n, x) => n + x.v2!.from, 0);
    const changed = await sweep(`re-sweep, ${changedUrls.length} CRLs changed (expect +${expectAdded} -${expectRemoved})`);

    // Half listed (entries spread over every URL), half never issued.
    const serials: string[] = [];
    for (let i = 0; i < LOOKUPS; i++) {
      const u = (i * 7919) % set.urls.length;
      serials.push(i % 2 === 0 ? serialOf(u, (i * 104_729) % set.urls[u]!.entries) : serialOf(u, set.urls[u]!.entries + 1000 + i));
    }
    const serialsFile = join(home, 'serials.txt');
    writeFileSync(serialsFile, `${serials.join('\n')}\n`);
    const lookup = await cli('lookup', serialsFile);
    if (lookup.code !== 0) throw new Error(`lookup failed: ${lookup.stderr.slice(-2000)}`);
    const answers = JSON.parse(lookup.stdout) as { listed: boolean }[];
    const listed = answers.filter((a) => a.listed).length;
    lines.push(
      `  lookup of ${LOOKUPS} serials (${listed} listed, ${LOOKUPS / 2} expected): ${s(lookup.ms)} s wall (${s(lookup.cpuMs)} s CPU), peak RSS ${lookup.peakRssMb.toFixed(0)} MB`,
    );

    const ratio = first.run.ms / floor.ms;
    lines.push(
      `${verdict(ratio <= 3)} first sweep ${s(first.run.ms)} s = ${ratio.toFixed(2)}x the floor's ${s(floor.ms)} s (goal <= 3x) at scale ${scale}`,
      `${verdict(first.run.peakRssMb <= 1024)} first sweep peak RSS ${first.run.peakRssMb.toFixed(0)} MB (goal <= 1 GB; the floor's ${floor.peakRssMb.toFixed(0)} MB)`,
      `${verdict(again.run.ms <= 10_000 && again.json.notModified === set.urls.length)} unchanged re-sweep ${s(again.run.ms)} s, ${again.json.notModified}/${set.urls.length} answered 304 (goal <= 10 s)`,
      `${verdict(changed.run.ms <= 20_000 && changed.json.added === expectAdded && changed.json.removed === expectRemoved)} 1 %-changed re-sweep ${s(changed.run.ms)} s, entries diffed +${changed.json.added} -${changed.json.removed} of ${set.entries} (goal <= 20 s, work proportional to the change)`,
      `${verdict(lookup.ms <= 2000 && listed === LOOKUPS / 2)} lookup of ${LOOKUPS} serials ${s(lookup.ms)} s (goal <= 2 s)`,
    );
    if (first.json.faults + again.json.faults + changed.json.faults > 0) lines.push('FAIL some CRLs were faults (listed above)');
  } finally {
    for (const x of http.servers) x.closeAllConnections();
    await Promise.all(http.servers.map((x) => new Promise((resolve) => x.close(resolve))));
    rmSync(home, { recursive: true, force: true });
  }
  return lines;
}
