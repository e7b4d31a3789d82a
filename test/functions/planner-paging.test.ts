/**
 * The AWS planner in bounded memory (issue 29): planRun streams the plan, writing a big CRL job's certificates
 * to the table in parts as they are planned and queueing OCSP batches shard by shard. Against the real DynamoDB
 * adapter on embedded dynalite, with bounds small enough that a few hundred certificates make multi-part jobs:
 * the jobs equal the whole-run planner's (test/helpers/planner-reference.ts), each CRL URL is one job fetched
 * once, the run finishes exactly once, and what the planner holds stays within its bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import { planRun, runQueuedJob } from '../../src/check/fan-out.js';
import type { Fetcher, JobMessage, RunEvents } from '../../src/ports/index.js';
import type { RunRecord } from '../../src/ports/store.js';
import { trackCertificates, type TrackEntry } from '../../src/track/track.js';
import { DAY, makeHierarchy, T0 } from '../helpers/pki-fixtures.js';
import { JobsDigest, messageJob, referenceJobs } from '../helpers/planner-reference.js';

const CRL_A = 'http://127.0.0.1:1/a.crl';
const CRL_B = 'http://127.0.0.1:1/b.crl';
const OCSP_1 = 'http://127.0.0.2:1/ocsp';
const OCSP_2 = 'http://127.0.0.3:1/ocsp';
/** Small bounds: a part holds a dozen or so certificates, and at most about 30 wait for their parts. */
const BOUNDS = { jobPartJsonBytes: 3 * 1024, waitingJsonBytes: 6 * 1024, ocspBatchSize: 7, maxInlineBytes: 4 * 1024 };

describe('the streamed AWS planner', () => {
  const clock = new FakeClock(T0);
  let open: OpenStore;
  let certificates = 0;

  beforeAll(async () => {
    open = await openEmbeddedStore(mkdtempSync(join(tmpdir(), 'revwatch-planner-paging-')));
    const h = await makeHierarchy();
    const kase = (id: string) => ({ id, title: id, reportedAt: T0, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const });
    const leaves: TrackEntry[] = [];
    // 160 on CRL A alone, 40 on CRL B and responder 1, 30 on responder 2 alone.
    const shapes: { n: number; crlUrls: string[]; ocspUrls: string[] }[] = [
      { n: 160, crlUrls: [CRL_A], ocspUrls: [] },
      { n: 40, crlUrls: [CRL_B], ocspUrls: [OCSP_1] },
      { n: 30, crlUrls: [], ocspUrls: [OCSP_2] },
    ];
    for (const shape of shapes)
      for (let i = 0; i < shape.n; i++) {
        const leaf = await h.ca.issue({
          subject: `CN=leaf-${leaves.length}.example`,
          notBefore: T0 - 10 * DAY,
          notAfter: T0 + 80 * DAY,
          crlUrls: shape.crlUrls,
          ocspUrls: shape.ocspUrls,
        });
        leaves.push({ certificate: leaf.info, bundle: [], source: 'test' });
      }
    certificates = leaves.length;
    await trackCertificates({ store: open.store, clock }, kase('k1'), leaves, [h.ca.info]);
    // Every tenth also tracked in a second case: one job certificate names both.
    await trackCertificates(
      { store: open.store, clock },
      kase('k2'),
      leaves.filter((_, i) => i % 10 === 0),
      [h.ca.info],
    );
  }, 180_000);
  afterAll(async () => open?.close());

  it('queues the same jobs as the whole-run planner, a CRL URL once however many parts it takes, and finishes the run once', async () => {
    const now = clock.now().getTime();
    const reference = new JobsDigest();
    for (const job of await referenceJobs(open.store, now, { ocspBatchSize: BOUNDS.ocspBatchSize })) reference.add(job);

    const queued: JobMessage[] = [];
    const announced: RunRecord[] = [];
    const events: RunEvents = { checkCompleted: async (r) => void announced.push(r) };
    const planned = await planRun({ store: open.store, queue: { enqueue: async (m) => void queued.push(...m) }, events, clock }, BOUNDS);
    expect(planned).toMatchObject({ skipped: null, crlJobs: 2, finished: null, certificates: certificates + 23 });
    // CRL A's job is far bigger than a part: it went to the table in many.
    expect(planned.payloadParts).toBeGreaterThan(10);

    const streamed = new JobsDigest();
    for (const m of queued) streamed.add(await messageJob(open.store, m));
    expect(streamed.summary()).toEqual(reference.summary());
    expect(streamed.summary()).toMatchObject({ crlJobs: 2, ocspBatches: Math.ceil(40 / 7) + Math.ceil(30 / 7), certificates: 270 });
    expect(new Set(queued.map((m) => m.jobId)).size).toBe(queued.length);

    // Every job run (one delivered twice); the fetcher fails at once: a failed fetch is an answer, and what is counted here is the asking.
    const fetched = new Map<string, number>();
    const fetcher: Fetcher = {
      fetch: async (req) => {
        fetched.set(req.url, (fetched.get(req.url) ?? 0) + 1);
        return { ok: false, kind: 'network', message: 'connection refused', url: req.url, attempts: 1 };
      },
    };
    const finishers: string[] = [];
    for (const m of [...queued, queued[0]!]) {
      const done = await runQueuedJob({ store: open.store, fetcher, clock, events }, m);
      if (done.finished) finishers.push(m.jobId);
    }
    expect(fetched.get(CRL_A)).toBe(1);
    expect(fetched.get(CRL_B)).toBe(1);
    expect(finishers).toHaveLength(1);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ runId: planned.runId, certificates: certificates + 23 });
    const run = (await open.store.listOpenRuns()).find((r) => r.runId === planned.runId)!;
    expect(run).toMatchObject({ jobs: queued.length, remaining: 0 });
  }, 180_000);

  it('holds a bounded number of certificates while planning, not the run', async () => {
    clock.advance(2 * DAY); // the last run is over and every certificate is due again
    const planned = await planRun(
      { store: open.store, queue: { enqueue: async () => undefined }, events: { checkCompleted: async () => undefined }, clock },
      BOUNDS,
    );
    expect(planned.skipped).toBeNull();
    // At most ~30 CRL certificates waiting for their parts (6 KiB of ~200-byte JSON) and, per host, one shard's
    // OCSP jobs and a batch's remainder: far fewer than the 270 asked.
    expect(planned.certificatesHeldPeak).toBeGreaterThan(0);
    expect(planned.certificatesHeldPeak).toBeLessThanOrEqual(60);
    expect(planned.ocspRequests + 200).toBe(270);
  }, 180_000);
});
