/**
 * End to end: the built `revwatch` CLI, spawned as separate processes, against
 * a real OpenSSL CA (`openssl ocsp` behind the leaf's AIA URL, `openssl ca`
 * CRLs), with crafted revocation times and reasons in index.txt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { readCertificates } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

run('revwatch CLI end to end against openssl', () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-e2e-'));
  let ca: OpensslCa;
  const now = Date.now();
  const reportedAt = Math.floor((now - 3 * DAY) / 60_000) * 60_000;
  const leaves: Record<string, IssuedLeaf> = {};
  const serialOf = (name: string): string => readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.serial;

  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const status = async () => {
    const r = await cli('--json', 'status');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { cases: { id: string; certificates: Record<string, any>[] }[] };
  };
  const certBySerial = async (serial: string) => (await status()).cases.flatMap((c) => c.certificates).find((c) => c.serial === serial)!;

  beforeAll(async () => {
    await http.start();
    ca = new OpensslCa(`http://127.0.0.1:${http.port}`).init('ec');
    for (const name of ['on-time', 'late', 'overdue', 'wrong-reason', 'backdated']) leaves[name] = ca.issue(name);
    ca.revoke(leaves['on-time']!, reportedAt + 2 * HOUR, 'keyCompromise');
    ca.revoke(leaves.late!, reportedAt + 30 * HOUR, 'keyCompromise');
    ca.revoke(leaves['wrong-reason']!, reportedAt + 3 * HOUR, 'superseded');
    ca.serveOn(http);
    await ca.startResponder({ signer: 'delegated' });
  });

  afterAll(async () => {
    await ca?.dispose();
    await http.stop();
  });

  it('tracks certificates, and re-tracking them is a no-op', async () => {
    const files = ['on-time', 'late', 'overdue', 'wrong-reason', 'backdated'].map((n) => leaves[n]!.pemPath);
    const args = [
      'track',
      ...files,
      '--issuer',
      ca.path('ca.pem'),
      '--case',
      'kc',
      '--reported-at',
      new Date(reportedAt).toISOString(),
      '--reason',
      'key-compromise',
    ];
    const first = await cli('--json', ...args);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ caseId: 'kc', caseCreated: true, added: 5, alreadyTracked: 0 });
    const again = await cli('--json', ...args);
    expect(JSON.parse(again.stdout)).toEqual({ caseId: 'kc', caseCreated: false, added: 0, alreadyTracked: 5 });
  });

  it.each([
    ['a missing file', ['track', '/no/such.pem'], /cannot read \/no\/such.pem/],
    ['a file that is not a certificate', ['track', 'package.json'], /package.json is not a certificate/],
    ['an unknown reason', ['track', 'LEAF', '--reason', 'oops'], /unknown reason "oops"/],
    ['a time without a zone', ['track', 'LEAF', '--reported-at', '2024-01-01T00:00:00'], /with a zone/],
    ['a certificate without any revocation source', ['track', 'RESPONDER'], /names no OCSP responder and no CRL distribution point/],
    [
      'the same case id with other facts',
      ['track', 'LEAF', '--case', 'kc', '--reported-at', '2020-01-01T00:00:00Z'],
      /case kc exists with/,
    ],
  ])('refuses %s with one line, exit 1, and writes nothing', async (_what, args, message) => {
    const argv = args.map((a) => (a === 'LEAF' ? leaves['on-time']!.pemPath : a === 'RESPONDER' ? ca.path('ocsp-responder.pem') : a));
    const defaults = [
      '--reported-at',
      new Date(now - DAY).toISOString(),
      '--reason',
      'key-compromise',
      '--issuer',
      ca.path('ca.pem'),
      '--case',
      'bad-input',
    ];
    // Later options win, so each case's own flags override the defaults.
    const r = await cli(...argv.slice(0, 1), ...defaults, ...argv.slice(1));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect((await status()).cases.map((c) => c.id)).toEqual(['kc']);
  });

  it('checks, and says on time, late, overdue and the wrong reason, from any later process', async () => {
    const r = await cli('check');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/checked 5 certificate\(s\): 1 CRL fetch\(es\), 5 OCSP request\(s\)/);
    const deadline = new Date(reportedAt + DAY).toISOString().replace('.000', '');
    expect(await certBySerial(serialOf('on-time'))).toMatchObject({
      verdict: 'revoked_on_time',
      deadline,
      reasonCode: 'keyCompromise',
      lateBySeconds: null,
    });
    expect(await certBySerial(serialOf('late'))).toMatchObject({
      verdict: 'revoked_late',
      lateBySeconds: 6 * 3600,
      revocationTime: new Date(reportedAt + 30 * HOUR).toISOString().replace('.000', ''),
    });
    const overdue = await certBySerial(serialOf('overdue'));
    expect(overdue.verdict).toBe('overdue');
    expect(overdue.lateBySeconds).toBeGreaterThan(47 * 3600);
    const wrong = await certBySerial(serialOf('wrong-reason'));
    expect(wrong.verdict).toBe('revoked_on_time');
    expect(wrong.findings.map((f: { code: string }) => f.code)).toContain('reason_code_mismatch');
    expect(wrong.sources.map((s: { kind: string; status: string }) => `${s.kind}:${s.status}`).sort()).toEqual([
      'crl:revoked',
      'ocsp:revoked',
    ]);
  });

  it('two checks at once neither lose nor duplicate anything', async () => {
    const opened = await openEmbeddedStore(home);
    const before = await opened.store.listRuns(100);
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const name of Object.keys(leaves)) {
        const sha = readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.sha256;
        out[name] = (await opened.store.listObservations(sha)).length;
      }
      return out;
    };
    const observationsBefore = await counts();
    await opened.close();
    const [a, b] = await Promise.all([cli('check'), cli('check')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const reopened = await openEmbeddedStore(home);
    try {
      expect((await reopened.store.listRuns(100)).length).toBe(before.length + 2);
      // Nothing changed at the CA: neither run writes per-certificate observations again.
      const after: Record<string, number> = {};
      for (const name of Object.keys(leaves)) {
        const sha = readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.sha256;
        const obs = await reopened.store.listObservations(sha);
        after[name] = obs.length;
        const keys = obs.map((o) => JSON.stringify([o.observedAt, o.source, o.status]));
        expect(new Set(keys).size).toBe(keys.length);
      }
      expect(after).toEqual(observationsBefore);
    } finally {
      await reopened.close();
    }
  });

  it('exits 2 when a source cannot be read, and records the failure', async () => {
    await ca.stopResponder();
    try {
      const r = await cli('check');
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/source\(s\) could not be read/);
      const overdue = await certBySerial(serialOf('overdue'));
      expect(overdue.sources.find((s: { kind: string }) => s.kind === 'ocsp')).toMatchObject({ status: 'error' });
      expect(overdue.verdict).toBe('overdue');
    } finally {
      await ca.startResponder({ signer: 'delegated' });
    }
  });

  it('finds a backdated revocation: a signed "good" after the claimed time moves the effective time', async () => {
    await cli('check'); // the responder is back: "good" for the backdated leaf, produced now
    ca.revoke(leaves.backdated!, reportedAt + HOUR, 'superseded');
    await ca.startResponder({ signer: 'delegated' });
    const r = await cli('check');
    expect(r.code, r.stderr).toBe(0);
    const s = await certBySerial(serialOf('backdated'));
    expect(s.revocationTime).toBe(new Date(reportedAt + HOUR).toISOString().replace('.000', ''));
    expect(Date.parse(s.effectiveRevocationTime)).toBeGreaterThan(now - HOUR);
    expect(s.verdict).toBe('revoked_late');
    expect(s.findings.find((f: { code: string }) => f.code === 'revocation_backdated')).toMatchObject({ severity: 'violation' });
  });

  it('prints a table for people', async () => {
    const r = await cli('status');
    expect(r.stdout).toMatch(/kc\s+key-compromise reported/);
    expect(r.stdout).toMatch(/revoked_on_time: 2/);
    writeFileSync(join(home, 'status.txt'), r.stdout);
  });
});
