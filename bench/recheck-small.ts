/**
 * `npm run bench -- recheck-small [--rounds=N] [--profile]`: issue 29's small-case cost. 5,000 certificates on
 * one CRL, served with an ETag so an unchanged re-check gets 304 Not Modified (RFC 9110 15.4.5), are tracked
 * and checked once; then, in interleaved rounds, the CPU time (user + system, GNU time) of the built CLI's
 * unchanged `check` and of `status` on an empty home. Target: the re-check costs <= 0.5 s of CPU more than
 * that `status` (the median of each). `--profile` also writes one V8 CPU profile of each
 * (bench-output/recheck-small/*.cpuprofile) to see where the difference goes.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SystemClock } from '../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../src/adapters/local/embedded-store.js';
import { LocalCa } from '../src/local-ca/ca.js';
import type { CrlEntryInput } from '../src/local-ca/crl-writer.js';
import { describeCertificate } from '../src/pki/certificate.js';
import { trackCertificates, type TrackEntry } from '../src/track/track.js';
import { leafDer } from './check.js';

const CERTIFICATES = 5_000;
const REVOKED_EVERY = 10;
const TARGET_EXTRA_CPU_S = 0.5;
const DAY = 86_400_000;

interface Cpu {
  /** user + system CPU seconds of the CLI process. */
  readonly cpu: number;
  readonly wallMs: number;
  readonly peakMb: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The built CLI in a child process under GNU time (asynchronously: this process serves the CRL). */
async function cliCpu(home: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<Cpu> {
  const out = join(home, 'cpu.txt');
  const started = performance.now();
  await promisify(execFile)(
    '/usr/bin/time',
    ['-f', '%U %S %M', '-o', out, process.execPath, ...nodeFlags, 'bin/revwatch.js', '--home', home, '--allow-private-network', ...args],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  const wallMs = performance.now() - started;
  const [user, sys, kb] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { cpu: user! + sys!, wallMs, peakMb: Math.round(kb! / 1024) };
}

/** One CRL at a fixed path, with an ETag: a request that sends it back gets 304 and no body. */
async function crlServer(body: () => Buffer): Promise<{ server: Server; url: string; counts: { full: number; notModified: number } }> {
  const etag = '"bench-crl-1"';
  const counts = { full: 0, notModified: 0 };
  const server = createServer((req, res) => {
    if (req.headers['if-none-match'] === etag) {
      counts.notModified++;
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    counts.full++;
    const bytes = body();
    res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': bytes.length, etag });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/one.crl`, counts };
}

export async function benchRecheckSmall(out: string, rounds: number, profile: boolean): Promise<string[]> {
  if (!existsSync('dist/cli/main.js')) return ['FAIL recheck-small: dist/ is not built (npm run build)'];
  if (!existsSync('/usr/bin/time')) return ['FAIL recheck-small: /usr/bin/time (GNU time) is needed to read CPU time'];
  const now = Date.now();
  const ca = await LocalCa.create({ name: 'Bench Re-check CA', keyType: 'ec-p256', notBefore: now - 400 * DAY, notAfter: now + 400 * DAY });
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  // The URL goes into the certificates before the CRL is signed: the server serves it once it is.
  let crl: Buffer = Buffer.alloc(0);
  const served = await crlServer(() => crl);
  const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-recheck-'));
  const empty = mkdtempSync(join(tmpdir(), 'revwatch-bench-empty-'));
  try {
    const entries: TrackEntry[] = [];
    const listed: CrlEntryInput[] = [];
    let serial = 1n << 100n;
    for (let i = 0; i < CERTIFICATES; i++) {
      serial++;
      const der = leafDer(ca, serial, `leaf-${i}.recheck.example`, now - 10 * DAY, now + 80 * DAY, spki, served.url, null);
      if (i % REVOKED_EVERY === 0) listed.push({ serial: serial.toString(16), revocationDate: now - 3_600_000, reasonCode: 1 });
      entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
    }
    crl = ca.crl({ entries: listed, entryCount: listed.length, thisUpdate: now - 60_000, nextUpdate: now + 7 * DAY, crlNumber: 1 });
    const open = await openEmbeddedStore(home);
    try {
      const kase = {
        id: 'bench',
        title: 'bench',
        reportedAt: now - 2 * DAY,
        reason: 'key-compromise' as const,
        kind: 'tls-subscriber' as const,
      };
      await trackCertificates({ store: open.store, clock: new SystemClock() }, kase, entries, [ca.info]);
    } finally {
      await open.close();
    }
    const first = await cliCpu(home, ['--json', 'check']);
    // Start-up effects (the empty home's store created, files into the page cache) stay out of the rounds.
    await cliCpu(empty, ['status']);
    await cliCpu(home, ['--json', 'check']);
    const before = { ...served.counts };
    const recheck: Cpu[] = [];
    const status: Cpu[] = [];
    for (let r = 0; r < rounds; r++) {
      recheck.push(await cliCpu(home, ['--json', 'check']));
      status.push(await cliCpu(empty, ['status']));
      process.stderr.write(
        `  round ${r + 1}: re-check ${recheck.at(-1)!.cpu.toFixed(2)} s CPU, status (empty home) ${status.at(-1)!.cpu.toFixed(2)} s CPU\n`,
      );
    }
    const notModified = served.counts.notModified - before.notModified;
    const full = served.counts.full - before.full;
    const lines: string[] = [];
    if (profile) {
      const dir = join(out, 'recheck-small');
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await cliCpu(home, ['--json', 'check'], ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'recheck')}`]);
      await cliCpu(empty, ['status'], ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'status')}`]);
      for (const kind of ['recheck', 'status'])
        for (const f of readdirSync(join(dir, kind))) lines.push(`CPU profile of ${kind}: ${join(dir, kind, f)}`);
    }
    const re = median(recheck.map((c) => c.cpu));
    const st = median(status.map((c) => c.cpu));
    const extra = re - st;
    lines.push(
      `recheck-small: ${CERTIFICATES} certificates on one CRL; first check ${first.cpu.toFixed(2)} s CPU (${(first.wallMs / 1000).toFixed(1)} s wall)`,
      `unchanged re-check: median ${re.toFixed(2)} s CPU (user+sys) over ${rounds} rounds [${recheck.map((c) => c.cpu.toFixed(2)).join(', ')}], ${median(recheck.map((c) => c.wallMs / 1000)).toFixed(2)} s wall, peak ${median(recheck.map((c) => c.peakMb))} MB; the CRL answered 304 ${notModified} times, in full ${full} times`,
      `status on an empty home: median ${st.toFixed(2)} s CPU over ${rounds} rounds [${status.map((c) => c.cpu.toFixed(2)).join(', ')}], ${median(status.map((c) => c.wallMs / 1000)).toFixed(2)} s wall`,
      `${extra <= TARGET_EXTRA_CPU_S && full === 0 ? 'PASS' : 'FAIL'} unchanged re-check at ${CERTIFICATES} certificates costs ${extra.toFixed(2)} s of CPU more than \`status\` on an empty home (target <= ${TARGET_EXTRA_CPU_S} s${full === 0 ? '' : `; the CRL was read in full ${full} times, not answered 304`})`,
    );
    return lines;
  } finally {
    served.server.close();
    rmSync(home, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
}
