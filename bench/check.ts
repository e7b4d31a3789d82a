/**
 * `npm run bench -- check [--size=N]…`: N certificates (101,000 by default)
 * spread over 100 CRLs, each listing ten times as many entries as it has
 * tracked certificates (one tracked certificate in ten is listed), plus 1,000
 * certificates answered by a local OCSP responder, tracked on the embedded
 * store; then the real CLI's `check` runs twice, then `status`, `report`
 * (markdown and irg-csv) and a simulated AWS planner run (fan-out.ts planRun
 * on the same dynalite, every certificate due). Reports each stage's wall
 * time, peak RSS and items, and, between sizes, the growth per certificate.
 * 101,000 is 100 CRLs of 10,000 entries; 1,000,000 is 100 CRLs of 99,900.
 * `--size=101000,300000,1000000` runs the sizes in one go. `--stages=planner`
 * runs only the AWS planner, on tracked homes generated once and cached in
 * the temp directory (cachedHome), and compares its jobs with the whole-run
 * planner's.
 *
 * Leaves are written straight to DER and signed with node:crypto: issuing
 * 101,000 certificates through the ASN.1 object model would take minutes and
 * is not what is being measured.
 */
import { pollBytesLine } from './poll-bytes.js';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  closeSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateKeyPairSync, sign } from 'node:crypto';
import { SystemClock } from '../src/adapters/system-clock.js';
import { LocalCa } from '../src/local-ca/ca.js';
import { LocalCaServer } from '../src/local-ca/server.js';
import { Tag, encodeOid, explicit, integer, octetString, seq, set, tlv, x509Time } from '../src/pki/der.js';
import { describeCertificate } from '../src/pki/certificate.js';
import { openEmbeddedStore } from '../src/adapters/local/embedded-store.js';
import { trackCertificates, type TrackEntry } from '../src/track/track.js';
import type { CrlEntryInput } from '../src/local-ca/crl-writer.js';
import type { JobsSummary } from '../test/helpers/planner-reference.js';

const CRLS = 100;
const OCSP_CERTS = 1_000;
/** Certificates are tracked a CRL at a time, so the bench itself never holds a million of them. */
const REVOKED_EVERY = 10; // one tracked certificate in ten is on its CRL
/** The larger size the issue asks for, and the wall-clock budget for it. */
const LARGE_TARGET = 300_000;
const LARGE_BUDGET_MS = 10 * 60_000;

const ECDSA_SHA256 = seq(encodeOid('1.2.840.10045.4.3.2'));
const name = (cn: string): Buffer => seq(set(seq(encodeOid('2.5.4.3'), tlv(Tag.UTF8_STRING, Buffer.from(cn)))));
const ext = (oid: string, value: Buffer): Buffer => seq(encodeOid(oid), octetString(value));

export function leafDer(
  ca: LocalCa,
  serial: bigint,
  cn: string,
  notBefore: number,
  notAfter: number,
  spki: Buffer,
  crlUrl: string | null,
  ocspUrl: string | null,
): Buffer {
  const exts: Buffer[] = [];
  if (crlUrl) exts.push(ext('2.5.29.31', seq(seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(crlUrl))))))));
  if (ocspUrl) exts.push(ext('1.3.6.1.5.5.7.1.1', seq(seq(encodeOid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from(ocspUrl))))));
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_SHA256,
    Buffer.from(ca.info.raw.subjectName),
    seq(x509Time(notBefore), x509Time(notAfter)),
    name(cn),
    spki,
    explicit(3, seq(...exts)),
  );
  const sig = sign('sha256', tbs, ca.keys.privateKey);
  return seq(tbs, ECDSA_SHA256, tlv(Tag.BIT_STRING, Uint8Array.of(0), sig));
}

interface CheckJson {
  itemsWritten: number;
  itemsRead: number;
  observationsWritten: number;
  certificates: number;
  notDue: number;
  crlsFetched: number;
  ocspRequests: number;
  changes: unknown[];
  failedSources: unknown[];
  verdicts: Record<string, number>;
  timings: { plan: number; crl: number; ocsp: number; write: number };
}

interface Stage {
  ms: number;
  /** Peak resident memory of the whole process, MB (GNU time), or null where /usr/bin/time is missing. */
  peakMb: number | null;
  stdout: string;
}

const haveTime = existsSync('/usr/bin/time');

/**
 * Runs the real CLI in a child process (asynchronously: this process serves its CRLs and OCSP answers).
 * `profileDir`: node --cpu-prof writes a CPU profile of each of its threads there (the command's and the
 * embedded store's worker).
 */
async function cli(home: string, args: string[], profileDir?: string, stdoutFile?: string): Promise<Stage> {
  const start = performance.now();
  const rssFile = join(home, 'peak-rss.txt');
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const argv = [...prof, 'bin/revwatch.js', '--home', home, '--allow-private-network', ...args];
  const [command, commandArgs] = haveTime
    ? ['/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, ...argv]]
    : [process.execPath, argv];
  let stdout = '';
  if (stdoutFile) await spawnTo(command, commandArgs, stdoutFile);
  else stdout = (await promisify(execFile)(command, commandArgs, { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 })).stdout;
  const ms = performance.now() - start;
  const peakMb = haveTime ? Math.round(Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024) : null;
  return { ms, peakMb, stdout };
}

/**
 * Runs a command with its standard output going to a file: `status --json` writes about 1.1 KB per certificate,
 * more at 1,000,000 than a string (or execFile's buffer) can hold.
 */
async function spawnTo(command: string, args: readonly string[], file: string): Promise<void> {
  const fd = openSync(file, 'w');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', fd, 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`${args.join(' ')} ended with ${signal ?? `exit ${code}`}`)),
      );
    });
  } finally {
    closeSync(fd);
  }
}

/** How many times `needle` occurs in a file, read as a stream (a match may span two chunks). */
async function occurrences(file: string, needle: string): Promise<number> {
  let count = 0;
  let carry = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const text = carry + (chunk as string);
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++;
    carry = text.slice(Math.max(0, text.length - needle.length + 1));
  }
  return count;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mb = (s: Stage): string => (s.peakMb === null ? '? MB' : `${s.peakMb} MB`);

interface PlannerJson {
  certificates: number;
  crlJobs: number;
  ocspBatches: number;
  ocspRequests: number;
  payloadsInTable: number;
  /** Peak RSS when planning ended (before `--digest` reads the jobs back), MB. */
  peakMb: number;
  /** With --digest or --reference (bench/planner-run.ts). */
  jobs?: JobsSummary;
}

interface SizeResult {
  certificates: number;
  crls: number;
  unsettled: number;
  trackMs: number;
  first: Stage & { json: CheckJson };
  second: Stage & { json: CheckJson };
  status: Stage;
  report: Stage;
  irgCsv: Stage;
  planner: Stage & { json: PlannerJson };
  /** The planner queued the jobs the whole-run planner makes (bench/planner-run.ts --digest and --reference). */
  plannerSame: boolean;
  totalMs: number;
}

/**
 * The AWS planner (fan-out.ts planRun) in a child process on the bench home's dynalite, its clock two days
 * ahead so every certificate is due again; the queue only counts messages. Run through tsx: its loader adds
 * a few tens of MB to the peak, the same at every size.
 */
async function planner(home: string, flags: readonly string[] = []): Promise<Stage & { json: PlannerJson }> {
  const start = performance.now();
  const rssFile = join(home, 'peak-rss-planner.txt');
  const argv = ['--import', 'tsx', join('bench', 'planner-run.ts'), home, ...flags];
  const r = haveTime
    ? await promisify(execFile)('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, ...argv], { encoding: 'utf8' })
    : await promisify(execFile)(process.execPath, argv, { encoding: 'utf8' });
  const ms = performance.now() - start;
  const peakMb = haveTime ? Math.round(Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024) : null;
  return { ms, peakMb, stdout: r.stdout, json: JSON.parse(r.stdout) as PlannerJson };
}

export async function benchAtSize(size: number): Promise<SizeResult> {
  const started = performance.now();
  const world = await prepareHome(size);
  const { home, entries } = world;
  try {
    const check = async (profileDir?: string): Promise<Stage & { json: CheckJson }> => {
      const stage = await cli(home, ['--json', 'check'], profileDir);
      const json = JSON.parse(stage.stdout) as CheckJson;
      process.stderr.write(
        `  [${entries}] check in ${secs(stage.ms)}, ${mb(stage)} (plan ${json.timings.plan} ms, CRLs ${json.timings.crl} ms, OCSP ${json.timings.ocsp} ms, writes ${json.timings.write} ms; read ${json.itemsRead}, wrote ${json.itemsWritten})\n`,
      );
      return { ...stage, json };
    };
    // BENCH_CHECK_PROFILE=<dir>: the first check is profiled (bench/sweep.ts's BENCH_CPU_PROF profiles every process).
    // A sampling profiler's cost per call into native code shows in the profile: compare CPU unprofiled.
    const profile = process.env.BENCH_CHECK_PROFILE;
    const first = await check(profile ? join(profile, `first-check-${entries}`) : undefined);
    const second = await check();
    process.stderr.write(await pollBytesLine(home));
    const statusFile = join(home, 'status.json');
    const status = await cli(home, ['--json', 'status'], undefined, statusFile);
    // One "verdict" member per certificate (the case-level tallies are "verdicts"); the file is too big to parse at 1M.
    const judged = await occurrences(statusFile, '"verdict":');
    rmSync(statusFile, { force: true });
    process.stderr.write(`  [${entries}] status in ${secs(status.ms)}, ${mb(status)}, ${judged} certificates judged\n`);
    const report = await cli(home, ['report', '--case', 'bench', '--format', 'markdown', '--out', join(home, 'report.md')]);
    process.stderr.write(`  [${entries}] report markdown in ${secs(report.ms)}, ${mb(report)}\n`);
    const irgCsv = await cli(home, ['report', '--case', 'bench', '--format', 'irg-csv', '--out', join(home, 'report.csv')]);
    process.stderr.write(`  [${entries}] report irg-csv in ${secs(irgCsv.ms)}, ${mb(irgCsv)}\n`);
    const plan = await planner(home, ['--digest']);
    const reference = await planner(home, ['--reference']);
    plan.peakMb = plan.json.peakMb; // when planning ended: reading the jobs back for the digest comes after
    const plannerSame = plan.json.jobs?.digest === reference.json.jobs?.digest;
    process.stderr.write(
      `  [${entries}] AWS planner in ${secs(plan.ms)}, ${mb(plan)}: ${plan.json.certificates} due, ${plan.json.crlJobs} CRL jobs, ${plan.json.ocspBatches} OCSP batches\n`,
    );
    const revoked = (first.json.verdicts.revoked_on_time ?? 0) + (first.json.verdicts.revoked_late ?? 0);
    return {
      certificates: entries,
      crls: CRLS,
      unsettled: entries - revoked,
      trackMs: world.trackMs,
      first,
      second,
      status,
      report,
      irgCsv,
      planner: plan,
      plannerSame,
      totalMs: performance.now() - started,
    };
  } finally {
    await world.stop();
  }
}

/** Bump when prepareHome's layout changes: older cached homes are then made again. */
const HOME_LAYOUT = 1;
/** Where `--stages=planner` keeps tracked homes (generating 1,000,000 certificates takes a long while), as bench/sweep-data.ts keeps its data. */
const HOME_CACHE = join(tmpdir(), 'revwatch-bench-check-cache');

/**
 * A tracked (never checked) home of `size` certificates, generated once and kept under HOME_CACHE. Its CA server
 * is gone: only stages that fetch nothing (the planner) can run on it, each on a copy (a planned run stays open).
 */
export async function cachedHome(size: number): Promise<{ home: string; entries: number; trackMs: number; reused: boolean }> {
  const dir = join(HOME_CACHE, `v${HOME_LAYOUT}-${size}`);
  const manifest = join(dir, 'bench-home.json');
  if (existsSync(manifest))
    return { ...(JSON.parse(readFileSync(manifest, 'utf8')) as { entries: number; trackMs: number }), home: dir, reused: true };
  mkdirSync(HOME_CACHE, { recursive: true });
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building);
  const world = await prepareHome(size, building);
  await world.stop();
  writeFileSync(join(building, 'bench-home.json'), JSON.stringify({ entries: world.entries, trackMs: world.trackMs }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return { home: dir, entries: world.entries, trackMs: world.trackMs, reused: false };
}

/** How a size is laid out: 100 CRLs of equal share, each listing ten entries per tracked certificate, and 1,000 OCSP ones. */
function layout(size: number): { certsPerCrl: number; entriesPerCrl: number } {
  const certsPerCrl = Math.max(REVOKED_EVERY, Math.round((size - OCSP_CERTS) / CRLS / REVOKED_EVERY) * REVOKED_EVERY);
  return { certsPerCrl, entriesPerCrl: certsPerCrl * REVOKED_EVERY };
}

/** A home with `size` certificates tracked (laid out as `layout` says), and the CA serving their CRLs and OCSP. */
export async function prepareHome(
  size: number,
  into?: string,
): Promise<{ home: string; entries: number; trackMs: number; stop(): Promise<void> }> {
  const { certsPerCrl, entriesPerCrl } = layout(size);
  const now = Date.now();
  const clock = new SystemClock();
  const home = into ?? mkdtempSync(join(tmpdir(), 'revwatch-bench-check-'));
  const ca = await LocalCa.create({
    name: 'Bench Check CA',
    keyType: 'ec-p256',
    notBefore: now - 400 * 86_400_000,
    notAfter: now + 400 * 86_400_000,
  });
  const server = await new LocalCaServer(ca, () => Date.now()).start();
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const kase = {
    id: 'bench',
    title: 'bench',
    reportedAt: now - 2 * 86_400_000,
    reason: 'key-compromise' as const,
    kind: 'tls-subscriber' as const,
  };
  let open: Awaited<ReturnType<typeof openEmbeddedStore>> | null = null;
  try {
    let generateMs = 0;
    let trackMs = 0;
    let tracked = 0;
    open = await openEmbeddedStore(home);
    const track = async (batch: TrackEntry[], generated: number): Promise<void> => {
      generateMs += performance.now() - generated;
      const t = performance.now();
      await trackCertificates({ store: open!.store, clock }, kase, batch, [ca.info]);
      trackMs += performance.now() - t;
      tracked += batch.length;
    };
    let serial = 1n << 100n;
    for (let c = 0; c < CRLS; c++) {
      const t = performance.now();
      const entries: TrackEntry[] = [];
      const url = `${server.baseUrl}/crl/${c}.crl`;
      const crlEntries: CrlEntryInput[] = [];
      for (let i = 0; i < entriesPerCrl - certsPerCrl / REVOKED_EVERY; i++)
        crlEntries.push({
          serial: (serial + 10_000_000n + BigInt(c * entriesPerCrl + i)).toString(16),
          revocationDate: now - 86_400_000,
          reasonCode: 4,
        });
      for (let i = 0; i < certsPerCrl; i++) {
        serial++;
        const der = leafDer(ca, serial, `leaf-${c}-${i}.bench.example`, now - 10 * 86_400_000, now + 80 * 86_400_000, spki, url, null);
        if (i % REVOKED_EVERY === 0) crlEntries.push({ serial: serial.toString(16), revocationDate: now - 3_600_000, reasonCode: 1 });
        entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
      }
      server.serve(
        `/crl/${c}.crl`,
        ca.crl({
          entries: crlEntries,
          entryCount: crlEntries.length,
          thisUpdate: now - 60_000,
          nextUpdate: now + 7 * 86_400_000,
          crlNumber: c + 1,
        }),
      );
      await track(entries, t);
      if ((c + 1) % 10 === 0) process.stderr.write(`  [${size}] ${tracked} generated and tracked\n`);
    }
    const t = performance.now();
    const entries: TrackEntry[] = [];
    for (let i = 0; i < OCSP_CERTS; i++) {
      serial++;
      const der = leafDer(ca, serial, `ocsp-${i}.bench.example`, now - 10 * 86_400_000, now + 80 * 86_400_000, spki, null, server.ocspUrl);
      server.issued(serial.toString(16));
      if (i % REVOKED_EVERY === 0) server.revoke(serial.toString(16), now - 3_600_000, 1);
      entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
    }
    await track(entries, t);
    await open.close();
    open = null;
    process.stderr.write(`  [${tracked}] generated in ${secs(generateMs)}, tracked in ${secs(trackMs)}\n`);
    return { home, entries: tracked, trackMs, stop: () => server.stop() };
  } catch (err) {
    await open?.close();
    await server.stop();
    throw err;
  }
}

function sizeLines(r: SizeResult): string[] {
  const n = r.certificates.toLocaleString('en-US');
  const { certsPerCrl, entriesPerCrl } = layout(r.certificates);
  const stage = (name: string, s: Stage & { json: CheckJson }) =>
    `check ${n} ${name}: ${secs(s.ms)}, peak ${mb(s)}; plan ${s.json.timings.plan} ms, CRLs ${s.json.timings.crl} ms, OCSP ${s.json.timings.ocsp} ms, final writes ${s.json.timings.write} ms; ` +
    `${s.json.certificates} due, ${s.json.notDue} not due; ${s.json.itemsRead} items read, ${s.json.itemsWritten} written (${s.json.observationsWritten} observations, ${s.json.changes.length} changes)`;
  const p = r.planner.json;
  return [
    `check ${n} (${r.crls} CRLs x ${entriesPerCrl} entries with ${certsPerCrl} tracked each, ${OCSP_CERTS} OCSP): tracked in ${secs(r.trackMs)}`,
    stage('run 1', r.first),
    stage('run 2 (unchanged)', r.second),
    `status ${n}: ${secs(r.status.ms)}, peak ${mb(r.status)}`,
    `report ${n} (markdown): ${secs(r.report.ms)}, peak ${mb(r.report)}`,
    `report ${n} (irg-csv): ${secs(r.irgCsv.ms)}, peak ${mb(r.irgCsv)}`,
    `AWS planner ${n} (every certificate due, dynalite): ${secs(r.planner.ms)}, peak ${mb(r.planner)}; ${p.certificates} due, ${p.crlJobs} CRL jobs, ${p.ocspBatches} OCSP batches (${p.ocspRequests} requests), ${p.payloadsInTable} payloads in the table`,
  ];
}

/** The sizes asked for (`--size=N`, repeatable), or 101,000 and then 300,000 when that fits in ten minutes. */
export async function benchCheck(sizes?: readonly number[]): Promise<string[]> {
  const lines: string[] = [];
  const results: SizeResult[] = [];
  const base = await benchAtSize(sizes?.[0] ?? 101_000);
  results.push(base);
  lines.push(...sizeLines(base));
  const readBudget = Math.round(1.1 * base.unsettled + 10 * base.crls);
  lines.push(
    `${base.first.ms <= 60_000 ? 'PASS' : 'FAIL'} first check ${secs(base.first.ms)} (target <= 60 s)`,
    `${base.second.ms <= 8_000 ? 'PASS' : 'FAIL'} unchanged re-check ${secs(base.second.ms)} (target <= 8 s)`,
    `${base.second.json.itemsRead <= readBudget ? 'PASS' : 'FAIL'} unchanged re-check read ${base.second.json.itemsRead} items (target <= 1.1 x ${base.unsettled} unsettled + 10 x ${base.crls} CRLs = ${readBudget})`,
    `${base.status.ms <= 10_000 && (base.status.peakMb ?? 0) <= 400 ? 'PASS' : 'FAIL'} status ${secs(base.status.ms)}, ${mb(base.status)} (target <= 10 s, <= 400 MB)`,
    `${base.report.ms <= 15_000 ? 'PASS' : 'FAIL'} report ${secs(base.report.ms)} (target <= 15 s)`,
    `${base.second.json.itemsWritten / base.first.json.itemsWritten < 0.01 ? 'PASS' : 'FAIL'} second run wrote ${((100 * base.second.json.itemsWritten) / base.first.json.itemsWritten).toFixed(3)}% of the first run's items (target < 1%)`,
  );
  const memory = (r: SizeResult): string[] => [
    `${(r.first.peakMb ?? 0) <= 1024 ? 'PASS' : 'FAIL'} first check at ${r.certificates} peak ${mb(r.first)} (target <= 1 GB)`,
    ...(
      [
        ['status', r.status],
        ['report markdown', r.report],
        ['report irg-csv', r.irgCsv],
        ['AWS planner', r.planner],
      ] as const
    ).map(([name, s]) => `${(s.peakMb ?? 0) <= 512 ? 'PASS' : 'FAIL'} ${name} at ${r.certificates} peak ${mb(s)} (target <= 512 MB)`),
    `${r.plannerSame ? 'PASS' : 'FAIL'} AWS planner at ${r.certificates} queued ${r.plannerSame ? 'the same jobs as' : 'jobs other than'} the whole-run planner (${r.planner.json.jobs?.jobs} jobs, ${r.planner.json.jobs?.certificates} certificates)`,
    // Issue 29's time targets, at 1,000,000 certificates.
    ...(r.certificates < 1_000_000
      ? []
      : [
          `${r.first.ms <= 8 * 60_000 ? 'PASS' : 'FAIL'} first check at ${r.certificates} ${secs(r.first.ms)} (target <= 8 min)`,
          `${r.second.ms <= 40_000 ? 'PASS' : 'FAIL'} unchanged re-check at ${r.certificates} ${secs(r.second.ms)} (target <= 40 s)`,
          `${r.status.ms <= 60_000 ? 'PASS' : 'FAIL'} status at ${r.certificates} ${secs(r.status.ms)} (target <= 60 s)`,
          ...(
            [
              ['markdown', r.report],
              ['irg-csv', r.irgCsv],
            ] as const
          ).map(([f, s]) => `${s.ms <= 90_000 ? 'PASS' : 'FAIL'} report ${f} at ${r.certificates} ${secs(s.ms)} (target <= 90 s)`),
        ]),
  ];
  lines.push(...memory(base));
  const failures = (r: SizeResult): void => {
    if (r.first.json.failedSources.length || r.second.json.failedSources.length)
      lines.push(`FAIL sources failed: ${JSON.stringify([...r.first.json.failedSources, ...r.second.json.failedSources]).slice(0, 500)}`);
  };
  failures(base);

  let more = sizes?.slice(1) ?? [];
  if (!sizes) {
    // The same work at a larger size, as large as 300,000 certificates when that fits in ten minutes
    // (generating, tracking, two checks, status, reports and the planner, at the rate just measured).
    const perCert = base.totalMs / base.certificates;
    const fitting = Math.floor(LARGE_BUDGET_MS / perCert / 10_000) * 10_000;
    const large = Math.min(LARGE_TARGET, fitting);
    if (large <= base.certificates)
      lines.push(
        `(a larger size does not fit in 10 minutes here: ${base.certificates.toLocaleString('en-US')} took ${secs(base.totalMs)} in all, so 300,000 would take about ${secs(LARGE_TARGET * perCert)}; skipped)`,
      );
    else {
      if (large < LARGE_TARGET)
        lines.push(`(300,000 certificates would take about ${secs(LARGE_TARGET * perCert)} at the measured rate: scaled to ${large})`);
      more = [large];
    }
  }
  for (const size of more) {
    const big = await benchAtSize(size);
    results.push(big);
    lines.push(...sizeLines(big), ...memory(big));
    failures(big);
  }
  // Growth per certificate from the smallest size to each larger one: time (1.0 is linear) and memory (MB per
  // 100,000 certificates beyond the smallest size's peak: 0 is a fixed working set).
  for (const big of results.slice(1)) {
    for (const [name, a, b] of [
      ['first check', base.first, big.first],
      ['unchanged re-check', base.second, big.second],
      ['status', base.status, big.status],
      ['report markdown', base.report, big.report],
      ['report irg-csv', base.irgCsv, big.irgCsv],
      ['AWS planner', base.planner, big.planner],
    ] as const)
      lines.push(growthLine(name, base.certificates, big.certificates, a, b));
  }
  lines.push(
    "(not measured here: the unchanged re-check's CPU against `status` at 5,000 certificates: `npm run bench -- recheck-small`; items written when 90 % are settled: test/functions/settled-fan-out.test.ts prints them; the bytes the re-check's planning reads per due certificate are printed above, after run 2)",
  );
  return lines;
}

/**
 * `--stages=planner`: the simulated AWS planner run alone (issue 29: 1,000,000 due items, peak RSS <= 512 MB, the
 * jobs the whole-run planner made), on cached tracked homes (cachedHome), each size on a fresh copy: the
 * streamed planner (fan-out.ts planRun) and then, on the same copy, the whole-run planner's jobs
 * (bench/planner-run.ts --reference), whose digests must be equal. The peak is the planner process's when
 * planning ended (reading the jobs back for the digest comes after).
 */
export async function benchPlannerOnly(sizes: readonly number[]): Promise<string[]> {
  const lines: string[] = [];
  const runs: { certificates: number; stage: Stage & { json: PlannerJson } }[] = [];
  for (const size of sizes) {
    const t = performance.now();
    const cached = await cachedHome(size);
    const n = cached.entries.toLocaleString('en-US');
    lines.push(`home ${n}: ${cached.reused ? 'reused from' : `generated and tracked in ${secs(performance.now() - t)},`} ${cached.home}`);
    const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-planner-'));
    try {
      cpSync(cached.home, home, { recursive: true });
      const stage = await planner(home, ['--digest']);
      const p = stage.json;
      process.stderr.write(`  [${cached.entries}] AWS planner in ${secs(stage.ms)}, ${p.peakMb} MB when planned\n`);
      const reference = await planner(home, ['--reference']);
      const same = p.jobs?.digest === reference.json.jobs?.digest;
      lines.push(
        `AWS planner ${n} (every certificate due, dynalite, tracked home): ${secs(stage.ms)} with reading the jobs back, peak ${p.peakMb} MB when planned (${mb(stage)} in all); ${p.certificates} due, ${p.crlJobs} CRL jobs, ${p.ocspBatches} OCSP batches (${p.ocspRequests} requests), ${p.payloadsInTable} payloads in the table`,
        `whole-run planner ${n} (the reference): peak ${reference.json.peakMb} MB; jobs ${JSON.stringify(reference.json.jobs)}`,
        `${p.peakMb <= 512 ? 'PASS' : 'FAIL'} AWS planner at ${cached.entries} peak ${p.peakMb} MB (target <= 512 MB)`,
        `${same ? 'PASS' : 'FAIL'} AWS planner at ${cached.entries} queued ${same ? 'the same jobs as' : 'jobs other than'} the whole-run planner (${p.jobs?.jobs} jobs, ${p.jobs?.certificates} certificates; digest ${p.jobs?.digest.slice(0, 12)} vs ${reference.json.jobs?.digest.slice(0, 12)})`,
      );
      runs.push({ certificates: cached.entries, stage: { ...stage, peakMb: p.peakMb } });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const [base, ...bigger] = runs;
  for (const big of bigger) lines.push(growthLine('AWS planner', base!.certificates, big.certificates, base!.stage, big.stage));
  return lines;
}

/** Growth per certificate between two sizes: time against linear (1.0 is linear) and memory per 100,000 more certificates. */
function growthLine(name: string, small: number, large: number, a: Stage, b: Stage): string {
  const g = b.ms / a.ms / (large / small);
  const per100k = a.peakMb === null || b.peakMb === null ? '?' : (((b.peakMb - a.peakMb) / (large - small)) * 100_000).toFixed(1);
  return `${g <= 1.15 ? 'PASS' : 'FAIL'} ${name} grows ${g.toFixed(2)}x per certificate from ${small} to ${large} (target <= 1.15); peak ${mb(a)} -> ${mb(b)}, ${per100k} MB per 100,000 more certificates`;
}

/**
 * A home of `size` certificates tracked and checked once, kept under HOME_CACHE like cachedHome's: its CA server
 * is gone, so only stages that fetch nothing (status, report) can run on it, each on a copy.
 */
export async function checkedHome(size: number): Promise<{ home: string; entries: number; reused: boolean }> {
  const dir = join(HOME_CACHE, `v${HOME_LAYOUT}-${size}-checked`);
  const manifest = join(dir, 'bench-home.json');
  if (existsSync(manifest)) return { ...(JSON.parse(readFileSync(manifest, 'utf8')) as { entries: number }), home: dir, reused: true };
  mkdirSync(HOME_CACHE, { recursive: true });
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building);
  const world = await prepareHome(size, building);
  try {
    const first = await cli(building, ['--json', 'check']);
    process.stderr.write(`  [${world.entries}] checked in ${secs(first.ms)}, ${mb(first)}\n`);
  } finally {
    await world.stop();
  }
  writeFileSync(join(building, 'bench-home.json'), JSON.stringify({ entries: world.entries }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return { home: dir, entries: world.entries, reused: false };
}

/**
 * `--stages=report`: `status --json`, `report --format markdown` and `report --format irg-csv` alone, on cached
 * checked homes (checkedHome), each size on a fresh copy; then the growth per certificate between the sizes
 * (memory as MB per 100,000 more certificates: 0 is a fixed working set).
 */
export async function benchStatusReportOnly(sizes: readonly number[]): Promise<string[]> {
  const lines: string[] = [];
  const runs: { certificates: number; stages: [string, Stage][] }[] = [];
  for (const size of sizes) {
    const t = performance.now();
    const cached = await checkedHome(size);
    const n = cached.entries.toLocaleString('en-US');
    lines.push(
      `home ${n}: ${cached.reused ? 'reused from' : `generated, tracked and checked in ${secs(performance.now() - t)},`} ${cached.home}`,
    );
    const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-report-'));
    try {
      cpSync(cached.home, home, { recursive: true });
      const stages: [string, Stage][] = [];
      for (const [name, args] of [
        ['status', ['--json', 'status']],
        ['report markdown', ['report', '--case', 'bench', '--format', 'markdown', '--out', join(home, 'report.md')]],
        ['report irg-csv', ['report', '--case', 'bench', '--format', 'irg-csv', '--out', join(home, 'report.csv')]],
      ] as const) {
        // status's output goes to a file: at 1,000,000 it is more than a string can hold.
        const stage = await cli(home, [...args], undefined, name === 'status' ? join(home, 'status.json') : undefined);
        process.stderr.write(`  [${cached.entries}] ${name} in ${secs(stage.ms)}, ${mb(stage)}\n`);
        lines.push(`${name} ${n}: ${secs(stage.ms)}, peak ${mb(stage)}`);
        lines.push(`${(stage.peakMb ?? 0) <= 512 ? 'PASS' : 'FAIL'} ${name} at ${cached.entries} peak ${mb(stage)} (target <= 512 MB)`);
        stages.push([name, stage]);
      }
      runs.push({ certificates: cached.entries, stages });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }
  const [base, ...bigger] = runs;
  for (const big of bigger)
    for (const [i, [name, a]] of base!.stages.entries())
      lines.push(growthLine(name, base!.certificates, big.certificates, a, big.stages[i]![1]));
  return lines;
}
