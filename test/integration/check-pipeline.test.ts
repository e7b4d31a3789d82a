/**
 * The check pipeline against the in-process CA (OCSP + CRL on 127.0.0.1) and
 * the real DynamoDB adapter on an embedded dynalite, on a fake clock.
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
import { verifyEvidence } from '../../src/status/verify-evidence.js';
import type { CertificateInfo } from '../../src/pki/certificate.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-05-01T00:00:00Z');

describe('check pipeline', () => {
  const clock = new FakeClock(T0);
  let ca: LocalCa;
  let server: LocalCaServer;
  let open: OpenStore;
  let fetcher: HttpFetcher;
  const certs: Record<string, CertificateInfo> = {};
  let crlFetches = 0;

  beforeAll(async () => {
    ca = await LocalCa.create({ name: 'Pipeline CA', notBefore: T0 - 100 * DAY, notAfter: T0 + 400 * DAY });
    server = await new LocalCaServer(ca, () => clock.now().getTime()).start();
    for (const [name, notAfter] of [
      ['a', T0 + 90 * DAY],
      ['b', T0 + 90 * DAY],
      ['short', T0 + 2 * DAY],
    ] as const) {
      const c = await ca.issue({
        subject: `CN=${name}.example`,
        notBefore: T0 - DAY,
        notAfter,
        ocspUrls: [server.ocspUrl],
        crlUrls: [server.crlUrl],
      });
      server.issued(c.info.serial);
      certs[name] = c.info;
    }
    open = await openEmbeddedStore(mkdtempSync(join(tmpdir(), 'revwatch-pipeline-')));
    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const kase = { id: 'p', title: 'pipeline', reportedAt: T0, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const };
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

  const check = async () => {
    const before = server.requests;
    const summary = await runCheck({ store: open.store, fetcher, clock });
    crlFetches = server.requests - before - summary.ocspRequests;
    return summary;
  };

  it('records every first answer, then only source heartbeats while nothing changes', async () => {
    const first = await check();
    expect(first).toMatchObject({ certificates: 3, crlsFetched: 1, ocspRequests: 3, observationsWritten: 6 });
    expect(crlFetches).toBe(1);
    expect(first.changes).toHaveLength(6);
    // "short" is valid for three days: a short-lived certificate, exempt from the deadline (BR 2.0.1).
    expect(first.verdicts).toMatchObject({ pending: 2, no_deadline: 1, overdue: 0, revoked_on_time: 0 });
    clock.advance(HOUR);
    const second = await check();
    expect(second.observationsWritten).toBe(0);
    expect(second.changes).toEqual([]);
    // Two source states (the CRL and the responder) and the run record.
    expect(second.itemsWritten).toBe(3);
  });

  it('records a revocation when it appears, and the status follows', async () => {
    clock.advance(HOUR);
    server.revoke(certs.a!.serial, clock.now().getTime() - 10 * 60_000, 1);
    const s = await check();
    expect(s.verdicts).toMatchObject({ revoked_on_time: 1, pending: 1, no_deadline: 1 });
    expect(s.changes.map((c) => [c.serial, c.to.split('@')[0]])).toEqual([
      [certs.a!.serial, 'revoked'],
      [certs.a!.serial, 'revoked'],
    ]);
    const report = await buildStatus(open.store, clock.now().getTime());
    const a = report.cases[0]!.certificates.find((c) => c.serial === certs.a!.serial)!;
    expect(a).toMatchObject({ verdict: 'revoked_on_time', reasonCode: 'keyCompromise' });
    expect(a.sources.every((x) => x.status === 'revoked')).toBe(true);
  });

  it('asks about a settled certificate once a day only, and stops polling an expired one once it has answered since expiry', async () => {
    clock.advance(HOUR);
    const soon = await check();
    // a is settled (revoked): not due until a day has passed, so the planner does not even read it.
    expect(soon).toMatchObject({ notDue: 1, ocspRequests: 2 });
    clock.advance(2 * DAY);
    const later = await check();
    // a is due again; short expired since its last answer: asked once more, so what its sources say after
    // expiry is on record (the first answer since expiry is written even though it did not change).
    expect(later).toMatchObject({ ocspRequests: 3, retiredExpired: 0 });
    // Unchanged, but a day has passed: heartbeats for b on both sources, and short's two answers. Settled a's
    // unchanged answers are not written: its sources' state is its heartbeat (check/settled-round.ts).
    expect(later.observationsWritten).toBe(4);
    expect(later.changes).toEqual([]);
    clock.advance(HOUR);
    const after = await check();
    // short is judged: recording its answers since expiry took it out of the polling index; a is settled
    // for another day; only b is asked.
    expect(after).toMatchObject({ ocspRequests: 1, notDue: 2, observationsWritten: 0 });
  });

  it('bounds a backdated revocation by the last CRL that still omitted it, though unchanged answers were not rewritten', async () => {
    const c = (
      await ca.issue({
        subject: 'CN=bounded.example',
        notBefore: clock.now().getTime() - DAY,
        notAfter: clock.now().getTime() + 90 * DAY,
        crlUrls: [server.crlUrl],
      })
    ).info;
    server.issued(c.serial);
    const kase = {
      id: 'bounded',
      title: 'bounded',
      reportedAt: clock.now().getTime(),
      reason: 'misissuance' as const,
      kind: 'tls-subscriber' as const,
    };
    await trackCertificates({ store: open.store, clock }, kase, [{ certificate: c, bundle: [], source: 'test' }], [ca.info]);
    const claimed = Math.floor((clock.now().getTime() + 30 * 60_000) / 1000) * 1000; // revocation times are whole seconds
    let lastGoodCrl = 0;
    for (let i = 0; i < 6; i++) {
      clock.advance(HOUR);
      server.refreshCrl();
      lastGoodCrl = Math.floor(clock.now().getTime() / 1000) * 1000;
      const s = await check();
      // After the first answer, nothing changes for this certificate: nothing is written for it.
      if (i > 0) expect(s.changes.filter((x) => x.sha256 === c.sha256)).toEqual([]);
    }
    clock.advance(HOUR);
    server.revoke(c.serial, claimed, 4); // dated half an hour after the report, published 7 hours after it
    await check();
    const status = (await buildStatus(open.store, clock.now().getTime(), 'bounded')).cases[0]!.certificates[0]!;
    expect(status.revocationTime).toBe(new Date(claimed).toISOString().replace('.000', ''));
    expect(status.effectiveRevocationTime).toBe(new Date(lastGoodCrl).toISOString().replace('.000', ''));
    expect(status.findings.map((f) => f.code)).toContain('revocation_backdated');
  });

  it('records a revocation that is reversed, and keeps the evidence of both', async () => {
    clock.advance(DAY + HOUR);
    server.issued(certs.b!.serial);
    server.revoke(certs.b!.serial, clock.now().getTime() - HOUR, 4);
    await check();
    // b is now settled, so it is asked again a day later: that is when a reversal shows.
    clock.advance(DAY + HOUR);
    // The CA "un-revokes" b: a violation of BR 4.10.1.
    server.unrevoke(certs.b!.serial);
    await check();
    const report = await buildStatus(open.store, clock.now().getTime());
    const b = report.cases[0]!.certificates.find((c) => c.serial === certs.b!.serial)!;
    expect(b.findings.map((f) => f.code)).toContain('revocation_reversed');
    const observations = await open.store.listObservations(certs.b!.sha256);
    expect(observations.filter((o) => o.status === 'revoked')).toHaveLength(2);
    expect(observations.filter((o) => o.source.kind === 'ocsp' && o.raw && o.raw.length > 100).length).toBeGreaterThan(0);
  });

  it('after every run above (CRL and OCSP jobs side by side), each evidence record equals its rebuild', async () => {
    const result = await verifyEvidence(open.store);
    expect(result.certificates).toBeGreaterThanOrEqual(4);
    expect(result.differences).toEqual([]);
  });
});
