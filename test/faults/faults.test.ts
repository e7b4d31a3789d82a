/**
 * The fault-injection suite: every remote fault class of the hostile source
 * (test/helpers/fault-server.ts) against an end-to-end `revwatch check` (the
 * CLI's run(), a real HttpFetcher, the embedded store) with 2 s fetch
 * deadlines. Per class: the check ends within the deadlines plus a margin,
 * exits 2, records the fault as data on the source, keeps the evidence of the
 * honest check before it, never takes a good or revoked answer from the
 * fault, and stays under the memory bound (cap + 64 MB).
 *
 * `npm run test:faults` runs this inside a loopback-only network namespace
 * and prints the table of classes and outcomes. `redirect-private` (a
 * redirect to 169.254.169.254) only runs there: outside one it is skipped,
 * so that no test can ever send a packet to a metadata address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { DEFAULT_CRL_MAX_BYTES } from '../../src/check/probe.js';
import { FAULT_CLASSES, HostileSource, sourcesOf, type FaultClass, type SourceKind } from '../helpers/fault-server.js';

const DEADLINE_MS = 2_000;
/** Each source takes at most one deadline; CRL and OCSP may run one after the other; then store and notices. */
const MARGIN_MS = 15_000;
const MEMORY_BOUND = DEFAULT_CRL_MAX_BYTES + 64 * 1024 * 1024;
const DAY = 86_400_000;
const inNetns = process.env.REVWATCH_IN_NETNS === '1';
if (!inNetns)
  console.warn('faults: redirect-private skipped: it redirects to 169.254.169.254 and runs only inside `npm run test:faults` (unshare -n)');

/** What the error recorded on each faulted source must say (status --json shows the message). */
const EXPECTED_ERROR: Record<FaultClass, RegExp> = {
  refused: /ECONNREFUSED/,
  reset: /ECONNRESET|other side closed|socket hang up|SocketError/i,
  'accept-and-stall': /2 s fetch deadline/,
  'slow-drip': /2 s fetch deadline/,
  'http-500': /HTTP 500/,
  html: /not a CRL|not an OCSP response/,
  empty: /not a CRL|not an OCSP response/,
  'truncated-der': /not a CRL|not an OCSP response/,
  'bad-signature': /signature does not verify/,
  'crl-other-issuer': /signature does not verify/,
  'ocsp-other-certid': /no SingleResponse for serial/,
  stale: /^$/,
  future: /in the future/,
  'ocsp-malformedRequest': /responder answered malformedRequest/,
  'ocsp-internalError': /responder answered internalError/,
  'ocsp-tryLater': /responder answered tryLater/,
  'ocsp-sigRequired': /responder answered sigRequired/,
  'ocsp-unauthorized': /responder answered unauthorized/,
  'redirect-loop': /more than 5 redirects/,
  'redirect-private': /169\.254\.169\.254.*rule: cloud-metadata/,
  'declared-oversize': /body of 1073741824 bytes exceeds the \d+-byte cap/,
  'endless-body': /exceeds the \d+-byte cap|fetch deadline/,
  gzip: /not a CRL|not an OCSP response/,
  'broken-chunked': /HTTP\/1\.1 protocol|chunk/i,
};

interface Row {
  fault: FaultClass;
  exit: number;
  seconds: number;
  peakRssDeltaMb: number;
  outcome: Partial<Record<SourceKind, string>>;
  earlierEvidenceKept: boolean;
}

interface SourceJson {
  kind: SourceKind;
  url: string;
  status: string;
  error: string | null;
  checkedAt: string | null;
}
interface CertJson {
  serial: string;
  verdict: string;
  lastSeenGoodAt: string | null;
  firstSeenRevokedAt: string | null;
  revocationTime: string | null;
  sources: SourceJson[];
  findings: { code: string }[];
}

const cli = (argv: string[]): Promise<CliResult> =>
  runCli(argv, { env: { REVWATCH_CRL_DEADLINE_MS: String(DEADLINE_MS), REVWATCH_OCSP_DEADLINE_MS: String(DEADLINE_MS) } });

describe('fault-injection suite: check against a hostile source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-faults-'));
  const home = join(dir, 'home');
  const base = ['--home', home, '--allow-private-network'];
  const classes = FAULT_CLASSES.filter((c) => c !== 'redirect-private' || inNetns);
  const rows: Row[] = [];
  const honest = new Map<string, CertJson>();
  let source: HostileSource;

  const statusOf = async (fault: FaultClass): Promise<CertJson> => {
    const r = await cli([...base, '--json', 'status', '--case', fault]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { cases: { certificates: CertJson[] }[] }).cases[0]!.certificates[0]!;
  };

  beforeAll(async () => {
    const now = Date.now();
    const ca = await LocalCa.create({ name: 'Hostile Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    // Same name, another key: its CRL names the right issuer and fails the signature.
    const impostor = await LocalCa.create({ name: 'Hostile Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    source = await new HostileSource(ca, impostor).start();
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    for (const fault of classes) {
      const serial = `${(0x100000 + classes.indexOf(fault)).toString(16)}`;
      const urls = source.slot(fault, serial, fault);
      const kinds = sourcesOf(fault);
      const leaf = await ca.issue({
        serial,
        subject: `CN=${fault}.hostile.example`,
        notBefore: now - 5 * DAY,
        notAfter: now + 60 * DAY,
        ocspUrls: kinds.includes('ocsp') ? [urls.ocsp] : [],
        crlUrls: kinds.includes('crl') ? [urls.crl] : [],
      });
      writeFileSync(join(dir, `${fault}.der`), leaf.info.der);
      const tracked = await cli([
        ...base,
        'track',
        join(dir, `${fault}.der`),
        '--issuer',
        join(dir, 'ca.der'),
        '--case',
        fault,
        '--reported-at',
        new Date(now - DAY).toISOString(),
        '--reason',
        'key-compromise',
      ]);
      expect(tracked.code, tracked.stderr).toBe(0);
    }
    // The honest check: every source answers good, verified.
    const first = await cli([...base, 'check']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const fault of classes) {
      const cert = await statusOf(fault);
      expect(cert.lastSeenGoodAt, fault).not.toBeNull();
      expect(
        cert.sources.every((s) => s.status === 'good'),
        `${fault}: ${JSON.stringify(cert.sources)}`,
      ).toBe(true);
      honest.set(fault, cert);
    }
  }, 300_000);

  afterAll(async () => {
    await source?.stop();
    if (rows.length === 0) return;
    const table = [
      `fault class            sources       exit  seconds  peak RSS +MB  earlier evidence  outcome per source`,
      ...rows.map(
        (r) =>
          `${r.fault.padEnd(22)} ${Object.keys(r.outcome).join('+').padEnd(13)} ${String(r.exit).padEnd(5)} ${r.seconds.toFixed(1).padStart(7)}  ${r.peakRssDeltaMb.toFixed(0).padStart(12)}  ${(r.earlierEvidenceKept ? 'kept' : 'LOST').padEnd(16)}  ${Object.entries(
            r.outcome,
          )
            .map(([k, v]) => `${k}: ${v}`)
            .join('; ')}`,
      ),
      `(fetch deadline ${DEADLINE_MS / 1000} s per fetch; memory bound ${MEMORY_BOUND / 1024 / 1024} MB)`,
    ].join('\n');
    console.log(table);
    if (process.env.REVWATCH_FAULT_REPORT)
      writeFileSync(process.env.REVWATCH_FAULT_REPORT, `${JSON.stringify({ rows, table }, null, 2)}\n`);
  });

  it.each(classes.map((c) => [c]))(
    '%s',
    async (fault) => {
      await source.setMode(fault, fault);
      let peak = process.memoryUsage.rss();
      const before = peak;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 20);
      const started = Date.now();
      const r = await cli([...base, '--json', 'check', '--case', fault]);
      const elapsed = Date.now() - started;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      const cert = await statusOf(fault);
      const earlier = honest.get(fault)!;
      const kinds = sourcesOf(fault);
      const outcome: Partial<Record<SourceKind, string>> = {};
      for (const kind of kinds) {
        const s = cert.sources.find((x) => x.kind === kind);
        outcome[kind] = s
          ? s.status === 'error'
            ? `error: ${(s.error ?? '').slice(0, 90)}`
            : `${s.status}${cert.findings.some((f) => f.code === 'stale_response') ? ' (certificate has a stale_response finding)' : ''}`
          : 'no source';
      }
      // Kept: the last verified good answer is still the honest one; for
      // `stale`, whose answer verifies and is recorded, it may only move on.
      const kept =
        fault === 'stale'
          ? Date.parse(cert.lastSeenGoodAt ?? '') >= Date.parse(earlier.lastSeenGoodAt ?? '')
          : cert.lastSeenGoodAt === earlier.lastSeenGoodAt;
      rows.push({
        fault,
        exit: r.code,
        seconds: elapsed / 1000,
        peakRssDeltaMb: (peak - before) / 1024 / 1024,
        outcome,
        earlierEvidenceKept: kept,
      });

      expect(elapsed).toBeLessThan(kinds.length * DEADLINE_MS + MARGIN_MS);
      expect(peak - before).toBeLessThan(MEMORY_BOUND);
      // The honest answers recorded before are still there.
      expect(kept).toBe(true);
      expect(cert.firstSeenRevokedAt).toBeNull();
      expect(cert.revocationTime).toBeNull();
      expect(cert.verdict).not.toMatch(/^revoked/);
      for (const kind of kinds) {
        const s = cert.sources.find((x) => x.kind === kind)!;
        expect(s, `${fault} ${kind}`).toBeDefined();
        expect(s.status).not.toBe('revoked');
        if (fault === 'stale') {
          // A stale answer that verifies is the CA's signed word at its
          // thisUpdate: recorded, with the stale_response finding
          // (docs/verdicts.md, "Findings"), never as current; the check itself succeeds.
          expect(s.status).toBe('good');
          continue;
        }
        // Recorded as data: this run's observation is an error naming its kind.
        expect(s.status, `${fault} ${kind}: ${JSON.stringify(s)}`).toBe('error');
        expect(Date.parse(s.checkedAt!)).toBeGreaterThanOrEqual(started - 1000);
        const summary = JSON.parse(r.stdout) as { failedSources: { kind: string; url: string; error: string; errorKind?: string }[] };
        const failed = summary.failedSources.find((f) => f.url === s.url);
        expect(failed, `${fault} ${kind} in failedSources: ${JSON.stringify(summary.failedSources)}`).toBeDefined();
        expect(s.error, `${fault} ${kind}`).toMatch(EXPECTED_ERROR[fault]);
      }
      if (fault === 'stale') {
        expect(r.code).toBe(0);
        expect(cert.findings.map((f) => f.code)).toContain('stale_response');
      } else {
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
    },
    120_000,
  );
});
