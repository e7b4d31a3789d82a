/**
 * A sweep and a check share their CRL reads, and `track` starts from the
 * sweep's index (issue 27), end to end: the built CLI against real
 * `openssl ca -gencrl` CRLs on 127.0.0.1, counting every request per CRL.
 *
 * - `check --sweep` fetches each CRL once (by the sweep) and judges as a plain
 *   `check` of the same certificates in another home does;
 * - a `check` after a separate recent sweep fetches none of the CRLs it read;
 * - a certificate tracked after a sweep saw its revocation has a verdict at
 *   once, with the sweep's bracket, and verify-evidence rebuilds its record.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { type Ended, spawnRevwatch } from '../helpers/live-crl.js';
import { writeCcadbReports } from '../helpers/ccadb-reports.js';
import { validJson } from '../helpers/json-schema.js';
import { untilSecondAfter } from '../helpers/whole-seconds.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;

interface CheckJson {
  crlsFetched: number;
  crlsFromSweep: number;
  certificates: number;
  verdicts: Record<string, number>;
  failedSources: unknown[];
  sweep?: { sweep: number; urls: number; faults: number };
}
interface StatusJson {
  cases: {
    certificates: {
      serial: string;
      verdict: string;
      revocationTime: string | null;
      firstSeenRevokedAt: string | null;
      firstSeenRevokedBySweep?: {
        url: string;
        sha256: string | null;
        sweep: number;
        notListedSweep: number | null;
        notListedAt: string | null;
      };
    }[];
  }[];
}

run('a sweep and a check share their CRL reads; track starts from the sweep index', { timeout: 300_000 }, () => {
  const http = new FaultServer();
  const work = mkdtempSync(join(tmpdir(), 'revwatch-sweep-check-'));
  const homes = { both: join(work, 'both'), plain: join(work, 'plain'), late: join(work, 'late') };
  const now = Date.now();
  const cas = {} as Record<'a' | 'b', OpensslCa>;
  const leaves: Record<string, IssuedLeaf> = {};
  const served = new Map<string, Buffer>();
  const requests = new Map<string, number>();
  const crlPaths = ['/a/ca.crl', '/b/ca.crl'];
  const fetchesOf = (path: string): number => requests.get(path) ?? 0;
  const resetCounts = (): void => requests.clear();

  const cli = (home: string, ...args: string[]): Promise<Ended> => spawnRevwatch(home, args);

  /** Serves the CRL last generated, with an ETag: every request counts, a 304 too. */
  const serve = (path: string, bytes: Buffer): void => {
    served.set(path, bytes);
    http.route(path, (req, res) => {
      const body = served.get(path)!;
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      requests.set(path, fetchesOf(path) + 1);
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      res.setHeader('etag', etag);
      res.end(body);
    });
  };
  const crlOf = (ca: OpensslCa): Buffer => ca.crl(Date.now() - 60_000, Date.now() + 7 * DAY);
  const track = (home: string, ca: 'a' | 'b', ...names: string[]) =>
    cli(
      home,
      '--json',
      'track',
      ...names.map((n) => leaves[n]!.pemPath),
      '--issuer',
      cas[ca].path('ca.pem'),
      '--case',
      'swept',
      '--reported-at',
      new Date(now - 3 * HOUR).toISOString(),
      '--reason',
      'key-compromise',
    );
  const statusOf = async (home: string): Promise<StatusJson> => {
    const r = await cli(home, '--json', 'status');
    expect(r.code, r.stderr).toBe(0);
    return validJson<StatusJson>('status', r.stdout);
  };
  const verdictsOf = (s: StatusJson) =>
    s.cases
      .flatMap((c) => c.certificates)
      .map((c) => [c.serial, c.verdict, c.revocationTime])
      .sort();

  beforeAll(async () => {
    await http.start();
    for (const key of ['a', 'b'] as const) {
      const ca = new OpensslCa(http.url(`/${key}`), `Swept ${key} CA`).init('ec');
      // Leaves that name only the CRL: no OCSP responder to ask, so the CRL is each one's only source.
      ca.appendConfig(
        `[crl_leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\ncrlDistributionPoints = URI:${http.url(`/${key}/ca.crl`)}\n`,
      );
      cas[key] = ca;
    }
    for (const n of ['a1', 'a2', 'a3']) leaves[n] = cas.a.issue(n, 'crl_leaf');
    leaves.b1 = cas.b.issue('b1', 'crl_leaf');
    cas.a.revoke(leaves.a1!, now - 2 * HOUR, 'keyCompromise');
    serve('/a/ca.crl', crlOf(cas.a));
    serve('/b/ca.crl', crlOf(cas.b));

    const disclosed = (ca: OpensslCa, owner: string) => ({
      owner,
      name: ca.name,
      pem: readFileSync(ca.path('ca.pem'), 'utf8'),
      fullCrls: [`${ca.httpBase}/ca.crl`],
    });
    writeCcadbReports(work, [disclosed(cas.a, 'A Owner'), disclosed(cas.b, 'B Owner')]);
    for (const home of Object.values(homes)) {
      const imported = await cli(home, 'ccadb', 'import', work);
      expect(imported.code, imported.stderr).toBe(0);
    }
    for (const home of [homes.both, homes.plain]) {
      expect((await track(home, 'a', 'a1', 'a2')).code).toBe(0);
      expect((await track(home, 'b', 'b1')).code).toBe(0);
    }
  });

  afterAll(async () => {
    for (const ca of Object.values(cas)) await ca.dispose();
    await http.stop();
  });

  let plainStatus: StatusJson;

  it('check --sweep fetches each CRL once, and judges as a plain check does', async () => {
    resetCounts();
    const r = await cli(homes.both, '--json', 'check', '--sweep');
    expect(r.code, r.stderr).toBe(0);
    const both = validJson<CheckJson>('check', r.stdout);
    for (const path of crlPaths) expect(fetchesOf(path), path).toBe(1);
    expect(both).toMatchObject({ certificates: 3, crlsFetched: 0, crlsFromSweep: 2, failedSources: [] });
    expect(both.sweep).toMatchObject({ sweep: 1, urls: 2, faults: 0 });

    resetCounts();
    const p = await cli(homes.plain, '--json', 'check');
    expect(p.code, p.stderr).toBe(0);
    const plain = validJson<CheckJson>('check', p.stdout);
    for (const path of crlPaths) expect(fetchesOf(path), path).toBe(1);
    expect(plain).toMatchObject({ certificates: 3, crlsFetched: 2, crlsFromSweep: 0 });
    expect(plain.sweep).toBeUndefined();
    expect(both.verdicts).toEqual(plain.verdicts);
    plainStatus = await statusOf(homes.plain);
    expect(verdictsOf(await statusOf(homes.both))).toEqual(verdictsOf(plainStatus));
    // a1 (listed) is revoked on time; a2 and b1 (whose serial is a1's: another CA) are pending.
    expect(
      verdictsOf(plainStatus)
        .map(([, verdict]) => verdict)
        .sort(),
    ).toEqual(['pending', 'pending', 'revoked_on_time']);

    // The reused readings are full evidence: the records rebuild from the observations.
    const v = await cli(homes.both, 'verify-evidence');
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('a check after a separate recent sweep fetches none of the CRLs the sweep read', async () => {
    const s = await cli(homes.both, 'sweep');
    expect(s.code, s.stderr).toBe(0);
    resetCounts();
    const r = await cli(homes.both, '--json', 'check');
    expect(r.code, r.stderr).toBe(0);
    const after = validJson<CheckJson>('check', r.stdout);
    for (const path of crlPaths) expect(fetchesOf(path), path).toBe(0);
    // a1 is settled (revoked): asked again only a day later; a2 and b1 are asked, from the sweep's readings.
    expect(after).toMatchObject({ crlsFetched: 0, crlsFromSweep: 2 });
    // With the window closed, the same check fetches again.
    resetCounts();
    const closed = await cli(homes.both, '--json', 'check', '--sweep-window', '0');
    expect(closed.code, closed.stderr).toBe(0);
    expect(validJson<CheckJson>('check', closed.stdout)).toMatchObject({ crlsFromSweep: 0, crlsFetched: 2 });
    expect(fetchesOf('/a/ca.crl') + fetchesOf('/b/ca.crl')).toBe(2);
    const v = await cli(homes.both, 'verify-evidence');
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const bad = await cli(homes.both, 'check', '--owner', 'A');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('track of a certificate the index holds as revoked has its verdict at once, with the sweep bracket', async () => {
    const first = await cli(homes.late, 'sweep');
    const firstEnded = Date.now();
    expect(first.code, first.stderr).toBe(0);
    // Times are reported to the second: the second sweep starts in a later second than the first ended, so the
    // bracket's two ends differ where it is printed (two sweeps in one second once made them equal here).
    await untilSecondAfter(firstEnded);
    cas.a.revoke(leaves.a3!, now - HOUR, 'keyCompromise');
    served.set('/a/ca.crl', crlOf(cas.a));
    const second = await cli(homes.late, 'sweep');
    expect(second.code, second.stderr).toBe(0);
    const snapshot = createHash('sha256').update(served.get('/a/ca.crl')!).digest('hex');
    resetCounts();

    const t = await track(homes.late, 'a', 'a3', 'a1', 'a2');
    expect(t.code, t.stderr).toBe(0);
    // a3 and a1 are listed on the swept CRL; a2 is not: it starts empty.
    expect(validJson<{ fromSweepIndex: unknown }>('track', t.stdout).fromSweepIndex).toEqual({ certificates: 2, observations: 2 });
    expect(fetchesOf('/a/ca.crl')).toBe(0);

    const status = await statusOf(homes.late);
    const certs = status.cases.flatMap((c) => c.certificates);
    const a3 = certs.find((c) => c.serial === leaves.a3!.serialHex.toLowerCase())!;
    expect(a3.verdict).toBe('revoked_on_time');
    expect(a3.firstSeenRevokedBySweep).toMatchObject({ url: http.url('/a/ca.crl'), sha256: snapshot, sweep: 2, notListedSweep: 1 });
    expect(Date.parse(a3.firstSeenRevokedBySweep!.notListedAt!)).toBeLessThan(Date.parse(a3.firstSeenRevokedAt!));
    const a1 = certs.find((c) => c.serial === leaves.a1!.serialHex.toLowerCase())!;
    expect(a1.firstSeenRevokedBySweep).toMatchObject({ sweep: 1, notListedSweep: null, notListedAt: null });
    const a2 = certs.find((c) => c.serial === leaves.a2!.serialHex.toLowerCase())!;
    expect(a2.verdict).not.toMatch(/revoked/);
    expect(a2.firstSeenRevokedBySweep).toBeUndefined();

    const human = await cli(homes.late, 'status');
    expect(human.stdout).toMatch(/revoked first seen by sweep 2 at .* \(not listed by sweep 1 at .*\), from the sweep's index/);
    const v = await cli(homes.late, 'verify-evidence');
    expect(v.code, v.stdout + v.stderr).toBe(0);
    // The report says so too: in the Markdown appendix, and on the observation in JSON.
    const md = await cli(homes.late, 'report', '--case', 'swept');
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/\(sweep 2, from the sweep index\)/);
    const json = await cli(homes.late, '--json', 'report', '--case', 'swept', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const report = validJson<{ certificates: { serial: string; observations: { sweepIndex?: { firstSeenSweep: number } }[] }[] }>(
      'report',
      json.stdout,
    );
    const a3Observations = report.certificates.find((c) => c.serial === leaves.a3!.serialHex.toLowerCase())!.observations;
    expect(a3Observations.map((o) => o.sweepIndex?.firstSeenSweep)).toEqual([2]);
    // Re-tracking adds nothing twice.
    const again = await track(homes.late, 'a', 'a3');
    expect(validJson<{ fromSweepIndex: unknown; added: number }>('track', again.stdout)).toMatchObject({ added: 0 });
    const v2 = await cli(homes.late, '--json', 'verify-evidence');
    expect(v2.code, v2.stdout).toBe(0);
  });
});
