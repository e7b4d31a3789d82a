/**
 * Probes against a real OpenSSL CA: `openssl ocsp` responders and
 * `openssl ca -gencrl` CRLs served over HTTP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { probeCrl, probeOcsp, type ProbeOutcome } from '../../src/check/probe.js';
import { OcspIssuer } from '../../src/pki/ocsp.js';
import { readCertificates, type CertificateInfo } from '../../src/pki/certificate.js';
import { CRL_REASONS } from '../../src/pki/oids.js';

const HOUR = 3_600_000;
const run = opensslAvailable() ? describe : describe.skip;

run('probes against openssl ca and openssl ocsp', () => {
  const http = new FaultServer();
  let ca: OpensslCa;
  let other: OpensslCa;
  let issuer: CertificateInfo;
  let fetcher: HttpFetcher;
  let crlBytes: Buffer = Buffer.alloc(0);
  const now = Date.now();
  // Whole seconds: index.txt and CRLs carry no sub-second precision.
  const base = Math.floor(now / 1000) * 1000;
  const reasons = [
    'keyCompromise',
    'CACompromise',
    'affiliationChanged',
    'superseded',
    'cessationOfOperation',
    'certificateHold',
    null,
  ] as const;
  const revoked: { leaf: IssuedLeaf; at: number; reason: (typeof reasons)[number]; info: CertificateInfo }[] = [];
  let goodLeaf: CertificateInfo;
  let truncated: Buffer = Buffer.alloc(0);

  beforeAll(async () => {
    await http.start();
    const baseUrl = `http://127.0.0.1:${http.port}`;
    ca = new OpensslCa(baseUrl).init('ec');
    other = new OpensslCa(baseUrl, 'Some Other CA').init('rsa');
    issuer = readCertificates(readFileSync(ca.path('ca.pem')), 'ca.pem')[0]!;
    goodLeaf = readCertificates(readFileSync(ca.issue('good-leaf').pemPath), 'good')[0]!;
    reasons.forEach((reason, i) => {
      const leaf = ca.issue(`revoked-${i}`);
      const at = base - (i + 1) * 5 * HOUR;
      ca.revoke(leaf, at, reason);
      revoked.push({ leaf, at, reason, info: readCertificates(readFileSync(leaf.pemPath), leaf.name)[0]! });
    });
    crlBytes = ca.crl(base - HOUR, base + 7 * 24 * HOUR);
    http
      .route('/ca.crl', (_req, res) => res.end(crlBytes))
      .route('/other.crl', (_req, res) => res.end(other.crl(base - HOUR, base + 24 * HOUR)))
      .route('/big.crl', (_req, res) => {
        res.write(crlBytes);
        res.end(Buffer.alloc(2 * 1024 * 1024));
      })
      .route('/garbage', (_req, res) => res.end('<html><body>Service Unavailable</body></html>'))
      .route('/truncated', (_req, res) => res.end(truncated))
      .route('/stall', (_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write(Buffer.from([0x30, 0x82]));
      })
      .route('/loop', (_req, res) => {
        res.writeHead(307, { location: '/loop' });
        res.end();
      });
    await ca.startResponder({ signer: 'delegated' });
    fetcher = new HttpFetcher({ clock: new SystemClock(), allowPrivateNetwork: true, bodyTimeoutMs: 500, maxAttempts: 1 });
    // A real response from the responder, cut in half.
    const whole = await ocsp(goodLeaf);
    truncated = Buffer.from(whole.raw!.subarray(0, Math.floor(whole.raw!.length / 2)));
  });

  afterAll(async () => {
    await fetcher?.close();
    await ca?.dispose();
    await other?.dispose();
    await http.stop();
  });

  const ocsp = (info: CertificateInfo | { serial: string }, url = `http://127.0.0.1:${ca.ocspPort}/`): Promise<ProbeOutcome> =>
    probeOcsp({ url, serial: info.serial, issuer: new OcspIssuer(issuer.raw), fetcher, now: () => Date.now() });

  it('reads a good answer from a delegated responder', async () => {
    const o = await ocsp(goodLeaf);
    expect(o).toMatchObject({ status: 'good', signer: 'delegated', revocationTime: null });
    if (o.status !== 'error') {
      expect(o.raw?.length).toBeGreaterThan(100);
      expect(o.nextUpdate! - o.thisUpdate).toBe(60 * 60_000);
    }
  });

  it('reads every revocation time and reason openssl was given, over OCSP and over the CRL', async () => {
    const crl = await probeCrl({
      url: `http://127.0.0.1:${http.port}/ca.crl`,
      serials: [goodLeaf.serial, ...revoked.map((r) => r.info.serial)],
      issuer: issuer.raw,
      fetcher,
      now: () => Date.now(),
    });
    expect(crl.scan?.signatureValid).toBe(true);
    expect(crl.scan?.entries).toBe(revoked.length);
    expect(crl.outcomes[0]).toMatchObject({ status: 'good', serial: goodLeaf.serial });
    for (const [i, r] of revoked.entries()) {
      const code =
        r.reason === null ? null : Number(Object.entries(CRL_REASONS).find(([, n]) => n.toLowerCase() === r.reason!.toLowerCase())![0]);
      const viaOcsp = await ocsp(r.info);
      expect(viaOcsp, `OCSP ${r.reason}`).toMatchObject({ status: 'revoked', revocationTime: r.at, reasonCode: code });
      expect(crl.outcomes[i + 1], `CRL ${r.reason}`).toMatchObject({
        status: 'revoked',
        revocationTime: r.at,
        reasonCode: code,
        crlNumber: '1',
      });
    }
  });

  it('reads unknown for a serial the CA never issued', async () => {
    expect(await ocsp({ serial: '7fffffff01' })).toMatchObject({ status: 'unknown' });
  });

  it('accepts an issuer-signed responder, by name and by key id', async () => {
    await ca.startResponder({ signer: 'issuer' });
    expect(await ocsp(goodLeaf)).toMatchObject({ status: 'good', signer: 'issuer' });
    await ca.startResponder({ signer: 'issuer', keyId: true });
    expect(await ocsp(goodLeaf)).toMatchObject({ status: 'good', signer: 'issuer' });
    await ca.startResponder({ signer: 'delegated' });
  });

  it('records -badsig as a bad signature, never as an answer', async () => {
    await ca.startResponder({ signer: 'delegated', badsig: true });
    try {
      const o = await ocsp(revoked[0]!.info);
      expect(o).toMatchObject({ status: 'error', error: { kind: 'bad-signature' } });
      expect(o.sha256).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      await ca.startResponder({ signer: 'delegated' });
    }
  });

  it('records a responder that is down', async () => {
    await ca.stopResponder();
    try {
      expect(await ocsp(goodLeaf)).toMatchObject({ status: 'error', error: { kind: 'network' } });
    } finally {
      await ca.startResponder({ signer: 'delegated' });
    }
  });

  it.each([
    ['/garbage', 'malformed'],
    ['/truncated', 'malformed'],
    ['/stall', 'timeout'],
    ['/loop', 'redirect-limit'],
  ])('records %s as %s', async (path, kind) => {
    expect(await ocsp(goodLeaf, `http://127.0.0.1:${http.port}${path}`)).toMatchObject({ status: 'error', error: { kind } });
  });

  it('refuses an oversized CRL and a CRL signed by another CA', async () => {
    const big = await probeCrl({
      url: `http://127.0.0.1:${http.port}/big.crl`,
      serials: [goodLeaf.serial],
      issuer: issuer.raw,
      fetcher,
      now: () => Date.now(),
      maxBytes: 1024 * 1024,
    });
    expect(big.outcomes[0]).toMatchObject({ status: 'error', error: { kind: 'too-large' } });
    const foreign = await probeCrl({
      url: `http://127.0.0.1:${http.port}/other.crl`,
      serials: [goodLeaf.serial],
      issuer: issuer.raw,
      fetcher,
      now: () => Date.now(),
    });
    expect(foreign.outcomes[0]).toMatchObject({ status: 'error', error: { kind: 'bad-signature' } });
  });

  it('`revwatch inspect` agrees with openssl about the CRL and a live responder', async () => {
    const cli = (args: string[]) => JSON.parse(execFileSync('node', ['bin/revwatch.js', '--json', ...args], { encoding: 'utf8' }));
    const target = revoked[0]!;
    const crl = cli([
      'inspect',
      'crl',
      ca.path('ca.crl'),
      '--issuer',
      ca.path('ca.pem'),
      '--serial',
      target.info.serial,
      '--serial',
      goodLeaf.serial,
    ]);
    expect(crl).toMatchObject({ signatureValid: true, issuer: 'CN=OpenSSL Test CA', crlNumber: '1', entries: revoked.length, fresh: true });
    expect(crl.matches).toEqual([
      {
        serial: target.info.serial,
        revocationDate: new Date(target.at).toISOString().replace('.000', ''),
        reasonCode: 'keyCompromise',
        invalidityDate: null,
      },
    ]);
    const opensslText = execFileSync('openssl', ['crl', '-in', ca.path('ca.crl'), '-inform', 'DER', '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(opensslText).toContain(`Serial Number: ${target.leaf.serialHex}`);

    const live = cli([
      '--allow-private-network',
      'inspect',
      'ocsp',
      `http://127.0.0.1:${ca.ocspPort}/`,
      '--cert',
      target.leaf.pemPath,
      '--issuer',
      ca.path('ca.pem'),
    ]);
    expect(live).toMatchObject({ responseStatus: 'successful', signatureValid: true, signer: 'delegated' });
    expect(live.responses[0]).toMatchObject({ serial: target.info.serial, status: 'revoked', reasonCode: 'keyCompromise' });

    const refused = (() => {
      try {
        execFileSync(
          'node',
          [
            'bin/revwatch.js',
            'inspect',
            'ocsp',
            `http://127.0.0.1:${ca.ocspPort}/`,
            '--cert',
            target.leaf.pemPath,
            '--issuer',
            ca.path('ca.pem'),
          ],
          { encoding: 'utf8', stdio: 'pipe' },
        );
        return null;
      } catch (err) {
        return err as { status: number; stderr: string };
      }
    })();
    expect(refused?.status).toBe(2);
    expect(refused?.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused?.stderr).toMatch(/loopback/);
  });
});
