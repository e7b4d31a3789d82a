/**
 * Settled certificates in the AWS fan-out (issue 29 item 3, check/settled-round.ts, check/fan-out.ts): the
 * planner plans the settled rounds and keeps them with the open run, the queued jobs run in parallel workers
 * (here: concurrently, in an order unlike the planner's) and each records its sources' errors with the run, and
 * the worker that finishes the run writes each source's settled heartbeat once. An unchanged answer to a
 * settled certificate writes nothing per certificate; a changed one is written; a failed source does not
 * advance; a redelivered job loses and doubles nothing.
 *
 * planRun and runQueuedJob against the store over the memory table, with a CA whose CRL and OCSP answers are
 * real and signed (test/helpers/canned-ca.ts). The leaves are written straight to DER (bench/leaves.ts): 2,000
 * of them through the ASN.1 object model would take a minute.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leafDer } from '../../bench/leaves.js';
import { memoryStore } from '../../src/adapters/memory/memory-table.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { planRun, runQueuedJob, type PlanRunResult, type RunJobResult } from '../../src/check/fan-out.js';
import type { Case } from '../../src/domain.js';
import { describeCertificate, type CertificateInfo } from '../../src/pki/certificate.js';
import type { JobMessage, RunRecord } from '../../src/ports/index.js';
import { recordObservations } from '../../src/rules/evidence.js';
import { judge } from '../../src/rules/verdict.js';
import { buildStatus } from '../../src/status/status.js';
import { verifyEvidence } from '../../src/status/verify-evidence.js';
import { TableStore } from '../../src/store/table-store.js';
import { iso } from '../../src/time.js';
import { trackCertificates } from '../../src/track/track.js';
import { CannedCaFetcher } from '../helpers/canned-ca.js';
import { startDynaliteTable } from '../helpers/dynalite-table.js';
import { DAY, HOUR, T0, testCa } from '../unit/check/world.js';

interface AwsWorld {
  readonly clock: FakeClock;
  readonly store: TableStore;
  readonly fetcher: CannedCaFetcher;
  readonly kase: Case;
  /** In issue order. */
  readonly certs: CertificateInfo[];
}

interface AwsRun {
  readonly planned: PlanRunResult;
  readonly jobs: RunJobResult[];
  /** Items written by the planner and every job (the finisher's included). */
  readonly written: number;
  readonly announced: RunRecord[];
  readonly messages: JobMessage[];
}

/** `total` leaves on the canned CA's CRL, every `ocspEvery`th also on its responder; tracked in case c1. */
async function awsWorld(total: number, ocspEvery: number): Promise<AwsWorld> {
  const ca = await testCa();
  const clock = new FakeClock(T0);
  const store = memoryStore();
  const fetcher = new CannedCaFetcher(ca, () => clock.now().getTime());
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const certs: CertificateInfo[] = [];
  for (let i = 0; i < total; i++) {
    const der = leafDer({
      issuerName: ca.info.raw.subjectName,
      issuerKey: ca.keys.privateKey,
      serial: 0x7a000000n + BigInt(i),
      cn: `settled-${i}.example`,
      notBefore: T0 - DAY,
      notAfter: T0 + 90 * DAY,
      spki,
      crlUrl: fetcher.crlUrl,
      ocspUrl: i % ocspEvery === 0 ? fetcher.ocspUrl : null,
    });
    const info = describeCertificate(der);
    fetcher.issued(info.serial);
    certs.push(info);
  }
  const kase: Case = { id: 'c1', title: 'Key compromise at Unit CA', reportedAt: T0, reason: 'key-compromise', kind: 'tls-subscriber' };
  await trackCertificates(
    { store, clock },
    kase,
    certs.map((certificate) => ({ certificate, bundle: [], source: 'test' })),
    [ca.info],
  );
  return { clock, store, fetcher, kase, certs };
}

const events = (announced: RunRecord[]) => ({ checkCompleted: async (r: RunRecord) => void announced.push(r) });

/** Plans a run; its messages as the queue got them. */
async function plan(
  w: AwsWorld,
  ocspBatchSize: number,
): Promise<{ planned: PlanRunResult; messages: JobMessage[]; announced: RunRecord[] }> {
  const messages: JobMessage[] = [];
  const announced: RunRecord[] = [];
  const planned = await planRun(
    { store: w.store, queue: { enqueue: async (m) => void messages.push(...m) }, events: events(announced), clock: w.clock },
    { ocspBatchSize },
  );
  return { planned, messages, announced };
}

const work = (w: AwsWorld, announced: RunRecord[], m: JobMessage): Promise<RunJobResult> =>
  runQueuedJob({ store: w.store, fetcher: w.fetcher, clock: w.clock, events: events(announced) }, m);

/** A whole run: planned, then every job at once in reverse order (parallel workers finish in any order). */
async function awsRun(w: AwsWorld, ocspBatchSize = 50): Promise<AwsRun> {
  const before = w.store.itemsWritten;
  const { planned, messages, announced } = await plan(w, ocspBatchSize);
  const jobs = await Promise.all([...messages].reverse().map((m) => work(w, announced, m)));
  return { planned, jobs, written: w.store.itemsWritten - before, announced, messages };
}

const observations = (r: AwsRun): number => r.jobs.reduce((n, j) => n + j.observationsWritten, 0);
const changes = (r: AwsRun) => r.jobs.flatMap((j) => j.changes);

/**
 * The first answers at T0, the first `settled` revoked at T0 + 1 h and recorded at T0 + 2 h (into the settled
 * pool), the pending ones' daily heartbeat at T0 + 1 day + 1 h; the clock left at T0 + 1 day + 3 h, when the
 * settled certificates' sources' round is due and the pending ones' heartbeat is not.
 */
async function settledAwsWorld(total: number, settled: number, ocspEvery: number): Promise<AwsWorld> {
  const w = await awsWorld(total, ocspEvery);
  expect((await awsRun(w)).announced).toHaveLength(1);
  w.clock.set(T0 + 2 * HOUR);
  for (const c of w.certs.slice(0, settled)) w.fetcher.revoke(c.serial, T0 + HOUR, 1);
  const revoked = await awsRun(w);
  expect(changes(revoked)).toHaveLength(settled + Math.ceil(settled / ocspEvery));
  w.clock.set(T0 + DAY + HOUR);
  // No round yet (a day after the settled answers): only the pending ones are asked.
  expect((await awsRun(w)).planned.certificates).toBe(total - settled);
  w.clock.set(T0 + DAY + 3 * HOUR);
  return w;
}

describe('settled certificates in the AWS fan-out: the source state is the heartbeat', () => {
  it('an unchanged AWS re-check of 2,000 certificates, 90 % settled, writes no more than the pending ones, the sources and 1 %', async () => {
    const total = 2000;
    const pending = 200;
    const w = await settledAwsWorld(total, total - pending, 10);
    const revsBefore = new Map((await w.store.loadCase('c1')).map((cc) => [cc.cert.sha256, cc.rev]));
    const round = await awsRun(w);
    // Every certificate asked (the settled ones in their sources' round), across parallel jobs.
    expect(round.planned).toMatchObject({ certificates: total, crlJobs: 1, ocspRequests: total / 10, ocspBatches: 4, payloadsInTable: 1 });
    expect(round.jobs.every((j) => !j.duplicate)).toBe(true);
    expect(observations(round)).toBe(0);
    expect(changes(round)).toEqual([]);
    expect(round.announced).toHaveLength(1);
    const sources = 2;
    const bound = pending + sources + Math.ceil(total / 100);
    console.log(
      `settled pool, AWS fan-out: unchanged re-check of ${total} certificates (${total - pending} settled, ${pending} pending, ${sources} sources; ` +
        `planRun + ${round.messages.length} jobs through runQueuedJob, memory table): ${round.written} items written; bound ${bound}`,
    );
    expect(round.written).toBeLessThanOrEqual(bound);
    // Nothing per certificate: every record as it was.
    for (const cc of await w.store.loadCase('c1')) expect(cc.rev).toBe(revsBefore.get(cc.cert.sha256));
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
    // The finisher wrote each source's heartbeat: confirmed at the round's start.
    const states = await w.store.getSourceStates();
    expect([...states.values()].map((s) => [s.settledConfirmedAt, s.settledDueAt])).toEqual([
      [T0 + DAY + 3 * HOUR, T0 + 2 * DAY + 3 * HOUR],
      [T0 + DAY + 3 * HOUR, T0 + 2 * DAY + 3 * HOUR],
    ]);
    // Reports date a settled certificate's answers by the heartbeat.
    const status = await buildStatus(w.store, w.clock.now().getTime(), 'c1');
    const settledOne = status.cases[0]!.certificates.find((c) => c.serial === w.certs[0]!.serial)!;
    expect(settledOne.sources.map((s) => s.confirmedAt)).toEqual([iso(T0 + DAY + 3 * HOUR), iso(T0 + DAY + 3 * HOUR)]);

    // A job delivered again after the run finished: nothing asked, nothing written, not announced again.
    const writtenBefore = w.store.itemsWritten;
    const again = await work(w, round.announced, round.messages[0]!);
    expect(again).toMatchObject({ duplicate: true, finished: null });
    expect(w.store.itemsWritten).toBe(writtenBefore);

    // Within the day nothing settled is asked: the planner reads the pending ones only.
    w.clock.set(T0 + DAY + 20 * HOUR);
    const between = await awsRun(w);
    expect(between.planned.certificates).toBe(pending);
    expect(changes(between)).toEqual([]);
  }, 600_000);

  it('a source that fails its round does not advance, and its settled ones are asked again a day after the error; a redelivered failing job counts once', async () => {
    const w = await settledAwsWorld(20, 18, 1);
    const crlKey = `crl ${w.fetcher.crlUrl}`;
    const ocspKey = `ocsp ${w.fetcher.ocspUrl}`;
    const before = await w.store.getSourceStates();
    w.fetcher.down.add(w.fetcher.ocspUrl);
    const { planned, messages, announced } = await plan(w, 5);
    expect(planned).toMatchObject({ certificates: 20, crlJobs: 1, ocspBatches: 4 });
    // The first delivery of one OCSP job stops after its answers and outcome are stored, before it is counted
    // (a worker timed out): the queue delivers it again.
    const flaky = messages.find((m) => m.job?.kind === 'ocsp')!;
    const complete = w.store.completeRunJob.bind(w.store);
    let stopped = false;
    w.store.completeRunJob = async (runId, jobId, counts) => {
      if (jobId === flaky.jobId && !stopped) {
        stopped = true;
        throw new Error('worker stopped');
      }
      return complete(runId, jobId, counts);
    };
    await expect(work(w, announced, flaky)).rejects.toThrow('worker stopped');
    const jobs = await Promise.all([...messages, flaky].reverse().map((m) => work(w, announced, m)));
    w.store.completeRunJob = complete;
    expect(jobs.filter((j) => j.duplicate)).toHaveLength(1);
    expect(announced).toHaveLength(1);
    expect(announced[0]!.sourcesFailed).toBe(4);
    const after = await w.store.getSourceStates();
    // The CRL answered its round: confirmed at the run's start; the responder's errors rewrote the records into
    // the pool, which pulls the CRL's next round in to a day after their CRL answers (settled-round.ts). The
    // responder did not answer: its heartbeat stands.
    expect(after.get(crlKey)!.settledConfirmedAt).toBe(T0 + DAY + 3 * HOUR);
    expect(after.get(crlKey)!.settledDueAt).toBeLessThanOrEqual(T0 + DAY + 3 * HOUR);
    expect(after.get(ocspKey)!.settledConfirmedAt).toBe(before.get(ocspKey)!.settledConfirmedAt ?? null);
    expect(after.get(ocspKey)!.settledDueAt).toBe(before.get(ocspKey)!.settledDueAt);
    expect(after.get(ocspKey)!.ok).toBe(false);

    // The errors were written (a changed answer), so the settled ones are asked again a day after them; by then
    // the responder is back, and its round advances.
    w.fetcher.down.delete(w.fetcher.ocspUrl);
    w.clock.advance(HOUR);
    expect((await awsRun(w, 5)).planned.ocspRequests).toBe(2);
    w.clock.set(T0 + 2 * DAY + 4 * HOUR);
    const retry = await awsRun(w, 5);
    expect(retry.planned).toMatchObject({ certificates: 20, ocspRequests: 20 });
    expect(changes(retry).filter((c) => c.source === ocspKey && c.to.startsWith('revoked'))).toHaveLength(18);
    const recovered = (await w.store.getSourceStates()).get(ocspKey)!;
    expect(recovered.settledConfirmedAt).toBe(T0 + 2 * DAY + 4 * HOUR);
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
  }, 600_000);

  it('a settled certificate whose revocation is reversed is written, and leaves the pool', async () => {
    const w = await settledAwsWorld(6, 5, 1);
    const quiet = await awsRun(w, 2);
    expect(quiet.planned.certificates).toBe(6);
    expect(observations(quiet)).toBe(0);
    const reversed = w.certs[1]!;
    const revBefore = (await w.store.loadCase('c1')).find((cc) => cc.cert.serial === reversed.serial)!.rev;

    w.clock.set(T0 + 2 * DAY + 3 * HOUR);
    w.fetcher.unrevoke(reversed.serial);
    const caught = await awsRun(w, 2);
    expect(
      changes(caught)
        .map((c) => `${c.serial} ${c.source.split(' ')[0]} ${c.from.split('@')[0]} -> ${c.to}`)
        .sort(),
    ).toEqual([`${reversed.serial} crl revoked -> good`, `${reversed.serial} ocsp revoked -> good`]);
    const cc = (await w.store.loadCase('c1')).find((c) => c.cert.serial === reversed.serial)!;
    expect(cc.rev).toBeGreaterThan(revBefore);
    expect(cc.pollSettled ?? false).toBe(false);
    const judged = judge(w.kase, cc.cert, recordObservations(cc.record), w.clock.now().getTime());
    expect(judged.findings.map((f) => f.code)).toContain('revocation_reversed');
    // The round still advanced for the others: both sources answered.
    for (const s of (await w.store.getSourceStates()).values()) expect(s.settledConfirmedAt).toBe(T0 + 2 * DAY + 3 * HOUR);
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
  }, 600_000);
});

describe('the settled-round ledger on DynamoDB (embedded dynalite)', () => {
  it('keeps a round in parts, unions the job outcomes over redeliveries, keeps a heartbeat through a job state write, and sets it alone', async () => {
    const db = await startDynaliteTable({ tableName: 'revwatch-settled' });
    try {
      const { table } = db;
      const store = new TableStore(table);
      // Thousands of sources, kept gzipped in parts beside the job payloads.
      const due = Array.from(
        { length: 5000 },
        (_, i) => [`crl http://127.0.0.1/${i}-${'x'.repeat(60)}.crl`, i % 7 === 0 ? null : T0 - i] as const,
      );
      const round = {
        startedAt: T0,
        intervalMs: DAY,
        due,
        joins: [['ocsp http://127.0.0.1/ocsp', null] as const],
        failed: ['crl http://127.0.0.1/refused.crl'],
      };
      await store.putRunRound('r1', round, T0 + DAY);
      expect(await store.getRunRound('r1')).toEqual(round);
      expect(await store.getRunRound('r2')).toBeNull();

      const ocsp = 'ocsp http://127.0.0.1/ocsp';
      const crl = due[1]![0];
      await store.addJobRoundOutcome('r1', 'j1', { failed: new Set([ocsp]), joins: new Map([[crl, T0 - 5]]) }, T0 + DAY);
      // The same job delivered again, answering otherwise: nothing of the first is lost, nothing doubled.
      await store.addJobRoundOutcome('r1', 'j1', { failed: new Set(), joins: new Map([[crl, T0 - 9]]) }, T0 + DAY);
      await store.addJobRoundOutcome('r1', 'j2', { failed: new Set(), joins: new Map([[ocsp, Number.NEGATIVE_INFINITY]]) }, T0 + DAY);
      const written = store.itemsWritten;
      await store.addJobRoundOutcome('r1', 'j3', { failed: new Set(), joins: new Map() }, T0 + DAY);
      expect(store.itemsWritten).toBe(written); // nothing to tell: nothing written
      const outcome = await store.getRunRoundOutcome('r1');
      expect([...outcome.failed]).toEqual([ocsp]);
      expect(outcome.joins).toEqual(
        new Map([
          [crl, T0 - 9],
          [ocsp, Number.NEGATIVE_INFINITY],
        ]),
      );

      const url = crl.slice('crl '.length);
      await store.putSourceStates([
        { kind: 'crl', url, lastCheckedAt: T0, ok: true, error: null, settledConfirmedAt: T0 - DAY, settledDueAt: T0 },
      ]);
      // A job's state write keeps the stored heartbeat, whatever its state carries.
      await store.putJobSourceStates([{ kind: 'crl', url, lastCheckedAt: T0 + HOUR, ok: false, error: 'timeout', settledDueAt: 1 }]);
      expect((await store.getSourceStatesOf([crl])).get(crl)).toMatchObject({
        lastCheckedAt: T0 + HOUR,
        error: 'timeout',
        settledConfirmedAt: T0 - DAY,
        settledDueAt: T0,
      });
      // The finisher sets the heartbeat alone; a source without a state is not created.
      const set = await store.setSettledHeartbeats(
        new Map([
          [crl, { settledConfirmedAt: T0 + HOUR, settledDueAt: T0 + DAY + HOUR }],
          [ocsp, { settledConfirmedAt: null, settledDueAt: 0 }],
        ]),
      );
      expect(set).toBe(1);
      const states = await store.getSourceStates();
      expect(states.get(crl)).toMatchObject({
        lastCheckedAt: T0 + HOUR,
        error: 'timeout',
        settledConfirmedAt: T0 + HOUR,
        settledDueAt: T0 + DAY + HOUR,
      });
      expect(states.has(ocsp)).toBe(false);
    } finally {
      await db.close();
    }
  }, 120_000);
});
