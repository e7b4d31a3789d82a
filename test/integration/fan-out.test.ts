/**
 * The queued fan-out's run bookkeeping on the real DynamoDB adapter
 * (embedded dynalite) and a fake clock: empty runs, stuck runs, and messages
 * that can never succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { JobMessageError, parseJobMessage, planRun, runQueuedJob } from '../../src/check/fan-out.js';
import type { JobMessage, RunEvents } from '../../src/ports/index.js';
import type { Fetcher } from '../../src/ports/index.js';
import { openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import type { RunRecord } from '../../src/ports/store.js';
import { makeHierarchy, T0 } from '../helpers/pki-fixtures.js';
import { trackCertificates } from '../../src/track/track.js';

describe('fan-out runs', () => {
  const clock = new FakeClock(T0);
  let open: OpenStore;
  const announced: RunRecord[] = [];
  const events: RunEvents = { checkCompleted: async (r) => void announced.push(r) };
  const queued: JobMessage[] = [];
  const queue = { enqueue: async (m: readonly JobMessage[]) => void queued.push(...m) };
  // Every request fails at once: these tests are about bookkeeping, and a failed fetch is still an answer.
  const fetcher: Fetcher = {
    fetch: async (req) => ({ ok: false, kind: 'network', message: 'connection refused', url: req.url, attempts: 1 }),
  };

  beforeAll(async () => {
    open = await openEmbeddedStore(mkdtempSync(join(tmpdir(), 'revwatch-fanout-')));
  });
  afterAll(async () => open?.close());

  it('finishes a run with nothing to ask at once, and announces it', async () => {
    const r = await planRun({ store: open.store, queue, events, clock });
    expect(r).toMatchObject({ skipped: null, crlJobs: 0, ocspBatches: 0 });
    expect(r.finished).toMatchObject({ runId: r.runId, certificates: 0 });
    expect(announced.map((a) => a.runId)).toEqual([r.runId]);
    expect(queued).toEqual([]);
  });

  it('lets a run stuck for over an hour stop blocking the next, and refuses messages that can never succeed', async () => {
    const h = await makeHierarchy();
    const kase = { id: 'k', title: 'k', reportedAt: T0, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const };
    await trackCertificates({ store: open.store, clock }, kase, [{ certificate: h.leaf.info, bundle: [], source: 'leaf' }], [h.ca.info]);
    const first = await planRun({ store: open.store, queue, events, clock });
    expect(first.skipped).toBeNull();
    expect(queued.length).toBeGreaterThan(0);

    clock.advance(30 * 60_000);
    expect((await planRun({ store: open.store, queue, events, clock })).skipped).toMatch(/still has/);
    clock.advance(31 * 60_000);
    const third = await planRun({ store: open.store, queue, events, clock });
    expect(third.skipped).toBeNull();
    expect(third.runId).not.toBe(first.runId);

    // A late job of the first run still runs and counts against it (a fetch failure is an answer, not an error).
    const late = queued.find((m) => m.runId === first.runId)!;
    const done = await runQueuedJob({ store: open.store, fetcher, clock, events }, late);
    expect(done).toMatchObject({ runId: first.runId, duplicate: false, finished: null });
    expect(done.failedSources.length).toBeGreaterThan(0);
    const counted = (await open.store.listOpenRuns()).find((r) => r.runId === first.runId)!;
    expect(counted.remaining).toBe(counted.jobs - 1);

    await expect(runQueuedJob({ store: open.store, fetcher, clock, events }, { v: 1, runId: 'no-such-run', jobId: 'j0' })).rejects.toThrow(
      JobMessageError,
    );
    expect(() => parseJobMessage('not json')).toThrow('job message is not JSON');
    expect(() => parseJobMessage('{"v":2,"runId":"r","jobId":"j"}')).toThrow(/not a revwatch job message/);
    expect(() => parseJobMessage('{"v":1,"runId":"r","jobId":"j","job":{"kind":"x"}}')).toThrow('unknown job kind "x"');
  });
});
