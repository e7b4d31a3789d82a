/**
 * `npm run bench -- check`: 100,000 certificates spread over 100 CRLs of
 * 10,000 entries each, plus 1,000 certificates answered by a local OCSP
 * responder, tracked on the embedded store; then the real CLI's `check` runs
 * twice. Reports both times and the items each run wrote.
 *
 * Leaves are written straight to DER and signed with node:crypto: issuing
 * 101,000 certificates through the ASN.1 object model would take minutes and
 * is not what is being measured.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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

const ENTRIES_PER_CRL = 10_000;
const CERTS_PER_CRL = 1_000;
const OCSP_CERTS = 1_000;
const REVOKED_EVERY = 10; // one tracked certificate in ten is on its CRL
/** The larger size the issue asks for, and the wall-clock budget for it. */
const LARGE_TARGET = 300_000;
const LARGE_BUDGET_MS = 10 * 60_000;

const ECDSA_SHA256 = seq(encodeOid('1.2.840.10045.4.3.2'));
const name = (cn: string): Buffer => seq(set(seq(encodeOid('2.5.4.3'), tlv(Tag.UTF8_STRING, Buffer.from(cn)))));
const ext = (oid: string, value: Buffer): Buffer => seq(encodeOid(oid), octetString(value));

function leafDer(
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

/** Runs the real CLI in a child process (asynchronously: this process serves its CRLs and OCSP answers). */
async function cli(home: string, args: string[]): Promise<Stage> {
  const start = performance.now();
  const rssFile = join(home, 'peak-rss.txt');
  const argv = ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args];
  const r = haveTime
    ? await promisify(execFile)('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, ...argv], {
        encoding: 'utf8',
        maxBuffer: 1024 * 1024 * 1024,
      })
    : await promisify(execFile)(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024 });
  const ms = performance.now() - start;
  const peakMb = haveTime ? Math.round(Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024) : null;
  return { ms, peakMb, stdout: r.stdout };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const mb = (s: Stage): string => (s.peakMb === null ? '? MB' : `${s.peakMb} MB`);

interface SizeResult {
  certificates: number;
  crls: number;
  unsettled: number;
  trackMs: number;
  first: Stage & { json: CheckJson };
  second: Stage & { json: CheckJson };
  status: Stage;
  report: Stage;
  totalMs: number;
}

export async function benchAtSize(crls: number): Promise<SizeResult> {
  const started = performance.now();
  const world = await prepareHome(crls);
  const { home, entries } = world;
  try {
    const check = async (): Promise<Stage & { json: CheckJson }> => {
      const stage = await cli(home, ['--json', 'check']);
      const json = JSON.parse(stage.stdout) as CheckJson;
      process.stderr.write(
        `  [${entries}] check in ${secs(stage.ms)}, ${mb(stage)} (plan ${json.timings.plan} ms, CRLs ${json.timings.crl} ms, OCSP ${json.timings.ocsp} ms, writes ${json.timings.write} ms; read ${json.itemsRead}, wrote ${json.itemsWritten})\n`,
      );
      return { ...stage, json };
    };
    const first = await check();
    const second = await check();
    const status = await cli(home, ['--json', 'status']);
    const statusJson = JSON.parse(status.stdout) as { cases: { certificates: { verdict: string }[] }[] };
    const judged = statusJson.cases.flatMap((c) => c.certificates).length;
    process.stderr.write(`  [${entries}] status in ${secs(status.ms)}, ${mb(status)}, ${judged} certificates judged\n`);
    const report = await cli(home, ['report', '--case', 'bench', '--format', 'markdown', '--out', join(home, 'report.md')]);
    process.stderr.write(`  [${entries}] report in ${secs(report.ms)}, ${mb(report)}\n`);
    const revoked = (first.json.verdicts.revoked_on_time ?? 0) + (first.json.verdicts.revoked_late ?? 0);
    return {
      certificates: entries,
      crls,
      unsettled: entries - revoked,
      trackMs: world.trackMs,
      first,
      second,
      status,
      report,
      totalMs: performance.now() - started,
    };
  } finally {
    await world.stop();
  }
}

/** A home with `crls` x 1,000 CRL-only certificates and 1,000 OCSP-only ones tracked, and the CA serving them. */
export async function prepareHome(crls: number): Promise<{ home: string; entries: number; trackMs: number; stop(): Promise<void> }> {
  const now = Date.now();
  const clock = new SystemClock();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-check-'));
  const ca = await LocalCa.create({
    name: 'Bench Check CA',
    keyType: 'ec-p256',
    notBefore: now - 400 * 86_400_000,
    notAfter: now + 400 * 86_400_000,
  });
  const server = await new LocalCaServer(ca, () => Date.now()).start();
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  try {
    let t = performance.now();
    const entries: TrackEntry[] = [];
    let serial = 1n << 100n;
    for (let c = 0; c < crls; c++) {
      const url = `${server.baseUrl}/crl/${c}.crl`;
      const crlEntries: CrlEntryInput[] = [];
      for (let i = 0; i < ENTRIES_PER_CRL - CERTS_PER_CRL / REVOKED_EVERY; i++)
        crlEntries.push({
          serial: (serial + 10_000_000n + BigInt(c * ENTRIES_PER_CRL + i)).toString(16),
          revocationDate: now - 86_400_000,
          reasonCode: 4,
        });
      for (let i = 0; i < CERTS_PER_CRL; i++) {
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
    }
    for (let i = 0; i < OCSP_CERTS; i++) {
      serial++;
      const der = leafDer(ca, serial, `ocsp-${i}.bench.example`, now - 10 * 86_400_000, now + 80 * 86_400_000, spki, null, server.ocspUrl);
      server.issued(serial.toString(16));
      if (i % REVOKED_EVERY === 0) server.revoke(serial.toString(16), now - 3_600_000, 1);
      entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
    }
    process.stderr.write(`  [${entries.length}] generated in ${secs(performance.now() - t)}\n`);
    t = performance.now();
    const open = await openEmbeddedStore(home);
    const kase = {
      id: 'bench',
      title: 'bench',
      reportedAt: now - 2 * 86_400_000,
      reason: 'key-compromise' as const,
      kind: 'tls-subscriber' as const,
    };
    await trackCertificates({ store: open.store, clock }, kase, entries, [ca.info]);
    await open.close();
    const trackMs = performance.now() - t;
    process.stderr.write(`  [${entries.length}] tracked in ${secs(trackMs)}\n`);
    return { home, entries: entries.length, trackMs, stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

function sizeLines(r: SizeResult): string[] {
  const n = r.certificates.toLocaleString('en-US');
  const stage = (name: string, s: Stage & { json: CheckJson }) =>
    `check ${n} ${name}: ${secs(s.ms)}, peak ${mb(s)}; plan ${s.json.timings.plan} ms, CRLs ${s.json.timings.crl} ms, OCSP ${s.json.timings.ocsp} ms, final writes ${s.json.timings.write} ms; ` +
    `${s.json.certificates} due, ${s.json.notDue} not due; ${s.json.itemsRead} items read, ${s.json.itemsWritten} written (${s.json.observationsWritten} observations, ${s.json.changes.length} changes)`;
  return [
    `check ${n} (${r.crls} CRLs x ${ENTRIES_PER_CRL} entries with ${CERTS_PER_CRL} tracked each, ${OCSP_CERTS} OCSP): tracked in ${secs(r.trackMs)}`,
    stage('run 1', r.first),
    stage('run 2 (unchanged)', r.second),
    `status ${n}: ${secs(r.status.ms)}, peak ${mb(r.status)}`,
    `report ${n} (markdown): ${secs(r.report.ms)}, peak ${mb(r.report)}`,
  ];
}

export async function benchCheck(): Promise<string[]> {
  const lines: string[] = [];
  // BENCH_CHECK_CRLS shrinks the run for a quick try of the bench itself; the figures quoted are at 100.
  const base = await benchAtSize(Number(process.env.BENCH_CHECK_CRLS ?? 100));
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
  if (base.first.json.failedSources.length || base.second.json.failedSources.length)
    lines.push(
      `FAIL sources failed: ${JSON.stringify([...base.first.json.failedSources, ...base.second.json.failedSources]).slice(0, 500)}`,
    );

  // The same work at a larger size, as large as 300,000 certificates when that fits in ten minutes
  // (generating, tracking, two checks, status and report, at the rate just measured).
  const perCert = base.totalMs / base.certificates;
  const fitting = Math.floor(LARGE_BUDGET_MS / perCert / CERTS_PER_CRL) * CERTS_PER_CRL;
  const large = Math.min(process.env.BENCH_CHECK_CRLS ? 3 * base.certificates : LARGE_TARGET, fitting);
  if (large <= base.certificates) {
    lines.push(
      `(a larger size does not fit in 10 minutes here: ${base.certificates.toLocaleString('en-US')} took ${secs(base.totalMs)} in all, so 300,000 would take about ${secs(LARGE_TARGET * perCert)}; skipped)`,
    );
    return lines;
  }
  const largeCrls = Math.round((large - OCSP_CERTS) / CERTS_PER_CRL);
  if (large < LARGE_TARGET)
    lines.push(
      `(300,000 certificates would take about ${secs(LARGE_TARGET * perCert)} at the measured rate: scaled to ${largeCrls * CERTS_PER_CRL + OCSP_CERTS}, the largest that fits in 10 minutes)`,
    );
  const big = await benchAtSize(largeCrls);
  lines.push(...sizeLines(big));
  for (const [name, a, b] of [
    ['first check', base.first.ms, big.first.ms],
    ['unchanged re-check', base.second.ms, big.second.ms],
    ['status', base.status.ms, big.status.ms],
    ['report', base.report.ms, big.report.ms],
  ] as const) {
    const g = b / a / (big.certificates / base.certificates);
    lines.push(
      `${g <= 1.25 ? 'PASS' : 'FAIL'} ${name} grows ${g.toFixed(2)}x per certificate from ${base.certificates} to ${big.certificates} (target: at most linear, 1.25 allowed for noise)`,
    );
  }
  return lines;
}
