/**
 * Certificates tracked after they expired (incident bugs are often filed
 * after the fact): polled until every source has answered since expiry, then
 * judged and retired from the polling index. In-process CA on 127.0.0.1, the
 * real DynamoDB adapter on dynalite, a fake clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { LocalCaServer } from '../../src/local-ca/server.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import { trackCertificates } from '../../src/track/track.js';
import { runCheck } from '../../src/check/run-check.js';
import { buildStatus } from '../../src/status/status.js';
import type { CertificateInfo } from '../../src/pki/certificate.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-06-01T12:00:00Z');
const REPORTED = T0 - 10 * DAY;
const DEADLINE = REPORTED + 5 * DAY; // misissuance: MUST within 5 days (BR 4.9.1.1 #12)

describe('expired certificates', () => {
  const clock = new FakeClock(T0);
  let ca: LocalCa;
  let server: LocalCaServer;
  let open: OpenStore;
  let fetcher: HttpFetcher;
  const certs: Record<string, CertificateInfo> = {};

  beforeAll(async () => {
    ca = await LocalCa.create({ name: 'Expired CA', notBefore: T0 - 400 * DAY, notAfter: T0 + 400 * DAY });
    server = await new LocalCaServer(ca, () => clock.now().getTime()).start();
    const issue = async (name: string, notAfter: number, sources: { ocsp?: boolean; crl?: boolean }) => {
      const c = await ca.issue({
        subject: `CN=${name}.example`,
        notBefore: notAfter - 90 * DAY,
        notAfter,
        ocspUrls: sources.ocsp ? [server.ocspUrl] : [],
        crlUrls: sources.crl ? [server.crlUrl] : [],
      });
      server.issued(c.info.serial);
      certs[name] = c.info;
    };
    await issue('before-deadline', DEADLINE - HOUR, { crl: true });
    await issue('ocsp-still-good', DEADLINE + 2 * DAY, { ocsp: true });
    await issue('crl-silent', DEADLINE + 2 * DAY, { crl: true });
    await issue('revoked-in-life', DEADLINE + 2 * DAY, { crl: true, ocsp: true });
    server.revoke(certs['revoked-in-life']!.serial, DEADLINE - DAY, 4);
    open = await openEmbeddedStore(mkdtempSync(join(tmpdir(), 'revwatch-expired-')));
    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const kase = {
      id: 'late-filed',
      title: 'filed after expiry',
      reportedAt: REPORTED,
      reason: 'misissuance' as const,
      kind: 'tls-subscriber' as const,
    };
    await trackCertificates(
      { store: open.store, clock },
      kase,
      Object.values(certs).map((c) => ({ certificate: c, bundle: [], source: 'test' })),
      [ca.info],
    );
  });

  afterAll(async () => {
    await fetcher.close();
    await open.close();
    await server.stop();
  });

  const verdicts = async () =>
    new Map((await buildStatus(open.store, clock.now().getTime(), 'late-filed')).cases[0]!.certificates.map((c) => [c.serial, c]));

  it('before any answer: expired before its deadline is decided from the dates alone; the rest is undetermined', async () => {
    const v = await verdicts();
    expect(v.get(certs['before-deadline']!.serial)).toMatchObject({ verdict: 'expired', lateBySeconds: null });
    expect(v.get(certs['ocsp-still-good']!.serial)!.verdict).toBe('undetermined');
    expect(v.get(certs['ocsp-still-good']!.serial)!.findings.map((f) => f.code)).toContain('evidence_insufficient');
  });

  it('polls every expired certificate until each source has answered, then judges it', async () => {
    const first = await runCheck({ store: open.store, fetcher, clock });
    expect(first).toMatchObject({ certificates: 4, crlsFetched: 1, ocspRequests: 2 });
    const v = await verdicts();
    expect(v.get(certs['before-deadline']!.serial)).toMatchObject({ verdict: 'expired', lateBySeconds: null });
    // OCSP still answers "good" after expiry: never revoked, so late until it expired.
    expect(v.get(certs['ocsp-still-good']!.serial)).toMatchObject({ verdict: 'expired_overdue', lateBySeconds: 2 * 86_400 });
    // A CRL read only after expiry may have dropped the entry (BR 4.10.1): its silence proves nothing.
    const silent = v.get(certs['crl-silent']!.serial)!;
    expect(silent.verdict).toBe('undetermined');
    expect(silent.findings.find((f) => f.code === 'evidence_insufficient')?.message).toMatch(/may drop the entry/);
    expect(v.get(certs['revoked-in-life']!.serial)).toMatchObject({ verdict: 'revoked_on_time' });
  });

  it('once judged, they leave the polling index: the next run asks nothing', async () => {
    clock.advance(HOUR);
    const next = await runCheck({ store: open.store, fetcher, clock });
    expect(next).toMatchObject({ certificates: 0, crlsFetched: 0, ocspRequests: 0, notDue: 4, observationsWritten: 0 });
    clock.advance(3 * DAY);
    expect(await runCheck({ store: open.store, fetcher, clock })).toMatchObject({ certificates: 0, ocspRequests: 0 });
  });
});
