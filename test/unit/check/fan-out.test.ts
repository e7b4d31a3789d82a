/**
 * A fanned-out run on the in-memory store: the CRL job and the OCSP job of
 * the same certificates are separate writers of their evidence records, so
 * the second loses its conditional write and merges; the run is counted and
 * finished once however often the queue delivers a job.
 */
import { describe, expect, it } from 'vitest';
import { planRun, runQueuedJob } from '../../../src/check/fan-out.js';
import { planCheck } from '../../../src/check/plan.js';
import type { JobCertificate, JobMessage, RunEvents } from '../../../src/ports/index.js';
import type { RunRecord } from '../../../src/ports/store.js';
import { EMPTY_RECORD, mergeEvidence, recordObservations, sameRecord } from '../../../src/rules/evidence.js';
import type { PollRead } from '../../../src/ports/store.js';
import type { Table } from '../../../src/ports/table.js';
import { TableStore } from '../../../src/store/table-store.js';
import { JobsDigest, messageJob, referenceJobs } from '../../helpers/planner-reference.js';
import { makeWorld } from './world.js';

describe('fan-out on the in-memory store', () => {
  it('merges the records two jobs wrote for the same certificates, and finishes the run once', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    const queued: JobMessage[] = [];
    const announced: RunRecord[] = [];
    const events: RunEvents = { checkCompleted: async (r) => void announced.push(r) };
    const planned = await planRun({ store: w.store, queue: { enqueue: async (m) => void queued.push(...m) }, events, clock: w.clock });
    expect(planned).toMatchObject({ certificates: 2, crlJobs: 1, ocspBatches: 1, ocspRequests: 2 });
    // OCSP batches are queued as their shards are planned, CRL jobs once every shard is (fan-out.ts StreamedJobs).
    expect(queued.map((m) => m.job?.kind)).toEqual(['ocsp', 'crl']);

    const jobDeps = { store: w.store, fetcher: w.fetcher, clock: w.clock, events };
    // Both workers at once: each certificate has two writers of its record.
    const results = await Promise.all(queued.map((m) => runQueuedJob(jobDeps, m)));
    expect(results.map((r) => r.observationsWritten)).toEqual([2, 2]);
    expect(results.filter((r) => r.finished !== null)).toHaveLength(1);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ runId: planned.runId, certificates: 2, observationsWritten: 4 });

    for (const cc of await w.store.loadCase('c1')) {
      // Neither writer's answer was lost, and the record equals the one rebuilt from every observation.
      expect(
        recordObservations(cc.record)
          .map((o) => o.source.kind)
          .sort(),
      ).toEqual(['crl', 'ocsp']);
      expect(cc.rev).toBe(2);
      const rebuilt = mergeEvidence(EMPTY_RECORD, await w.store.listObservations(cc.cert.sha256), cc.cert.notAfter);
      expect(sameRecord(cc.record, rebuilt)).toBe(true);
    }

    // The queue delivers the OCSP job again: counted once, not asked again, nothing finished twice.
    const again = await runQueuedJob(jobDeps, queued[1]!);
    expect(again).toMatchObject({ duplicate: true, observationsWritten: 0, finished: null });
    expect(w.fetcher.ocspRequests).toBe(2);
    expect(announced).toHaveLength(1);
    expect((await w.store.listOpenRuns()).map((r) => [r.remaining, r.finishedAt !== null])).toEqual([[0, true]]);
  });

  it('plans lean for the queue: the same jobs without records, and no certificate kept past its shard', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    const now = w.clock.now().getTime();
    const full = await planCheck(w.store, now);
    const lean = await planCheck(w.store, now, { lean: true });
    const strip = ({ record: _record, cases: _cases, ...rest }: JobCertificate): JobCertificate => rest;
    expect(lean.crlJobs).toEqual(full.crlJobs.map((j) => ({ ...j, certificates: j.certificates.map(strip) })));
    expect(lean.ocspJobs).toEqual(full.ocspJobs.map((j) => ({ ...j, certificate: strip(j.certificate) })));
    expect(lean.crlJobs[0]!.certificates[0]).not.toHaveProperty('record');
    expect(full.refs.size).toBe(2);
    expect(lean.refs.size).toBe(0);
    expect(lean.certificates).toBe(full.certificates);
  });

  it('plans one case a page at a time (a shard split into pages of one entry) and queues the jobs of whole shards', async () => {
    const w = await makeWorld(Array.from({ length: 40 }, (_, i) => ({ name: `p${i}` })));
    const now = w.clock.now().getTime();
    // Due in reverse SHA-256 order: a shard's pages come by due time, so its OCSP jobs come out of certificate order.
    const tracked = (await w.store.loadCase('c1')).sort((a, b) => (a.cert.sha256 < b.cert.sha256 ? -1 : 1));
    for (const [i, cc] of tracked.entries()) await w.store.setPollDue('c1', cc.cert.sha256, cc.rev, now - 1000 * (i + 1));
    const reference = new JobsDigest();
    for (const job of await referenceJobs(w.store, now, { ocspBatchSize: 7 })) reference.add(job);

    // The same table, each query page handed over one item at a time (a DynamoDB page is ~1 MB).
    const table = (w.store as unknown as { table: Table }).table;
    const onePerPage: Table = new Proxy(table, {
      get(target, name) {
        if (name === 'queryPages')
          return (
            q: Parameters<Table['queryPages']>[0],
            what: string,
            onPage: (items: Record<string, unknown>[]) => void | Promise<void>,
          ) =>
            target.queryPages(q, what, async (items) => {
              for (const item of items) await onPage([item]);
            });
        const value = Reflect.get(target, name, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new TableStore(onePerPage);
    const visits: { reads: number; shardEnd: boolean }[] = [];
    const visit = store.visitPollSummaries.bind(store);
    store.visitPollSummaries = (at, onVisit, options) =>
      visit(
        at,
        (reads: PollRead[], shardEnd: boolean) => {
          visits.push({ reads: reads.length, shardEnd });
          return onVisit(reads, shardEnd);
        },
        options,
      );
    const queued: JobMessage[] = [];
    const planned = await planRun(
      { store, queue: { enqueue: async (m) => void queued.push(...m) }, events: { checkCompleted: async () => undefined }, clock: w.clock },
      { ocspBatchSize: 7 },
    );
    expect(planned).toMatchObject({ skipped: null, certificates: 40, crlJobs: 1, ocspRequests: 40 });
    // Every entry in a page of its own, and each of the 16 shards closed once.
    expect(Math.max(...visits.map((v) => v.reads))).toBe(1);
    expect(visits.filter((v) => v.reads === 1)).toHaveLength(40);
    expect(visits.filter((v) => v.shardEnd)).toHaveLength(16);

    const streamed = new JobsDigest();
    for (const m of queued) streamed.add(await messageJob(store, m));
    expect(streamed.summary()).toEqual(reference.summary());
    expect(streamed.summary()).toMatchObject({ crlJobs: 1, ocspBatches: Math.ceil(40 / 7), certificates: 80 });
  });
});
