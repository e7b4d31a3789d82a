/**
 * `revwatch track` input kinds through the CLI: a directory, crtsh:<id>, a
 * crt.sh URL and a SHA-256 fingerprint (crt.sh's base URL pointed at a local
 * server), with the issuer found at the AIA caIssuers URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { LocalCaServer } from '../../src/local-ca/server.js';
import { FaultServer } from '../helpers/fault-server.js';
import { toPem, type CertificateInfo } from '../../src/pki/certificate.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const pem = toPem;

describe('track inputs', () => {
  const home = mkdtempSync(join(tmpdir(), 'revwatch-inputs-'));
  const clock = new FakeClock(NOW);
  const crtsh = new FaultServer();
  let server: LocalCaServer;
  const certs: CertificateInfo[] = [];

  let caIssuersHits = 0;
  let caPem = '';

  const cli = (...argv: string[]) => cliWith(['--allow-private-network', ...argv]);
  const cliWith = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, ...argv], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: { REVWATCH_CRTSH_URL: crtsh.url('') },
      clock,
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'Inputs CA', notBefore: NOW - 100 * DAY, notAfter: NOW + 400 * DAY });
    server = await new LocalCaServer(ca, () => clock.now().getTime()).start();
    for (let i = 0; i < 5; i++) {
      const c = await ca.issue({
        subject: `CN=in${i}.example`,
        notBefore: NOW - DAY,
        notAfter: NOW + 90 * DAY,
        ocspUrls: [server.ocspUrl],
        crlUrls: [server.crlUrl],
        caIssuersUrls: [server.caIssuersUrl],
      });
      certs.push(c.info);
    }
    caPem = pem(ca.info.der);
    await crtsh
      .route('/issuer.cer', (_req, res) => {
        caIssuersHits += 1;
        res.end(caPem);
      })
      .route('/', (req, res) => {
        const d = new URL(req.url ?? '/', 'http://x').searchParams.get('d') ?? '';
        const hit = d === '1001' ? certs[2] : d === '1002' ? certs[3] : certs.find((c) => c.sha256 === d);
        res.statusCode = hit ? 200 : 404;
        res.end(hit ? pem(hit.der) : 'not found');
      })
      .start();
    const dir = join(home, 'in');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.pem'), pem(certs[0]!.der));
    writeFileSync(join(dir, 'b.der'), certs[1]!.der);
    writeFileSync(join(dir, 'notes.txt'), 'ignored: not a certificate file name');
  });
  afterAll(async () => {
    await server.stop();
    await crtsh.stop();
  });

  it('tracks a directory, crtsh:<id>, a crt.sh URL and a fingerprint, finding the issuer by AIA', async () => {
    const fingerprint = certs[4]!.sha256.match(/../g)!.join(':').toUpperCase();
    const r = await cli(
      '--json',
      'track',
      join(home, 'in'),
      'crtsh:1001',
      'https://crt.sh/?id=1002',
      fingerprint,
      '--reported-at',
      '2026-02-28T12:00:00Z',
      '--reason',
      'key-compromise',
      '--case',
      'inputs',
    );
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ caseId: 'inputs', caseCreated: true, added: 5, alreadyTracked: 0 });
    const status = JSON.parse((await cli('--json', 'status', '--case', 'inputs')).stdout);
    expect(status.cases[0].certificates.map((c: { sha256: string }) => c.sha256).sort()).toEqual(certs.map((c) => c.sha256).sort());
    // The crt.sh id is kept for report links.
    const csv = (await cli('report', '--case', 'inputs', '--format', 'csv')).stdout;
    expect(csv).toContain(`https://crt.sh/?id=1001`);
    expect(csv).toContain(`https://crt.sh/?q=${certs[4]!.sha256}`);
  });

  it('refuses an id crt.sh does not have, with one line and nothing written', async () => {
    const r = await cli('track', 'crtsh:999', '--reported-at', '2026-02-28T12:00:00Z', '--reason', 'key-compromise', '--case', 'missing');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/crtsh:999: could not download .*HTTP 404/);
    expect(JSON.parse((await cli('--json', 'status')).stdout).cases.map((c: { id: string }) => c.id)).toEqual(['inputs']);
  });

  it('--notified-by microsoft is a fact of the case (24 hours); --delayed-report-url can be added on a later track', async () => {
    const input = join(home, 'in', 'a.pem');
    const args = [input, '--reported-at', '2026-02-25T12:00:00Z', '--reason', 'misissuance', '--case', 'ms', '--notified-by', 'microsoft'];
    expect((await cli('track', ...args)).code).toBe(0);
    const cert = JSON.parse((await cli('--json', 'status', '--case', 'ms')).stdout).cases[0].certificates[0];
    expect(cert.deadline).toBe('2026-02-26T12:00:00Z');
    // Another program (or none) is another fact: refused with one line.
    const other = await cli('track', input, '--reported-at', '2026-02-25T12:00:00Z', '--reason', 'misissuance', '--case', 'ms');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--notified-by microsoft; give the same facts/);
    // The delayed-revocation report is filed later: a re-track records it.
    expect((await cli('track', ...args, '--delayed-report-url', 'https://bugzilla.example/3')).code).toBe(0);
    const report = JSON.parse((await cli('report', '--case', 'ms', '--format', 'json')).stdout);
    expect(report.case).toMatchObject({ notifiedBy: 'microsoft', delayedReportUrl: 'https://bugzilla.example/3' });
    expect(report.rule).toMatchObject({ id: 'microsoft-2.1.13', mustHours: 24 });
    expect((await cli('report', '--case', 'ms')).stdout).toContain('| Notified by | microsoft |');
    // Judged under the rules of 2025-11-20 (before Microsoft's v1.1), the BR's 5 days apply.
    const asOf = JSON.parse((await cli('--json', 'status', '--case', 'ms', '--rules-as-of', '2025-11-20T00:00:00Z')).stdout);
    expect(asOf.rulesAsOf).toBe('2025-11-20T00:00:00Z');
    expect(asOf.cases[0].certificates[0].deadline).toBe('2026-03-02T12:00:00Z');
  });

  it('without --allow-private-network, a caIssuers URL on loopback is named with the rule and the flag, as check does', async () => {
    const r = await cliWith([
      'track',
      join(home, 'in', 'a.pem'),
      '--reported-at',
      '2026-02-28T12:00:00Z',
      '--reason',
      'key-compromise',
      '--case',
      'guarded',
    ]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`no issuer found for CN=in0.example`);
    expect(lines[0]).toContain(`AIA caIssuers (${server.caIssuersUrl}: refused to connect to 127.0.0.1: 127.0.0.1 is a loopback address`);
    expect(lines[0]).toContain('use --allow-private-network for local responders');
    expect(JSON.parse((await cli('--json', 'status')).stdout).cases.map((c: { id: string }) => c.id)).not.toContain('guarded');
  });

  it('fetches each caIssuers URL once per command, however many certificates name it', async () => {
    const ca = await LocalCa.create({ name: 'Shared AIA CA', notBefore: NOW - 100 * DAY, notAfter: NOW + 400 * DAY });
    caPem = pem(ca.info.der);
    const dir = join(home, 'shared-aia');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 4; i++) {
      const c = await ca.issue({
        subject: `CN=shared${i}.example`,
        notBefore: NOW - DAY,
        notAfter: NOW + 90 * DAY,
        crlUrls: [server.crlUrl],
        caIssuersUrls: [crtsh.url('/issuer.cer')],
      });
      writeFileSync(join(dir, `c${i}.pem`), pem(c.info.der));
    }
    caIssuersHits = 0;
    const r = await cli('--json', 'track', dir, '--reported-at', '2026-02-28T12:00:00Z', '--reason', 'key-compromise', '--case', 'shared');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ added: 4 });
    expect(caIssuersHits).toBe(1);
  });
});
