/**
 * The good-answer log in the check pipeline: unchanged good answers cost no
 * write per certificate, and when an answer changes the last good answer of
 * each source joins the record, so the bound on a backdated revocation is the
 * run before the change.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../../src/check/run-check.js';
import { buildStatus } from '../../../src/status/status.js';
import { MemoryGoodAnswerLog } from '../../../src/adapters/memory/memory-good-answers.js';
import { EMPTY_RECORD, mergeEvidence, sameRecord } from '../../../src/rules/evidence.js';
import { isoOrNull } from '../../../src/time.js';
import { DAY, HOUR, T0, makeWorld } from './world.js';

const RUN = 15 * 60_000;

describe('the good-answer log', () => {
  it('writes nothing per unchanged certificate, and takes the last good answers into the record at the change', async () => {
    const w = await makeWorld([{ name: 'backdated' }, { name: 'steady' }], { reason: 'misissuance' }); // 5 days
    const log = new MemoryGoodAnswerLog();
    const check = () => runCheck({ store: w.store, fetcher: w.fetcher, clock: w.clock, goodAnswers: log });
    w.clock.set(T0 + HOUR);
    const first = await check();
    expect(first.observationsWritten).toBe(4); // two certificates, OCSP and CRL each
    const written: number[] = [];
    let lastGoodRun = 0;
    // Five days and a bit of unchanged answers every 15 minutes, past the deadline (reported T0 + 5 days).
    while (w.clock.now().getTime() < T0 + 5 * DAY + 2 * HOUR) {
      w.clock.advance(RUN);
      lastGoodRun = w.clock.now().getTime();
      const r = await check();
      expect(r.changes).toEqual([]);
      written.push(r.observationsWritten);
    }
    // Only the daily heartbeats were written, never a run's unchanged answers.
    expect(written.filter((n) => n > 0)).toHaveLength(5);
    expect(written.every((n) => n === 0 || n === 4)).toBe(true);

    // Revoked, with a claimed time a day before the deadline.
    w.clock.advance(RUN);
    w.fetcher.revoke(w.certs.backdated!.serial, T0 + 4 * DAY, 4);
    const revoked = await check();
    expect(revoked.changes.map((c) => c.to.split('@')[0])).toEqual(['revoked', 'revoked']);
    expect(revoked.goodAnswersCarried).toBe(2); // the OCSP and the CRL good of the run before
    expect(revoked.verdicts.revoked_late).toBe(1);

    const cert = (await buildStatus(w.store, w.clock.now().getTime())).cases[0]!.certificates.find(
      (c) => c.serial === w.certs.backdated!.serial,
    )!;
    expect(cert.lastSeenGoodAt).toBe(isoOrNull(lastGoodRun));
    expect(cert.verdict).toBe('revoked_late');
    expect(cert.findings.map((f) => f.code)).toContain('revocation_backdated');
    expect(Date.parse(cert.effectiveRevocationTime!)).toBeGreaterThan(T0 + 5 * DAY);

    // The record is what the observations rebuild.
    const cc = (await w.store.loadCase('c1')).find((c) => c.cert.serial === w.certs.backdated!.serial)!;
    const rebuilt = mergeEvidence(EMPTY_RECORD, await w.store.listObservations(cc.cert.sha256), cc.cert.notAfter);
    expect(sameRecord(cc.record, rebuilt)).toBe(true);
  });

  it('without the log, the bound stays at the last recorded good answer (what the log fixes)', async () => {
    const w = await makeWorld([{ name: 'backdated' }], { reason: 'misissuance' });
    const check = () => runCheck({ store: w.store, fetcher: w.fetcher, clock: w.clock });
    w.clock.set(T0 + 5 * DAY - HOUR);
    await check();
    for (let i = 0; i < 8; i++) {
      w.clock.advance(RUN);
      await check();
    }
    w.clock.advance(RUN);
    w.fetcher.revoke(w.certs.backdated!.serial, T0 + 4 * DAY, 4);
    const revoked = await check();
    expect(revoked.goodAnswersCarried).toBe(0);
    const cert = (await buildStatus(w.store, w.clock.now().getTime())).cases[0]!.certificates[0]!;
    expect(cert.lastSeenGoodAt).toBe(isoOrNull(T0 + 5 * DAY - HOUR));
  });
});
