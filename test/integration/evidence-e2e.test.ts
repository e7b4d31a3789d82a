/**
 * Evidence you can cite, end to end: the built CLI against real `openssl ca`
 * CRLs on 127.0.0.1. A CA serves a fresh CRL that omits a serial and, minutes
 * later, a validly signed CRL dated ten days back (nextUpdate three days ago)
 * that lists it as revoked twenty days ago. Whatever order the two CRLs come
 * in, the revocation counts from the fresh CRL: revoked late, backdated.
 * Then verify-evidence proves the stored records equal their rebuild, and
 * finds a tampered one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { mergeEvidence, EMPTY_RECORD } from '../../src/rules/evidence.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { trackCertificates } from '../../src/track/track.js';
import { runCheck } from '../../src/check/run-check.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;
const seconds = (ms: number): number => Math.floor(ms / 1000) * 1000;
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

run('evidence records against real openssl CRLs', { timeout: 120_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-evidence-'));
  const now = Date.now();
  const reportedAt = Math.floor((now - 6 * DAY) / 60_000) * 60_000; // misissuance: MUST by reported + 5 days
  const revokedAt = seconds(now - 20 * DAY);
  const cas: Record<'first-good' | 'first-old', OpensslCa> = {} as never;
  const leaves: Record<string, IssuedLeaf> = {};
  /** Which CRL each CA serves now, and the thisUpdate of the fresh one it served. */
  const serving: Record<string, 'fresh' | 'old'> = {};
  const freshThisUpdate: Record<string, number> = {};

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    await http.start();
    for (const name of ['first-good', 'first-old'] as const) {
      const base = `http://127.0.0.1:${http.port}/${name}`;
      const ca = new OpensslCa(base, `Evidence CA ${name}`).init('ec');
      ca.appendConfig(
        `[crl_only_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\ncrlDistributionPoints = URI:${base}/ca.crl\n`,
      );
      leaves[name] = ca.issue(`leaf-${name}`, 'crl_only_ext');
      cas[name] = ca;
      http.route(`/${name}/ca.crl`, (_req, res) => {
        const leaf = leaves[name]!;
        if (serving[name] === 'old') {
          ca.revoke(leaf, revokedAt, 'superseded');
          res.end(ca.crl(now - 10 * DAY, now - 3 * DAY));
        } else {
          ca.unrevoke(leaf);
          const thisUpdate = seconds(Date.now() - 60_000);
          freshThisUpdate[name] = thisUpdate;
          res.end(ca.crl(thisUpdate, thisUpdate + 7 * DAY));
        }
      });
    }
    serving['first-good'] = 'fresh';
    serving['first-old'] = 'old';
  });

  afterAll(async () => {
    for (const ca of Object.values(cas)) await ca?.dispose();
    await http.stop();
  });

  const serialOf = (name: string): string => readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.serial;
  // Both CAs start their serials at 1000: certificates are told apart by their SHA-256.
  const shaOf = (name: string): string => readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.sha256;

  it('tracks both certificates and reads both CRLs twice, the fresh and the old-dated one in opposite orders', async () => {
    for (const name of ['first-good'] as const) {
      const r = await cli(
        'track',
        leaves[name]!.pemPath,
        '--issuer',
        cas[name].path('ca.pem'),
        '--case',
        'backdated',
        '--reported-at',
        iso(reportedAt),
        '--reason',
        'misissuance',
      );
      expect(r.code, r.stderr).toBe(0);
    }
    const first = await cli('--json', 'check');
    expect(first.code, first.stderr).toBe(0);
    serving['first-good'] = 'old';
    const second = await cli('--json', 'check');
    expect(second.code, second.stderr).toBe(0);
    expect((JSON.parse(second.stdout) as { changes: unknown[] }).changes).toHaveLength(1);

    // The opposite order through the library on a fake clock: once the old-dated CRL has listed the
    // certificate it is settled and asked again a day later, when the CA serves the fresh CRL.
    const clock = new FakeClock(Date.now());
    const open = await openEmbeddedStore(home);
    const fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    try {
      const leaf = readCertificates(readFileSync(leaves['first-old']!.pemPath), 'leaf')[0]!;
      const issuer = readCertificates(readFileSync(cas['first-old'].path('ca.pem')), 'ca')[0]!;
      const kase = {
        id: 'backdated',
        title: `misissuance reported ${iso(reportedAt)}`,
        reportedAt,
        reason: 'misissuance' as const,
        kind: 'tls-subscriber' as const,
      };
      await trackCertificates({ store: open.store, clock }, kase, [{ certificate: leaf, bundle: [], source: 'test' }], [issuer]);
      const a = await runCheck({ store: open.store, fetcher, clock }, { caseId: 'backdated' });
      expect(a.changes.map((c) => c.to.split('@')[0])).toEqual(['revoked']);
      clock.advance(DAY + HOUR);
      serving['first-old'] = 'fresh';
      const b = await runCheck({ store: open.store, fetcher, clock }, { caseId: 'backdated' });
      expect(b.changes.filter((c) => c.serial === leaf.serial).map((c) => c.to)).toEqual(['good']);
    } finally {
      await fetcher.close();
      await open.close();
    }
  });

  it.each(['first-good', 'first-old'])(
    '%s: revoked late, counted from the fresh CRL, with the backdating and the reversal as findings',
    async (name) => {
      // The fake-clock half ran a day ahead: judge both at that time, when every answer had been seen.
      const r = await cli('--json', 'status', '--case', 'backdated');
      expect(r.code, r.stderr).toBe(0);
      const cert = (JSON.parse(r.stdout) as { cases: { certificates: Record<string, any>[] }[] }).cases[0]!.certificates.find(
        (c) => c.sha256 === shaOf(name),
      )!;
      const deadline = reportedAt + 5 * DAY;
      expect(cert).toMatchObject({
        verdict: 'revoked_late',
        revocationTime: iso(revokedAt),
        effectiveRevocationTime: iso(freshThisUpdate[name]!),
        reasonCode: 'superseded',
        lateBySeconds: (freshThisUpdate[name]! - deadline) / 1000,
      });
      const findings = new Map((cert.findings as { code: string; severity: string }[]).map((f) => [f.code, f.severity]));
      expect(findings.get('revocation_backdated')).toBe('violation');
      expect(findings.get('revocation_reversed')).toBe('violation');
    },
  );

  it('verify-evidence: every record equals its rebuild from the observations', async () => {
    const r = await cli('--json', 'verify-evidence');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cases: 1, certificates: 2, differences: [] });
    expect(JSON.parse(r.stdout).observations).toBeGreaterThanOrEqual(4);
  });

  it('verify-evidence finds a tampered record, names it and exits 1', async () => {
    const open = await openEmbeddedStore(home);
    try {
      const target = (await open.store.loadCase('backdated')).find((cc) => cc.cert.sha256 === shaOf('first-good'))!;
      // Forge the record as if the fresh CRL had never been seen: the revocation would look on time.
      const observations = await open.store.listObservations(target.cert.sha256);
      const forged = mergeEvidence(
        EMPTY_RECORD,
        observations.filter((o) => o.status !== 'good'),
        target.cert.notAfter,
      );
      await open.store.writeRecords([{ cert: target.cert, record: forged, rev: target.rev, pollDue: 0, soleWriter: true }]);
    } finally {
      await open.close();
    }
    const r = await cli('verify-evidence');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['revwatch: 1 evidence record(s) differ from their rebuild from the observations']);
    expect(r.stdout).toContain(`serial ${serialOf('first-good')}`);
    expect(r.stdout).toMatch(/only in the rebuild: .* crl .* good/);
  });
});
