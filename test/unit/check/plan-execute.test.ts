/**
 * Planning and running checks on the in-memory store: what is due, what is
 * written, and what an unchanged run costs. Real signed CRLs and OCSP
 * responses from an in-process CA; no network, no dynalite.
 */
import { describe, expect, it } from 'vitest';
import { planCheck } from '../../../src/check/plan.js';
import { recordObservations } from '../../../src/rules/evidence.js';
import { DAY, HOUR, makeWorld, T0, testCa } from './world.js';
import { DisclosureStore } from '../../../src/ccadb/store.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { disclosedCrlsForTrack } from '../../../src/ccadb/import.js';
import { trackCertificates } from '../../../src/track/track.js';

describe('planCheck', () => {
  it('plans every certificate of a new case: one CRL job for all of them, one OCSP request each', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }, { name: 'crl-only', ocsp: false }]);
    const plan = await planCheck(w.store, T0);
    expect(plan).toMatchObject({ certificates: 3, notDue: 0, retiredExpired: 0 });
    expect(plan.crlJobs).toHaveLength(1);
    expect(plan.crlJobs[0]!.certificates.map((c) => c.serial).sort()).toEqual(
      [w.certs.a!.serial, w.certs.b!.serial, w.certs['crl-only']!.serial].sort(),
    );
    // No answer yet: a conditional GET could not answer for them.
    expect(plan.crlJobs[0]!.conditional).toBeNull();
    expect(plan.ocspJobs.map((j) => j.certificate.serial).sort()).toEqual([w.certs.a!.serial, w.certs.b!.serial].sort());
  });

  it('asks a certificate settled as revoked once a day only, and every run otherwise', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    await w.check();
    w.clock.advance(2 * HOUR);
    w.fetcher.revoke(w.certs.a!.serial, T0 + HOUR, 1);
    await w.check();
    const soon = await planCheck(w.store, T0 + 3 * HOUR);
    expect(soon).toMatchObject({ certificates: 1, notDue: 1 });
    expect([...soon.refs.values()].map((r) => r.cert.serial)).toEqual([w.certs.b!.serial]);
    // A day after its last answers (at T0 + 2 h and a few ms of OCSP pacing), the revoked one is due again:
    // a reversed revocation must be caught (BR 4.10.1).
    expect(await planCheck(w.store, T0 + 2 * HOUR + DAY - 1)).toMatchObject({ certificates: 1, notDue: 1 });
    const nextDay = await planCheck(w.store, T0 + 3 * HOUR + DAY);
    expect(nextDay).toMatchObject({ certificates: 2, notDue: 0 });
  });

  it('polls an expired certificate until every source has answered since expiry, then leaves it out', async () => {
    const w = await makeWorld([{ name: 'short', notBefore: T0 - 10 * DAY, notAfter: T0 + DAY }, { name: 'long' }]);
    await w.check(); // answers from before expiry
    w.clock.set(T0 + 2 * DAY);
    const afterExpiry = await planCheck(w.store, w.clock.now().getTime());
    expect(afterExpiry).toMatchObject({ certificates: 2, retiredExpired: 0 });
    const run = await w.check();
    // Unchanged answers, but short's are the first since its expiry: written, so what its sources say now
    // is on record (long's two are its daily heartbeat).
    expect(run.changes).toEqual([]);
    expect(run.observationsWritten).toBe(4);
    const shortSinceExpiry = (await w.store.listObservations(w.certs.short!.sha256)).filter((o) => o.observedAt >= T0 + DAY);
    expect(shortSinceExpiry.map((o) => `${o.source.kind}:${o.status}`).sort()).toEqual(['crl:good', 'ocsp:good']);
    // Every source has answered since expiry: the record written with those answers left the polling index.
    const short = (await w.store.loadCase('c1')).find((cc) => cc.cert.serial === w.certs.short!.serial)!;
    expect(short.pollDue).toBeNull();
    const later = await planCheck(w.store, w.clock.now().getTime() + 30 * DAY);
    expect(later).toMatchObject({ certificates: 1, retiredExpired: 0, notDue: 1 });
    expect([...later.refs.values()].map((r) => r.cert.serial)).toEqual([w.certs.long!.serial]);
  });

  it('retires a certificate revoked in its life once it has expired: the planner takes it out of the index', async () => {
    const w = await makeWorld([{ name: 'brief', notBefore: T0 - 10 * DAY, notAfter: T0 + DAY }, { name: 'long' }]);
    await w.check();
    w.clock.advance(2 * HOUR);
    w.fetcher.revoke(w.certs.brief!.serial, T0 + HOUR, 1);
    await w.check();
    // Settled: in the index until its daily re-ask. By then it has expired, revoked in its life: judged.
    const plan = await planCheck(w.store, T0 + 3 * DAY);
    expect(plan).toMatchObject({ certificates: 1, retiredExpired: 1 });
    expect([...plan.refs.values()].map((r) => r.cert.serial)).toEqual([w.certs.long!.serial]);
    expect((await w.store.loadCase('c1')).find((cc) => cc.cert.serial === w.certs.brief!.serial)!.pollDue).toBeNull();
    expect(await planCheck(w.store, T0 + 4 * DAY)).toMatchObject({ certificates: 1, retiredExpired: 0, notDue: 1 });
  });
});

describe('runCheck', () => {
  it('records every first answer in the observations and the evidence records, then nothing while nothing changes', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    const first = await w.check();
    expect(first).toMatchObject({ certificates: 2, crlsFetched: 1, ocspRequests: 2, observationsWritten: 4, failedSources: [] });
    expect(first.changes).toHaveLength(4);
    expect(first.verdicts).toMatchObject({ pending: 2 });
    expect(w.fetcher.crlRequests).toBe(1);
    for (const cc of await w.store.loadCase('c1')) {
      expect(cc.rev).toBe(1);
      expect(
        recordObservations(cc.record)
          .map((o) => `${o.source.kind}:${o.status}`)
          .sort(),
      ).toEqual(['crl:good', 'ocsp:good']);
      expect(await w.store.listObservations(cc.cert.sha256)).toHaveLength(2);
    }
    expect([...(await w.store.listChangedCases()).keys()]).toEqual(['c1']);

    w.clock.advance(HOUR);
    const second = await w.check();
    expect(second).toMatchObject({ observationsWritten: 0, changes: [] });
    // Two source heartbeats and the run record, nothing per certificate.
    expect(second.itemsWritten).toBe(3);
    expect((await w.store.loadCase('c1')).map((cc) => cc.rev)).toEqual([1, 1]);
    expect((await w.store.listRuns(5)).map((r) => r.observationsWritten)).toEqual([0, 4]);
  });

  it('records a revocation when it appears and judges it from the record', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    await w.check();
    w.clock.advance(2 * HOUR);
    w.fetcher.revoke(w.certs.a!.serial, T0 + HOUR, 1);
    const s = await w.check();
    expect(s.changes.map((c) => [c.serial, c.source.split(' ')[0], c.to.split('@')[0]]).sort()).toEqual([
      [w.certs.a!.serial, 'crl', 'revoked'],
      [w.certs.a!.serial, 'ocsp', 'revoked'],
    ]);
    expect(s.verdicts).toMatchObject({ revoked_on_time: 1, pending: 1 });
    // The new CRL is kept as a snapshot; the unchanged first one was kept at the first run.
    expect(await w.store.listCrlSnapshots(w.fetcher.crlUrl)).toHaveLength(2);
  });

  it("counts each certificate's verdict on this run's answers, those judged before the OCSP answers are in as well", async () => {
    // A certificate no OCSP job asks is judged once the CRLs are done, before its answers are written.
    const w = await makeWorld([{ name: 'crlOnly', ocsp: false }, { name: 'ocspOnly', crl: false }, { name: 'both' }]);
    expect((await w.check()).verdicts).toMatchObject({ pending: 3 });
    w.clock.advance(2 * HOUR);
    for (const name of ['crlOnly', 'ocspOnly']) w.fetcher.revoke(w.certs[name]!.serial, T0 + HOUR, 1);
    const s = await w.check();
    expect(s.verdicts).toMatchObject({ revoked_on_time: 2, pending: 1 });
    expect(Object.values(s.verdicts).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('records a source that cannot be read as an error observation, and the run goes on', async () => {
    const w = await makeWorld([{ name: 'a' }]);
    w.fetcher.down.add(w.fetcher.ocspUrl);
    const s = await w.check();
    expect(s.failedSources.map((f) => f.kind)).toEqual(['ocsp']);
    expect(s.observationsWritten).toBe(2);
    const statuses = (await w.store.listObservations(w.certs.a!.sha256))
      .map((o) => `${o.source.kind}:${o.status}:${o.error?.kind ?? ''}`)
      .sort();
    expect(statuses).toEqual(['crl:good:', 'ocsp:error:timeout']);
  });

  it("asks a certificate settled by its issuer's CCADB-disclosed CRL alone once a day, like any settled one", async () => {
    const w = await makeWorld([{ name: 'a', ocsp: false }]);
    const ca = await testCa();
    const disclosures = new DisclosureStore(new MemoryTable());
    await disclosures.replace(
      [
        {
          sha256: ca.info.sha256,
          name: 'Unit CA',
          owner: 'Unit Owner',
          subjectKeyId: ca.info.subjectKeyId,
          fullCrl: w.fetcher.crlUrl,
          fullCrls: [w.fetcher.crlUrl],
          partitionedCrls: [],
          pem: null,
          subjectNameHash: null,
        },
      ],
      T0 - DAY,
    );
    // No CDP, no AIA: its issuer's disclosed CRL is its one source.
    const bare = (await ca.issue({ subject: 'CN=bare.example', notBefore: T0 - DAY, notAfter: T0 + 90 * DAY })).info;
    w.fetcher.issued(bare.serial);
    await trackCertificates(
      { store: w.store, clock: w.clock, disclosedCrlsOf: disclosedCrlsForTrack(disclosures) },
      w.kase,
      [{ certificate: bare, bundle: [], source: 'test' }],
      [ca.info],
    );
    w.fetcher.revoke(bare.serial, T0 - HOUR, 1);
    const first = await w.check({ disclosures });
    expect(first.certificates).toBe(2);
    const tracked = (await w.store.loadCase('c1')).find((cc) => cc.cert.serial === bare.serial);
    // Settled on the disclosed CRL: due a day after that answer, not at once (0).
    expect(tracked!.pollDue).toBeGreaterThan(T0 + DAY - HOUR);
    w.clock.advance(HOUR);
    const next = await planCheck(w.store, w.clock.now().getTime(), { disclosures });
    expect(next).toMatchObject({ certificates: 1, notDue: 1 });
    expect([...next.refs.values()].map((r) => r.cert.serial)).toEqual([w.certs.a!.serial]);
  });
});
