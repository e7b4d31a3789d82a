/**
 * A local check holds the certificates in flight, not every one it asks (issue 29, bounded memory): each
 * CRL job and its certificates are let go once the job has run and they are judged, and the recorder lets
 * a released certificate's record go once it is written. Proved on reachability (WeakRef after a forced
 * collection) and on the recorder's count of held records, never on RSS or timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import type { CrlJob, FetchRequest, FetchResult } from '../../../src/ports/index.js';
import { runCheck } from '../../../src/check/run-check.js';
import { CrlJobSlots, LastCrlJob } from '../../../src/check/run-check.js';
import { executeCrlJob, IssuerCache, ObservationRecorder } from '../../../src/check/execute.js';
import { planCheck } from '../../../src/check/plan.js';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { trackCertificates } from '../../../src/track/track.js';
import { CannedCaFetcher } from '../../helpers/canned-ca.js';
import { LocalGoodAnswerFiles } from '../../../src/adapters/local/good-answer-files.js';
import { DAY, HOUR, makeWorld, T0, testCa } from './world.js';
import type { CertificateInfo } from '../../../src/pki/certificate.js';

/** What the mocked planner saw: a weak reference to every certificate of every CRL job it planned. */
const planned: { url: string; certificates: WeakRef<object>[] }[] = [];
/** And to each certificate the plan's `refs` name (certificate, cases and record) for judging. */
const plannedRefs: WeakRef<object>[] = [];
vi.mock('../../../src/check/plan.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/check/plan.js')>();
  return {
    ...original,
    planCheck: async (...args: Parameters<typeof original.planCheck>) => {
      const plan = await original.planCheck(...args);
      planned.length = 0;
      for (const job of plan.crlJobs) planned.push({ url: job.url, certificates: job.certificates.map((c) => new WeakRef(c)) });
      plannedRefs.length = 0;
      for (const ref of plan.refs.values()) plannedRefs.push(new WeakRef(ref));
      return plan;
    },
  };
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects garbage outside the current job (a WeakRef read in a job keeps its target until the job ends). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

const aliveOf = (jobs: typeof planned): number => jobs.reduce((n, j) => n + j.certificates.filter((r) => r.deref()).length, 0);

/** `crls` CRL URLs on one loopback host, `perCrl` CRL-only certificates on each, tracked in one case. */
async function crlWorld(crls: number, perCrl: number) {
  const ca = await testCa();
  const clock = new FakeClock(T0);
  const store = memoryStore();
  const canned = new CannedCaFetcher(ca, () => clock.now().getTime());
  const urls = Array.from({ length: crls }, (_, i) => `${canned.crlUrl}?part=${i}`);
  const certs: CertificateInfo[] = [];
  for (const [i, url] of urls.entries())
    for (let k = 0; k < perCrl; k++) {
      const issued = await ca.issue({
        subject: `CN=m${i}-${k}.example`,
        notBefore: T0 - DAY,
        notAfter: T0 + 90 * DAY,
        ocspUrls: [],
        crlUrls: [url],
      });
      canned.issued(issued.info.serial);
      certs.push(issued.info);
    }
  const kase = { id: 'c1', title: 'memory', reportedAt: T0, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const };
  await trackCertificates(
    { store, clock },
    kase,
    certs.map((certificate) => ({ certificate, bundle: [], source: 'test' })),
    [ca.info],
  );
  return { ca, clock, store, canned, urls, certs };
}

describe('a local check lets each CRL job go once it has run', () => {
  it('holds no certificate of a finished CRL job while the later ones run', { timeout: 120_000 }, async () => {
    const w = await crlWorld(6, 5);
    let aliveAtFetch: number[] = [];
    let refsAtFetch: number[] = [];
    const fetcher = {
      fetch: async (request: FetchRequest): Promise<FetchResult> => {
        await collect();
        aliveAtFetch.push(aliveOf(planned));
        refsAtFetch.push(plannedRefs.filter((r) => r.deref()).length);
        // Every part is the CA's one CRL: the canned fetcher serves it at its one URL.
        return w.canned.fetch({ ...request, url: request.url.startsWith(w.canned.crlUrl) ? w.canned.crlUrl : request.url });
      },
    };
    const first = await runCheck({ store: w.store, fetcher, clock: w.clock });
    expect(first).toMatchObject({ certificates: 30, crlsFetched: 6, failedSources: [] });
    expect(first.changes).toHaveLength(30);
    // An hour on every certificate is due again and every answer unchanged: nothing is written, so nothing
    // but the plan's own references could keep a certificate alive.
    w.clock.advance(HOUR);
    aliveAtFetch = [];
    refsAtFetch = [];
    const second = await runCheck({ store: w.store, fetcher, clock: w.clock });
    expect(second).toMatchObject({ certificates: 30, crlsFetched: 6, changes: [], observationsWritten: 0 });
    expect(second.verdicts.pending).toBe(30); // good everywhere, within the revocation deadline
    expect(planned).toHaveLength(6);
    expect(aliveAtFetch).toHaveLength(6);
    // When the first CRL is fetched every certificate is planned and alive; when the last is, at most the
    // two jobs one host may have in flight (crl-pool.ts CRL_PER_HOST) still hold theirs.
    expect(aliveAtFetch[0]).toBe(30);
    expect(aliveAtFetch[5]).toBeLessThanOrEqual(2 * 5);
    expect(refsAtFetch[0]).toBe(30);
    expect(refsAtFetch[5]).toBeLessThanOrEqual(2 * 5);
    await collect();
    expect(aliveOf(planned)).toBe(0);
    expect(plannedRefs.filter((r) => r.deref())).toHaveLength(0);
  });

  it('a certificate on two CRLs is done only after the second', () => {
    const job = (url: string, shas: string[]) => ({ url, certificates: shas.map((sha256) => ({ sha256 })) }) as unknown as CrlJob;
    const last = new LastCrlJob([job('a', ['x', 'y']), job('b', ['y', 'z']), job('c', ['w'])], new Set(['w']));
    expect(last.answered('x')).toBe(true);
    expect(last.answered('y')).toBe(false);
    expect(last.answered('y')).toBe(true);
    expect(last.answered('z')).toBe(true);
    // Asked over OCSP as well: judged once the responders have answered, never here.
    expect(last.answered('w')).toBe(false);
  });

  it('hands each CRL job out once and keeps no job it handed out', () => {
    const jobs = [{ url: 'a', keptBytes: 5 }, { url: 'b' }].map((j) => ({ ...j, certificates: [] }) as unknown as CrlJob);
    const slots = new CrlJobSlots(jobs);
    expect(slots.handles).toEqual([
      { index: 0, url: 'a', keptBytes: 5 },
      { index: 1, url: 'b' },
    ]);
    expect(slots.take(slots.handles[1]!)).toBe(jobs[1]);
    expect(() => slots.take(slots.handles[1]!)).toThrow(/taken twice/);
  });
});

describe('ObservationRecorder.release', () => {
  it('lets a released record go once it is written, and keeps it until then', async () => {
    const w = await makeWorld([
      { name: 'a', ocsp: false },
      { name: 'b', ocsp: false },
    ]);
    const recorder = new ObservationRecorder(w.store, w.clock, { soleWriter: true });
    const plan = await planCheck(w.store, T0);
    const [job] = plan.crlJobs;
    await executeCrlJob({ store: w.store, fetcher: w.fetcher, clock: w.clock }, new IssuerCache(w.store), recorder, job!);
    // First answers are changes: both records wait to be written.
    expect(recorder.recordsHeld).toBe(2);
    const [a, b] = job!.certificates.map((c) => c.sha256);
    recorder.release([a!]);
    expect(recorder.recordsHeld).toBe(2); // not yet written: still held
    await recorder.flush();
    expect(recorder.recordsHeld).toBe(1); // a is written and let go; b, not released, stays for later jobs
    recorder.release([b!]);
    expect(recorder.recordsHeld).toBe(0); // written already: let go at once
    // What was let go is in the store, whole.
    const stored = await w.store.loadCase('c1');
    expect(stored.map((cc) => cc.rev).sort()).toEqual([1, 1]);
  });
});

describe('the local good-answer log holds a bounded number of answers', () => {
  const good = (i: number, observedAt: number) => ({
    sha256Cert: `${(i % 4).toString(16).padStart(2, '0')}${'a'.repeat(62)}${i}`,
    observedAt,
    source: { kind: 'crl' as const, url: 'http://127.0.0.1:9/ca.crl' },
    status: 'good' as const,
    revocationTime: null,
    reasonCode: null,
    thisUpdate: observedAt - HOUR,
    nextUpdate: observedAt + DAY,
    producedAt: null,
    crlNumber: '7',
    signer: 'crl-issuer' as const,
    sha256: 'b'.repeat(64),
    error: null,
    raw: null,
  });

  it('merges what it holds into its files past the limit, answering and committing as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-good-answers-'));
    try {
      const log = new LocalGoodAnswerFiles(dir, { heldAnswers: 3 });
      // One answer older than the log keeps: merging early prunes nothing, the commit does.
      log.add(good(0, T0 - 30 * DAY));
      for (let i = 1; i < 8; i++) {
        log.add(good(i, T0));
        expect(log.answersHeld).toBeLessThan(3);
      }
      const latest = await log.latest(Array.from({ length: 8 }, (_, i) => good(i, T0).sha256Cert));
      expect(latest.size).toBe(8);
      await log.commit(T0);
      expect(log.answersHeld).toBe(0);
      const reopened = new LocalGoodAnswerFiles(dir);
      const after = await reopened.latest(Array.from({ length: 8 }, (_, i) => good(i, T0).sha256Cert));
      expect([...after.keys()].sort()).toEqual(Array.from({ length: 7 }, (_, i) => good(i + 1, T0).sha256Cert).sort());
      expect(after.get(good(3, T0).sha256Cert)![0]).toMatchObject({ observedAt: T0, crlNumber: '7' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
