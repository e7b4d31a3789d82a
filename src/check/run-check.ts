/**
 * One check run in one process: plan which certificates need asking, run
 * every CRL job (one fetch per URL for all of its serials) and the OCSP jobs
 * (per-host limits), and record what changed. The AWS planner and worker
 * split the same steps across a queue (see fan-out.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Case } from '../domain.js';
import { sourceKey, type SourceState } from '../ports/store.js';
import { recordObservations } from '../rules/evidence.js';
import { noVerdicts, verdictAt, verdictOf, type Verdict } from '../rules/verdict.js';
import {
  executeCrlJob,
  IssuerCache,
  OcspAsker,
  ObservationRecorder,
  ShardUnion,
  type Change,
  type ExecuteDeps,
  type ExecuteOptions,
  type FailedSource,
} from './execute.js';
import { planCheck, type CertificateRef, type PlanOptions } from './plan.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import { runCrlJobs } from './crl-pool.js';
import { YIELD_EVERY, yieldToEventLoop } from '../util/yield.js';

export type { Change, ProgressSink } from './execute.js';

/** A local run needs what executing its jobs needs, and the good-answer log (ports/good-answers.ts) where there is one. */
export type CheckDeps = ExecuteDeps & { readonly goodAnswers?: GoodAnswerLog | null };

export interface CheckOptions extends ExecuteOptions {
  readonly caseId?: string;
  /** A settled (verified revoked) certificate is asked again this often, to catch a reversed revocation. */
  readonly settledIntervalMs?: number;
  /** Unchanged answers are still recorded this often, as heartbeats. */
  readonly heartbeatMs?: number;
  /** The imported CCADB disclosures (plan.ts). */
  readonly disclosures?: PlanOptions['disclosures'];
}

export interface CheckSummary {
  readonly runId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  /** Certificates due and asked in this run (once per case that tracks them). */
  readonly certificates: number;
  /** Tracked but not due: settled between their daily re-asks, or expired and judged. */
  readonly notDue: number;
  /** Expired certificates every source has answered since expiry: judged, no longer polled from this run on. */
  readonly retiredExpired: number;
  readonly crlsFetched: number;
  readonly ocspRequests: number;
  readonly changes: readonly Change[];
  readonly failedSources: readonly FailedSource[];
  readonly observationsWritten: number;
  /** Of those, the last good answers taken from the good-answer log when an answer changed (ports/good-answers.ts). */
  readonly goodAnswersCarried: number;
  readonly itemsWritten: number;
  /** Items this run read from the store (planning, issuers, records after a lost conditional write). */
  readonly itemsRead: number;
  /**
   * Verdicts of the certificates asked in this run, judged on their evidence
   * records as this run leaves them. `revwatch status` also weighs CRL
   * snapshots that did not list a certificate, so it can bound a backdated
   * revocation more tightly.
   */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /**
   * Where the time went, in milliseconds: CRL and OCSP run side by side. `crl` is timed from the end of
   * planning; `ocsp` from the first OCSP job handed over (responders are asked while planning goes on) to
   * the last answer, so it overlaps `plan`.
   */
  readonly timings: { readonly plan: number; readonly crl: number; readonly ocsp: number; readonly write: number };
}

/** The run's source states, each with its settled heartbeat carried over or advanced (settled-round.ts). */
function settledRoundStates(
  plan: Awaited<ReturnType<typeof planCheck>>,
  recorder: ObservationRecorder,
  ran: readonly SourceState[],
  failed: readonly FailedSource[],
): SourceState[] {
  if (!plan.settledRound) return [...ran];
  const failedKeys = new Set(recorder.settledErrors);
  for (const f of failed) failedKeys.add(sourceKey(f.kind, f.url));
  return plan.settledRound.finish(ran, failedKeys, recorder.settledJoins);
}

export async function runCheck(deps: CheckDeps, options: CheckOptions = {}): Promise<CheckSummary> {
  const { store, clock } = deps;
  const startedAt = clock.now().getTime();
  const runId = randomUUID();
  const writtenBefore = store.itemsWritten;
  const readBefore = store.itemsRead;

  const recorder = new ObservationRecorder(store, clock, {
    heartbeatMs: options.heartbeatMs,
    settledIntervalMs: options.settledIntervalMs,
    soleWriter: true,
    goodAnswers: deps.goodAnswers ?? null,
    settledPool: true,
  });
  const issuers = new IssuerCache(store);
  // The total is known once planning ends; OCSP answers that come before are counted then.
  let total: number | null = null;
  let answeredEarly = 0;
  const progress = deps.progress;
  const ocsp = new OcspAsker(
    {
      ...deps,
      progress: progress && {
        start: () => undefined,
        increment: (by = 1) => {
          if (total === null) answeredEarly += by;
          else progress.increment(by);
        },
        stop: () => undefined,
      },
    },
    issuers,
    recorder,
    options,
  );
  // OCSP responders are asked as soon as each shard of the polling index is planned, while the rest is read:
  // an unchanged run is otherwise planning first and then waiting on the responders' polite rate.
  let plan: Awaited<ReturnType<typeof planCheck>>;
  let ocspFrom: number | null = null;
  try {
    plan = await planCheck(store, startedAt, {
      ...options,
      settledPool: true,
      onOcspJobs: (jobs) => {
        ocspFrom ??= clock.now().getTime();
        ocsp.add(jobs);
      },
    });
  } catch (err) {
    // Nothing keeps asking once the run has failed; what was answered is still evidence.
    await ocsp.abandon();
    await recorder.flush().catch(() => undefined);
    await deps.goodAnswers?.commit(clock.now().getTime()).catch(() => undefined);
    throw err;
  }
  const planDone = clock.now().getTime();

  const sourceStates: SourceState[] = [];
  const failedSources: FailedSource[] = [];
  // Never push(...): a spread of a big array overflows the stack.
  for (const r of plan.refused) failedSources.push(r);
  const collect = (r: { sourceStates: readonly SourceState[]; failedSources: readonly FailedSource[] }): void => {
    for (const s of r.sourceStates) sourceStates.push(s);
    for (const f of r.failedSources) failedSources.push(f);
  };
  total = plan.crlJobs.length + plan.ocspJobs.length;
  progress?.start(total, 'checking');
  if (answeredEarly > 0) progress?.increment(answeredEarly);
  let crlsFetched = 0;
  // CRLs (a few at a time, big ones alone: crl-pool.ts) and OCSP responders (per-host limits) are asked at
  // the same time: they are different servers, and a stalled CRL must not hold the OCSP answers back.
  let crlDone = planDone;
  let ocspDone = planDone;
  // When one side fails the other stops (no further CRL, no further OCSP request), and the run fails only
  // once both have: nothing of it is still running when runCheck rejects.
  let stopped = false;

  // The summary's verdicts. A certificate no OCSP job asks has every answer of this run once the CRLs are done,
  // so it is judged then, while the responders are still being asked; the rest once they have answered. Each
  // group is judged at one instant after its last answer: never against a "now" older than its evidence.
  const verdicts = noVerdicts();
  const casesById = new Map<string, Case>(plan.cases.map((c) => [c.id, c]));
  const askedOverOcsp = new Set<CertificateRef | undefined>(plan.ocspJobs.map((j) => plan.refs.get(j.certificate.sha256)));
  const crlOnly: CertificateRef[] = [];
  const withOcsp: CertificateRef[] = [];
  for (const ref of plan.refs.values()) (askedOverOcsp.has(ref) ? withOcsp : crlOnly).push(ref);
  const judge = async (refs: readonly CertificateRef[]): Promise<void> => {
    // Planned from polling summaries (plan.ts): judged on the record this run wrote, or by the summary's verdicts.
    if (refs.some((ref) => ref.verdicts)) await recorder.flush();
    const judgedAt = clock.now().getTime();
    let n = 0;
    for (const ref of refs) {
      if (stopped) return;
      const written = ref.verdicts ? recorder.writtenRecord(ref.cert.sha256) : null;
      if (ref.verdicts && !written) {
        for (const caseId of ref.caseIds) verdicts[verdictAt(ref.verdicts.get(caseId)!, ref.cert.notAfter, judgedAt)]++;
        continue;
      }
      const answers = recordObservations(written?.record ?? recorder.recordOf(ref.cert.sha256, ref.record));
      for (const caseId of ref.caseIds) verdicts[verdictOf(casesById.get(caseId)!, written?.cert ?? ref.cert, answers, judgedAt)]++;
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop(); // the OCSP requests' spacing runs on this thread
    }
  };

  const settled = await Promise.allSettled([
    (async () => {
      try {
        const shards = new ShardUnion(plan.crlJobs);
        await runCrlJobs(
          plan.crlJobs,
          async (job) => {
            const r = await executeCrlJob(deps, issuers, recorder, job, options, shards);
            if (r.sourceStates.length > 0) crlsFetched++;
            collect(r);
            deps.progress?.increment();
          },
          { stopped: () => stopped },
        );
        if (stopped) return;
        crlDone = clock.now().getTime();
        // Every answer of a certificate no OCSP job asks is in: its last good answers can join its record now.
        const crlOnlyShas = new Set(crlOnly.map((ref) => ref.cert.sha256));
        await recorder.carryInLastGood((sha) => crlOnlyShas.has(sha));
        await judge(crlOnly);
      } catch (err) {
        stopped = true;
        await ocsp.abandon();
        throw err;
      }
    })(),
    (async () => {
      try {
        collect(await ocsp.finish());
        ocspDone = clock.now().getTime();
      } catch (err) {
        stopped = true;
        throw err;
      }
    })(),
  ]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    // What was answered is still evidence: the next run's changes can take this run's good answers.
    await deps.goodAnswers?.commit(clock.now().getTime()).catch(() => undefined);
    throw failed.reason;
  }

  await recorder.carryInLastGood();
  await recorder.flush();
  await deps.goodAnswers?.commit(clock.now().getTime());
  await store.putSourceStates(settledRoundStates(plan, recorder, sourceStates, failedSources));
  deps.progress?.stop();

  await judge(withOcsp);
  const finishedAt = clock.now().getTime();
  const itemsWritten = store.itemsWritten - writtenBefore + 1;
  const observationsWritten = recorder.observationsWritten;
  await store.recordRun({
    runId,
    startedAt,
    finishedAt,
    certificates: plan.certificates,
    sourcesFailed: failedSources.length,
    observationsWritten,
    itemsWritten,
  });
  return {
    runId,
    startedAt,
    finishedAt,
    certificates: plan.certificates,
    notDue: plan.notDue,
    retiredExpired: plan.retiredExpired,
    crlsFetched,
    ocspRequests: plan.ocspJobs.length,
    changes: recorder.changes,
    failedSources,
    observationsWritten,
    goodAnswersCarried: recorder.goodAnswersCarried,
    itemsWritten,
    itemsRead: store.itemsRead - readBefore,
    verdicts,
    timings: {
      plan: planDone - startedAt,
      crl: crlDone - planDone,
      ocsp: ocspDone - (ocspFrom ?? planDone),
      write: finishedAt - Math.max(crlDone, ocspDone),
    },
  };
}
