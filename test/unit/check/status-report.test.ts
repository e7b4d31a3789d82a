/**
 * `status` and `report` judged from the evidence records on the in-memory
 * store: verdicts of an incident with an on-time, a late and a missing
 * revocation, read with one query per case (no per-certificate query).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStatus, verdictCounts } from '../../../src/status/status.js';
import { buildCaseReport } from '../../../src/report/case-report.js';
import { isoOrNull } from '../../../src/time.js';
import { DAY, HOUR, makeWorld, T0, type World } from './world.js';

describe('status and report from evidence records', () => {
  let w: World;
  let now: number;

  beforeAll(async () => {
    w = await makeWorld([{ name: 'on-time' }, { name: 'late' }, { name: 'never' }]);
    await w.check();
    // Revoked an hour after the report (deadline: 24 hours, key compromise, BR 4.9.1.1).
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs['on-time']!.serial, T0 + HOUR, 1);
    await w.check();
    // Revoked 30 hours after the report: 6 hours late.
    w.clock.set(T0 + 31 * HOUR);
    w.fetcher.revoke(w.certs.late!.serial, T0 + 30 * HOUR, 1);
    await w.check();
    now = w.clock.now().getTime();
  });

  const byName = <C extends { serial: string }>(certs: readonly C[], name: string): C =>
    certs.find((c) => c.serial === w.certs[name]!.serial)!;

  it('judges each certificate from its record: on time, late by the claimed time, overdue', async () => {
    const report = await buildStatus(w.store, now);
    expect(report.cases.map((c) => c.id)).toEqual(['c1']);
    const certs = report.cases[0]!.certificates;
    expect(byName(certs, 'on-time')).toMatchObject({
      verdict: 'revoked_on_time',
      effectiveRevocationTime: isoOrNull(T0 + HOUR),
      reasonCode: 'keyCompromise',
    });
    expect(byName(certs, 'late')).toMatchObject({
      verdict: 'revoked_late',
      effectiveRevocationTime: isoOrNull(T0 + 30 * HOUR),
      lateBySeconds: 6 * 3600,
    });
    expect(byName(certs, 'never')).toMatchObject({ verdict: 'overdue', deadline: isoOrNull(T0 + DAY) });
    expect(verdictCounts(report)).toMatchObject({ revoked_on_time: 1, revoked_late: 1, overdue: 1 });
  });

  it('reads the case with one query over its partition: no read per certificate', async () => {
    const snapshots = (await w.store.listCrlSnapshots(w.fetcher.crlUrl)).length;
    const before = w.store.itemsRead;
    await buildStatus(w.store, now, 'c1');
    // The case, the case's three certificate items and the CRL's snapshots. Each source shows the fields of its
    // latest recorded answer; the source states (two) are read once, for the settled certificates' heartbeat
    // (check/settled-round.ts), not per certificate.
    expect(w.store.itemsRead - before).toBe(1 + 3 + snapshots + 2);
  });

  it('builds the case report from the same statuses, citing the observations each record keeps', async () => {
    const report = await buildCaseReport(w.store, 'c1', now);
    expect(report.counts).toEqual({
      total: 3,
      revoked: 2,
      revokedOnTime: 1,
      revokedLate: 1,
      notYetRevoked: 1,
      overdue: 1,
      expired: 0,
      undetermined: 0,
    });
    expect(report.deadline).toBe(isoOrNull(T0 + DAY));
    expect(report.issuers.map((i) => i.sha256)).toEqual([(await w.store.loadCase('c1'))[0]!.cert.issuerSha256]);
    // Every CRL the checks saw is listed as evidence: the first, and one per revocation.
    expect(report.crls).toHaveLength(3);
    expect(report.crls.every((c) => c.localFile === null && c.url === w.fetcher.crlUrl)).toBe(true);
    const late = byName(report.certificates, 'late');
    expect(late.observations.some((o) => o.status === 'revoked' && o.source.kind === 'crl')).toBe(true);
    expect(late.observations.some((o) => o.status === 'revoked' && o.source.kind === 'ocsp')).toBe(true);
    expect(report.findings.filter((f) => f.finding.severity !== 'info')).toEqual([]);
    // The CA's claimed times are not publication times (revwatch cannot know those): the timeline says first seen.
    expect(report.timeline.map((t) => t.event)).toContain(
      `1 certificate(s) first seen revoked by revwatch; revocation time claimed by the CA ${isoOrNull(T0 + HOUR)}`,
    );
    expect(report.timeline.some((t) => /published/.test(t.event))).toBe(false);
  });

  it('lists every stored observation, raw OCSP responses included, when asked for all of them', async () => {
    const report = await buildCaseReport(w.store, 'c1', now, { allObservations: true, certificateBytes: true });
    for (const c of report.certificates) {
      const stored = await w.store.listObservations(c.sha256);
      expect(c.observations).toHaveLength(stored.length);
      expect(c.observations.filter((o) => o.source.kind === 'ocsp').every((o) => o.raw !== null)).toBe(true);
    }
  });
});
