/**
 * OCSP jobs are asked while planning goes on: the planner hands the jobs over
 * a slice at a time as it plans, letting the thread go in between, and the
 * asker keeps one set of per-host limits however the jobs arrive.
 */
import { describe, expect, it } from 'vitest';
import { planCheck } from '../../../src/check/plan.js';
import { IssuerCache, ObservationRecorder, OcspAsker } from '../../../src/check/execute.js';
import type { FetchRequest, FetchResult, OcspJob } from '../../../src/ports/index.js';
import { SystemClock } from '../../../src/adapters/system-clock.js';
import { makeWorld, T0 } from './world.js';

const names = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `c${i}`, crl: false }));

describe('planCheck hands OCSP jobs over as it plans', () => {
  it('hands every job of the plan once, before planning ends, with every case of its certificate', async () => {
    const w = await makeWorld(names(24));
    // One certificate tracked by a second case: both cases must be on its one job. Not one of the first shard
    // planned (shards go in order of the sha256's first digit): before any check no source has a state, so the
    // planner learns the sources' names from that shard's items, read whole, and plans later shards from summaries.
    const firstShard = Object.values(w.certs)
      .map((c) => c.sha256.charAt(0))
      .sort()[0]!;
    const shared = Object.values(w.certs).find((c) => c.sha256.charAt(0) > firstShard)!;
    const [stored] = (await w.store.loadCase('c1')).filter((cc) => cc.cert.sha256 === shared.sha256);
    await w.store.createCase({ ...w.kase, id: 'c2' }, T0);
    await w.store.addCertificates([{ ...stored!.cert, caseId: 'c2' }]);

    const handed: OcspJob[][] = [];
    let planning = true;
    const plan = await planCheck(w.store, T0, {
      onOcspJobs: (jobs) => {
        expect(planning).toBe(true);
        handed.push([...jobs]);
      },
    });
    planning = false;
    expect(handed.length).toBeGreaterThan(1); // 24 certificates fall in several shards
    const key = (j: OcspJob) => `${j.url} ${j.certificate.sha256}`;
    expect(handed.flat().map(key).sort()).toEqual(plan.ocspJobs.map(key).sort());
    expect(new Set(handed.flat().map(key)).size).toBe(24);
    const sharedJob = handed.flat().find((j) => j.certificate.sha256 === shared.sha256)!;
    expect([...sharedJob.certificate.caseIds].sort()).toEqual(['c1', 'c2']);
    // Planned from the polling summaries: the job names both cases, and the executor reads their items only
    // when the answer changes (execute.ts writeDirtyRecords).
    expect(sharedJob.certificate.cases).toBeUndefined();
  });

  it('lets the thread go between slices of a shard, handing each slice over as it is planned', async () => {
    // One case planned at once (`--case`) is one shard of 300: without slices it would hold the thread throughout,
    // and the asker's spacing timers with it.
    const w = await makeWorld(names(300));
    const sizes: number[] = [];
    let timerRanAt: number | null = null;
    setImmediate(() => {
      timerRanAt = sizes.length;
    });
    const plan = await planCheck(w.store, T0, { caseId: 'c1', onOcspJobs: (jobs) => sizes.push(jobs.length) });
    expect(plan.ocspJobs).toHaveLength(300);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256);
    // The timer ran after the first slice was handed over, while the rest was still to plan.
    expect(timerRanAt).not.toBeNull();
    expect(timerRanAt!).toBeGreaterThanOrEqual(1);
    expect(timerRanAt!).toBeLessThan(sizes.length);
  });
});

/**
 * `n` OCSP-only certificates, planned, and an asker with these limits on the real clock (the spacing is real
 * time here: a fake clock's sleeps would all move one shared instant); each request's start is noted, and
 * `around` may wrap it.
 */
async function askerFor(
  n: number,
  limits: { ocspPerHost: number; ocspMinIntervalMs: number },
  around: (fetch: () => Promise<FetchResult>) => Promise<FetchResult> = (fetch) => fetch(),
) {
  const w = await makeWorld(names(n));
  const plan = await planCheck(w.store, T0);
  const starts: number[] = [];
  const fetcher = {
    fetch: (request: FetchRequest): Promise<FetchResult> => {
      starts.push(Date.now());
      return around(() => w.fetcher.fetch(request));
    },
  };
  const recorder = new ObservationRecorder(w.store, w.clock, { soleWriter: true });
  const asker = new OcspAsker({ store: w.store, fetcher, clock: new SystemClock() }, new IssuerCache(w.store), recorder, limits);
  return { w, plan, starts, recorder, asker };
}

describe('OcspAsker', () => {
  it('keeps the per-host limits across jobs added in several batches, and records every answer', async () => {
    let inFlight = 0;
    let most = 0;
    const { plan, starts, recorder, asker } = await askerFor(12, { ocspPerHost: 2, ocspMinIntervalMs: 1 }, async (fetch) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30)); // far longer than the spacing: only the limit keeps it at 2
      inFlight--;
      return fetch();
    });
    const begun = Date.now();
    asker.add(plan.ocspJobs.slice(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 5));
    asker.add(plan.ocspJobs.slice(5, 6));
    asker.add(plan.ocspJobs.slice(6));
    const result = await asker.finish();
    await recorder.flush();
    expect(most).toBe(2);
    expect(starts).toHaveLength(12);
    // Two at a time, 30 ms each: the 12 requests take at least six rounds, however they were added.
    expect(Date.now() - begun).toBeGreaterThanOrEqual(6 * 30 - 5);
    expect(result.failedSources).toEqual([]);
    expect(recorder.observationsWritten).toBe(12);
  });

  it('spaces the starts to one host across batches', async () => {
    const { plan, starts, asker } = await askerFor(8, { ocspPerHost: 8, ocspMinIntervalMs: 10 });
    const begun = Date.now();
    asker.add(plan.ocspJobs.slice(0, 3));
    await new Promise((resolve) => setTimeout(resolve, 5));
    asker.add(plan.ocspJobs.slice(3));
    await asker.finish();
    // The i-th request goes out at least 10·i ms after asking began (less 1 ms for a clock in whole milliseconds).
    expect(starts).toHaveLength(8);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - begun).toBeGreaterThanOrEqual(10 * i - 1);
  });

  it('rejects with the first failure to record an answer, and starts nothing after it', async () => {
    const { w, plan, recorder, asker } = await askerFor(8, { ocspPerHost: 1, ocspMinIntervalMs: 0 });
    let considered = 0;
    recorder.consider = async () => {
      considered++;
      throw new Error('the store refused the answer');
    };
    asker.add(plan.ocspJobs);
    await expect(asker.finish()).rejects.toThrow('the store refused the answer');
    expect(considered).toBe(1);
    expect(w.fetcher.ocspRequests).toBe(1);
  });
});
