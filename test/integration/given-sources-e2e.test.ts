/**
 * Sources given by hand, end to end: the built CLI against a real `openssl ca`
 * on 127.0.0.1. Certificates that carry neither a CRL Distribution Point nor
 * an OCSP URL are refused at `track` until a `--crl-url` or `--ocsp-url` is
 * given; then `check` polls those, and `status` says they were reached by the
 * "given" route. `inspect ocsp cert.pem` with nothing else finds the
 * responder in the certificate's AIA and the issuer at its caIssuers URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { readCertificates } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface StatusCert {
  serial: string;
  verdict: string;
  revocationTime: string | null;
  sources: { kind: string; url: string; status: string; route: string | null }[];
  findings: { code: string }[];
}

run('sources given by hand, and inspect ocsp from a certificate, against real openssl', { timeout: 180_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-given-'));
  let ca: OpensslCa;
  let bareCrl: IssuedLeaf;
  let bareOcsp: IssuedLeaf;
  let withAia: IssuedLeaf;
  const now = Date.now();
  // Reported two hours ago: the 24-hour key-compromise deadline (BR 4.9.1.1) is still ahead when the CRL is read.
  const reportedAt = Math.floor((now - 2 * HOUR) / 60_000) * 60_000;
  const revokedAt = Math.floor((now - HOUR) / 1000) * 1000;

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const serialOf = (leaf: IssuedLeaf): string => readCertificates(readFileSync(leaf.pemPath), leaf.name)[0]!.serial;

  beforeAll(async () => {
    await http.start();
    ca = new OpensslCa(http.url(''), 'Given Sources CA').init('ec');
    // No CDP, no AIA: nothing in the certificate says where its status is published.
    ca.appendConfig('[bare_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n');
    bareCrl = ca.issue('bare-crl', 'bare_ext');
    bareOcsp = ca.issue('bare-ocsp', 'bare_ext');
    withAia = ca.issue('with-aia');
    ca.serveOn(http);
    // The CRL served at a URL the certificates do not name.
    http.route('/elsewhere.crl', (_req, res) => res.end(ca.crl(Date.now() - 60_000, Date.now() + 7 * DAY)));
    ca.revoke(bareCrl, revokedAt, 'keyCompromise');
    ca.revoke(bareOcsp, revokedAt, 'keyCompromise');
    await ca.startResponder({ signer: 'delegated' });
  });

  afterAll(async () => {
    await ca?.dispose();
    await http.stop();
  });

  const trackArgs = (leaf: IssuedLeaf, ...extra: string[]): string[] => [
    'track',
    leaf.pemPath,
    '--issuer',
    ca.path('ca.pem'),
    '--case',
    'given',
    '--reported-at',
    iso(reportedAt),
    '--reason',
    'key-compromise',
    ...extra,
  ];

  it('refuses a certificate without CDP or OCSP URL when no source is given, with one line and nothing written', async () => {
    const r = await cli(...trackArgs(bareCrl));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/names no OCSP responder and no CRL distribution point.*--crl-url or --ocsp-url/);
    const status = await cli('--json', 'status');
    expect(JSON.parse(status.stdout)).toEqual({ cases: [] });
  });

  it('refuses a --crl-url that is not an http(s) URL', async () => {
    const r = await cli(...trackArgs(bareCrl, '--crl-url', 'ldap://example.test/cn=crl'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('revwatch: --crl-url must be an http or https URL (got ldap:)');
  });

  it('tracks with --crl-url and --ocsp-url, polls them, and status names the given route', async () => {
    expect((await cli(...trackArgs(bareCrl, '--crl-url', http.url('/elsewhere.crl')))).code).toBe(0);
    const t = await cli(...trackArgs(bareOcsp, '--ocsp-url', http.url('/ocsp')));
    expect(t.code, t.stderr).toBe(0);
    const check = await cli('--json', 'check');
    expect(check.code, check.stderr).toBe(0);
    const r = await cli('--json', 'status', '--case', 'given');
    expect(r.code, r.stderr).toBe(0);
    const certs = (JSON.parse(r.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates;
    const bySerial = new Map(certs.map((c) => [c.serial, c]));
    const crlOne = bySerial.get(serialOf(bareCrl))!;
    expect(crlOne.sources).toEqual([
      expect.objectContaining({ kind: 'crl', url: http.url('/elsewhere.crl'), status: 'revoked', route: 'given' }),
    ]);
    expect(crlOne).toMatchObject({ verdict: 'revoked_on_time', revocationTime: iso(revokedAt) });
    expect(crlOne.findings.map((f) => f.code)).not.toContain('no_revocation_source');
    const ocspOne = bySerial.get(serialOf(bareOcsp))!;
    expect(ocspOne.sources).toEqual([expect.objectContaining({ kind: 'ocsp', url: http.url('/ocsp'), status: 'revoked', route: 'given' })]);
    expect(ocspOne).toMatchObject({ verdict: 'revoked_on_time', revocationTime: iso(revokedAt) });
  });

  it('a certificate with its own CDP and AIA shows the cdp and aia routes', async () => {
    const t = await cli(...trackArgs(withAia));
    expect(t.code, t.stderr).toBe(0);
    expect((await cli('check')).code).toBe(0);
    const r = await cli('--json', 'status', '--case', 'given');
    const cert = (JSON.parse(r.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates.find(
      (c) => c.serial === serialOf(withAia),
    )!;
    expect(new Set(cert.sources.map((s) => `${s.kind} ${s.route} ${s.status}`))).toEqual(new Set(['crl cdp good', 'ocsp aia good']));
  });

  it('inspect ocsp <cert.pem> with nothing else asks the AIA responder, fetching the issuer from caIssuers', async () => {
    http.reset();
    const r = await cli('--json', 'inspect', 'ocsp', bareOcsp.pemPath);
    // bare-ocsp names no responder: one line, exit 1.
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/names no OCSP responder in its Authority Information Access/);

    const ok = await cli('--json', 'inspect', 'ocsp', withAia.pemPath);
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as {
      responseStatus: string;
      signatureValid: boolean;
      signer: string;
      responses: { serial: string; status: string }[];
    };
    expect(report).toMatchObject({ responseStatus: 'successful', signatureValid: true, signer: 'delegated' });
    expect(report.responses).toEqual([expect.objectContaining({ serial: serialOf(withAia), status: 'good' })]);
    // The issuer came from the certificate's caIssuers URL, the answer from its OCSP URL.
    expect(http.hits.map((h) => h.url)).toEqual(expect.arrayContaining(['/ca.der', '/ocsp']));
  });
});
