/**
 * The bound on backdating is exact to the run: the built CLI against a real
 * `openssl ocsp` responder and real `openssl ca` CRLs on 127.0.0.1, on the
 * real clock, checks a second or more apart. Unchanged "good" answers are not
 * written per certificate; when the revocation arrives, the last good answer
 * of the run before it (the good-answer log, docs/evidence.md) joins the
 * record: lastSeenGoodAt is that run, the effective revocation time is what
 * that answer vouched, the backdating is a finding, and the bundle ships the
 * signed good response. verify-evidence rebuilds the same records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { readCertificates } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const DAY = 86_400_000;
const run = opensslAvailable() ? describe : describe.skip;
const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface CheckJson {
  startedAt: number;
  finishedAt: number;
  changes: { to: string }[];
  goodAnswersCarried: number;
}

run('good answers between changes, against real openssl responders', { timeout: 240_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-good-answers-'));
  const bundleDir = mkdtempSync(join(tmpdir(), 'revwatch-good-answers-bundle-'));
  const started = Date.now();
  // misissuance: MUST by reported + 5 days. The deadline passes a second after the test starts, so each good
  // answer below is dated after it, while the claimed revocation time (a minute before the start) is not.
  const reportedAt = Math.floor(started / 1000) * 1000 - 5 * DAY + 1000;
  const claimed = Math.floor(started / 1000) * 1000 - 60_000;
  let ca: OpensslCa;
  const leaves: Record<'ocsp' | 'crl', IssuedLeaf> = {} as never;
  /** The CRL the CRL route serves: generated when the test says, then served unchanged (the same bytes) until the next. */
  let crlBytes: Buffer | null = null;

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; signal?: string; stdout: string; stderr: string; message: string };
      return { code: e.code, stdout: e.stdout, stderr: `${e.stderr ?? ''} ${e.signal ?? ''} ${e.message}` };
    }
  };
  const check = async (): Promise<CheckJson> => {
    const r = await cli('--json', 'check');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as CheckJson;
  };
  const statusOf = async (leaf: IssuedLeaf): Promise<Record<string, any>> => {
    const r = await cli('--json', 'status');
    expect(r.code, r.stderr).toBe(0);
    const sha = readCertificates(readFileSync(leaf.pemPath), leaf.name)[0]!.sha256;
    const all = (JSON.parse(r.stdout) as { cases: { certificates: Record<string, any>[] }[] }).cases.flatMap((c) => c.certificates);
    return all.find((c) => c.sha256 === sha)!;
  };

  beforeAll(async () => {
    await http.start();
    const base = `http://127.0.0.1:${http.port}`;
    ca = new OpensslCa(base, 'Good Answers CA').init('ec');
    ca.appendConfig(
      [
        '[ocsp_only_ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `authorityInfoAccess = OCSP;URI:${base}/ocsp`,
        '[crl_only_ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `crlDistributionPoints = URI:${base}/held.crl`,
      ].join('\n'),
    );
    leaves.ocsp = ca.issue('leaf-ocsp', 'ocsp_only_ext');
    leaves.crl = ca.issue('leaf-crl', 'crl_only_ext');
    ca.serveOn(http);
    http.route('/held.crl', (_req, res) => res.end(crlBytes!));
    await ca.startResponder({ signer: 'delegated' });
  });

  afterAll(async () => {
    await ca?.dispose();
    await http.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  /** The CRL served from now on, dated a second ago, as `openssl ca -gencrl` writes it for index.txt now. */
  const newCrl = (): number => {
    const thisUpdate = Math.floor(Date.now() / 1000) * 1000 - 1000;
    crlBytes = ca.crl(thisUpdate, thisUpdate + 7 * DAY);
    return thisUpdate;
  };

  const goodRuns: CheckJson[] = [];
  let crlThisUpdates: number[] = [];
  let revokedRun: CheckJson;

  it('many checks see good answers, then a revocation claimed before the last of them', async () => {
    for (const leaf of [leaves.ocsp, leaves.crl]) {
      const r = await cli(
        'track',
        leaf.pemPath,
        '--issuer',
        ca.path('ca.pem'),
        '--case',
        `late-${leaf.name}`,
        '--reported-at',
        iso(reportedAt),
        '--reason',
        'misissuance',
      );
      expect(r.code, r.stderr).toBe(0);
    }
    // Two CRLs that omit the serial, each read on several runs (the same bytes again: no new snapshot).
    crlThisUpdates = [newCrl()];
    for (let i = 0; i < 6; i++) {
      if (i === 3) {
        await sleep(1100);
        crlThisUpdates.push(newCrl());
      }
      await sleep(1100); // a second apart: every good answer is dated in its own second
      goodRuns.push(await check());
    }
    // Only the first run recorded anything per certificate; the others changed nothing.
    expect(goodRuns[0]!.changes.map((c) => c.to).sort()).toEqual(['good', 'good']);
    for (const r of goodRuns.slice(1)) expect(r.changes).toEqual([]);

    ca.revoke(leaves.ocsp, claimed, 'keyCompromise');
    ca.revoke(leaves.crl, claimed, 'keyCompromise');
    await ca.startResponder({ signer: 'delegated' }); // `openssl ocsp` reads index.txt when it starts
    await sleep(1100);
    newCrl();
    revokedRun = await check();
    expect(revokedRun.changes.map((c) => c.to.split('@')[0])).toEqual(['revoked', 'revoked']);
    // Each certificate's last good answer joined its record with the revocation.
    expect(revokedRun.goodAnswersCarried).toBe(2);
  });

  it.each(['ocsp', 'crl'] as const)(
    '%s: revoked late from the last good answer, backdated, lastSeenGoodAt the last run that saw good',
    async (kind) => {
      const cert = await statusOf(leaves[kind]);
      const lastGood = goodRuns[goodRuns.length - 1]!;
      const beforeLast = goodRuns[goodRuns.length - 2]!;
      // To the second: within the last good run, and after the run before it.
      const seen = Date.parse(cert.lastSeenGoodAt);
      expect(seen).toBeGreaterThanOrEqual(Math.floor(lastGood.startedAt / 1000) * 1000);
      expect(seen).toBeLessThanOrEqual(lastGood.finishedAt);
      expect(seen).toBeGreaterThan(beforeLast.finishedAt);
      expect(Date.parse(cert.firstSeenRevokedAt)).toBeGreaterThanOrEqual(Math.floor(revokedRun.startedAt / 1000) * 1000);
      expect(cert.revocationTime).toBe(iso(claimed));
      // The effective time is what the last good answer vouched: OCSP producedAt within that run; the CRL's thisUpdate.
      const effective = Date.parse(cert.effectiveRevocationTime);
      if (kind === 'crl') expect(effective).toBe(crlThisUpdates[crlThisUpdates.length - 1]);
      else {
        expect(effective).toBeGreaterThanOrEqual(Math.floor(lastGood.startedAt / 1000) * 1000);
        expect(effective).toBeLessThanOrEqual(lastGood.finishedAt);
      }
      const deadline = reportedAt + 5 * DAY;
      expect(cert.verdict).toBe(effective > deadline ? 'revoked_late' : 'revoked_on_time');
      expect(cert.verdict).toBe('revoked_late');
      expect(cert.lateBySeconds).toBe(Math.floor((effective - deadline) / 1000));
      const backdated = (cert.findings as { code: string; severity: string; message: string }[]).find(
        (f) => f.code === 'revocation_backdated',
      );
      expect(backdated?.severity).toBe('warning'); // keyCompromise may be backdated (BR 7.2.2): a warning, counted from the bound
      expect(backdated?.message).toContain(`earlier than a signed "good" answer of ${iso(effective)}`);
      // The source's fields are those of one answer: the revoked one, read in the last run.
      const source = (cert.sources as { kind: string; status: string; checkedAt: string; thisUpdate: string }[]).find(
        (s) => s.kind === kind,
      )!;
      expect(source.status).toBe('revoked');
      expect(Date.parse(source.checkedAt)).toBeGreaterThanOrEqual(Math.floor(revokedRun.startedAt / 1000) * 1000);
    },
  );

  it('the bundle holds the signed good response of the last good run, and the CRL it rests on', async () => {
    const r = await cli('report', '--case', `late-${leaves.ocsp.name}`, '--format', 'bundle', '--out', bundleDir);
    expect(r.code, r.stderr).toBe(0);
    const cert = await statusOf(leaves.ocsp);
    const stamp = cert.lastSeenGoodAt.replace(/[:]/g, '');
    const files = readdirSync(join(bundleDir, 'ocsp')).filter((f) => f.includes(stamp));
    expect(files).toHaveLength(1);
    const text = spawnSync('openssl', ['ocsp', '-respin', join(bundleDir, 'ocsp', files[0]!), '-resp_text', '-noverify'], {
      encoding: 'utf8',
    }).stdout;
    expect(text).toContain('Cert Status: good');
    const verify = spawnSync('sh', ['verify.sh'], { cwd: bundleDir, encoding: 'utf8' });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);

    // The CRL case: the last good answer cites the CRL read in that run, and the bundle ships that CRL.
    const j = await cli('report', '--case', `late-${leaves.crl.name}`, '--format', 'json');
    expect(j.code, j.stderr).toBe(0);
    const entry = (
      JSON.parse(j.stdout) as {
        certificates: { lastSeenGoodAt: string; observations: { status: string; observedAt: string; sha256: string | null }[] }[];
      }
    ).certificates[0]!;
    const good = entry.observations.find((o) => o.status === 'good' && o.observedAt === entry.lastSeenGoodAt)!;
    expect(good.sha256).toMatch(/^[0-9a-f]{64}$/);
    const crlBundle = mkdtempSync(join(tmpdir(), 'revwatch-good-answers-crl-'));
    try {
      const c = await cli('report', '--case', `late-${leaves.crl.name}`, '--format', 'bundle', '--out', crlBundle, '--force');
      expect(c.code, c.stderr).toBe(0);
      expect(existsSync(join(crlBundle, 'crls', `${good.sha256}.crl`))).toBe(true);
    } finally {
      rmSync(crlBundle, { recursive: true, force: true });
    }
  });

  it('verify-evidence rebuilds the same records from the observations', async () => {
    const r = await cli('--json', 'verify-evidence');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ cases: 2, certificates: 2, differences: [] });
  });
});
