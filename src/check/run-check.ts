/**
 * One check run in one process: plan which certificates need asking, run
 * every CRL job (one fetch per URL for all of its serials) and the OCSP jobs
 * (per-host limits), and record what changed. The AWS planner and worker
 * split the same steps across a queue (see fan-out.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Case } from '../domain.js';
import type { CrlJob } from '../ports/index.js';
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
import { planCheck, type CheckPlan, type PlanOptions } from './plan.js';
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
  round: CheckPlan['settledRound'],
  recorder: ObservationRecorder,
  ran: readonly SourceState[],
  failed: readonly FailedSource[],
): SourceState[] {
  if (!round) return [...ran];
  const failedKeys = new Set(recorder.settledErrors);
  for (const f of failed) failedKeys.add(sourceKey(f.kind, f.url));
  return round.finish(ran, failedKeys, recorder.settledJoins);
}

/** Certificates waiting for their last good answers are taken from the log this many at a time. */
const CARRY_BATCH = 10_000;

/**
 * A run's CRL jobs, handed to the pool as handles (URL and last size): each job, with its certificates and
 * their records, is let go as soon as it is taken to run, so finished jobs hold nothing.
 */
export class CrlJobSlots {
  private readonly slots: (CrlJob | null)[];
  readonly handles: readonly { readonly index: number; readonly url: string; readonly keptBytes?: number }[];

  constructor(jobs: readonly CrlJob[]) {
    this.slots = [...jobs];
    this.handles = jobs.map((job, index) => ({
      index,
      url: job.url,
      ...(job.keptBytes === undefined ? {} : { keptBytes: job.keptBytes }),
    }));
  }

  get length(): number {
    return this.slots.length;
  }

  /** The job behind a handle, once: the slot is emptied. */
  take(handle: { readonly index: number }): CrlJob {
    const job = this.slots[handle.index];
    if (!job) throw new Error(`CRL job ${handle.index} was taken twice`);
    this.slots[handle.index] = null;
    return job;
  }
}

/**
 * Which CRL job is a certificate's last: most certificates are in one job, so only those in several are
 * counted (a set of every certificate is held while counting, then dropped). Certificates OCSP jobs ask are
 * never "done" here: they are judged once the responders have answered.
 */
export class LastCrlJob {
  private readonly remaining = new Map<string, number>();

  constructor(
    jobs: readonly CrlJob[],
    private readonly askedOverOcsp: ReadonlySet<string>,
  ) {
    const seen = new Set<string>();
    for (const job of jobs)
      for (const c of job.certificates) {
        if (!seen.has(c.sha256)) seen.add(c.sha256);
        else this.remaining.set(c.sha256, (this.remaining.get(c.sha256) ?? 1) + 1);
      }
  }

  /** Counts one CRL job's answer for a certificate; true when no job is left to ask it. */
  answered(sha256: string): boolean {
    if (this.askedOverOcsp.has(sha256)) return false;
    const n = this.remaining.get(sha256);
    if (n === undefined) return true;
    if (n > 1) {
      this.remaining.set(sha256, n - 1);
      return false;
    }
    this.remaining.delete(sha256);
    return true;
  }
}

export async function runCheck(deps: CheckDeps, options: CheckOptions = {}): Promise<CheckSummary> {
  const { store, clock } = deps;
  const startedAt = clock.now().getTime();
  const runId = randomUUID();
  const writtenBefore = store.itemsWritten;
  const readBefore = store.itemsRead;

  // Read before the recorder starts: it pools a certificate only where a source state from before this run
  // covers it (ObservationRecorder's `poolCovered`), since this run's joins are written only at its end.
  const statesBefore = await store.getSourceStates();
  const recorder = new ObservationRecorder(store, clock, {
    heartbeatMs: options.heartbeatMs,
    settledIntervalMs: options.settledIntervalMs,
    soleWriter: true,
    goodAnswers: deps.goodAnswers ?? null,
    settledPool: true,
    poolCovered: { startedAt, sources: new Set(statesBefore.keys()) },
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
  let planned: CheckPlan;
  let ocspFrom: number | null = null;
  try {
    planned = await planCheck(store, startedAt, {
      ...options,
      settledPool: true,
      sourceStates: statesBefore,
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
  // The plan is taken apart: each CRL job and each certificate is let go once it has run and been judged,
  // so the run holds the certificates in flight rather than every one it asks (issue 29: bounded memory).
  const { cases, refs, refused, settledRound } = planned;
  const counts = { certificates: planned.certificates, notDue: planned.notDue, retiredExpired: planned.retiredExpired };
  const ocspRequests = planned.ocspJobs.length;
  const crlJobs = new CrlJobSlots(planned.crlJobs);
  const shards = new ShardUnion(planned.crlJobs);
  const askedOverOcsp = new Set<string>(planned.ocspJobs.map((j) => j.certificate.sha256));
  const lastCrlJob = new LastCrlJob(planned.crlJobs, askedOverOcsp);
  planned = undefined as unknown as CheckPlan; // nothing below reads the plan whole

  const sourceStates: SourceState[] = [];
  const failedSources: FailedSource[] = [];
  // Never push(...): a spread of a big array overflows the stack.
  for (const r of refused) failedSources.push(r);
  const collect = (r: { sourceStates: readonly SourceState[]; failedSources: readonly FailedSource[] }): void => {
    for (const s of r.sourceStates) sourceStates.push(s);
    for (const f of r.failedSources) failedSources.push(f);
  };
  total = crlJobs.length + ocspRequests;
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

  // The summary's verdicts. A certificate no OCSP job asks has every answer of this run once its last CRL job
  // is done, so it is judged then, while other CRLs and the responders are still being asked, and let go; the
  // rest once the responders have answered. Each group is judged at one instant after its last answer: never
  // against a "now" older than its evidence.
  const verdicts = noVerdicts();
  const casesById = new Map<string, Case>(cases.map((c) => [c.id, c]));
  const judge = async (shas: readonly string[]): Promise<void> => {
    // Planned from polling summaries (plan.ts): judged on the record this run wrote, or by the summary's verdicts.
    if (shas.some((sha) => refs.get(sha)?.verdicts)) await recorder.flush();
    const judgedAt = clock.now().getTime();
    let n = 0;
    for (const sha of shas) {
      if (stopped) return;
      const ref = refs.get(sha);
      if (!ref) continue;
      const written = ref.verdicts ? recorder.writtenRecord(sha) : null;
      if (ref.verdicts && !written) {
        for (const caseId of ref.caseIds) verdicts[verdictAt(ref.verdicts.get(caseId)!, ref.cert.notAfter, judgedAt)]++;
      } else {
        const answers = recordObservations(written?.record ?? recorder.recordOf(sha, ref.record));
        for (const caseId of ref.caseIds) verdicts[verdictOf(casesById.get(caseId)!, written?.cert ?? ref.cert, answers, judgedAt)]++;
      }
      if (++n % YIELD_EVERY === 0) await yieldToEventLoop(); // the OCSP requests' spacing runs on this thread
    }
  };
  /** Judges certificates the run is done with and lets them go: from the plan's refs, and from the recorder once written. */
  const judgeAndRelease = async (shas: readonly string[]): Promise<void> => {
    await judge(shas);
    if (stopped) return;
    for (const sha of shas) refs.delete(sha);
    recorder.release(shas);
  };
  // A certificate whose answer changed away from "good" waits for its last good answers (ports/good-answers.ts),
  // taken from the log in batches: one lookup per batch, not one per CRL job.
  let awaitingCarry: string[] = [];
  const carryAndRelease = async (): Promise<void> => {
    const batch = awaitingCarry;
    awaitingCarry = [];
    if (batch.length === 0) return;
    const wanted = new Set(batch);
    await recorder.carryInLastGood((sha) => wanted.has(sha));
    await judgeAndRelease(batch);
  };
  /** After a CRL job: its certificates that no later job asks are judged (after their carry, if due) and let go. */
  const finishCertificates = async (job: CrlJob): Promise<void> => {
    const done: string[] = [];
    for (const c of job.certificates) {
      if (!lastCrlJob.answered(c.sha256)) continue;
      if (recorder.awaitsCarry(c.sha256)) awaitingCarry.push(c.sha256);
      else done.push(c.sha256);
    }
    await judgeAndRelease(done);
    if (awaitingCarry.length >= CARRY_BATCH) await carryAndRelease();
  };

  const settled = await Promise.allSettled([
    (async () => {
      try {
        await runCrlJobs(
          crlJobs.handles,
          async (handle) => {
            const job = crlJobs.take(handle);
            const r = await executeCrlJob(deps, issuers, recorder, job, options, shards);
            if (r.sourceStates.length > 0) crlsFetched++;
            collect(r);
            deps.progress?.increment();
            await finishCertificates(job);
          },
          { stopped: () => stopped },
        );
        if (stopped) return;
        crlDone = clock.now().getTime();
        // Every answer of a certificate no OCSP job asks is in: the last of their last good answers join their records.
        await carryAndRelease();
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
  await store.putSourceStates(settledRoundStates(settledRound, recorder, sourceStates, failedSources));
  deps.progress?.stop();

  // What is left are the certificates OCSP jobs asked (and any a failed CRL job left behind: none, the run failed).
  await judge([...refs.keys()]);
  const finishedAt = clock.now().getTime();
  const itemsWritten = store.itemsWritten - writtenBefore + 1;
  const observationsWritten = recorder.observationsWritten;
  await store.recordRun({
    runId,
    startedAt,
    finishedAt,
    certificates: counts.certificates,
    sourcesFailed: failedSources.length,
    observationsWritten,
    itemsWritten,
  });
  return {
    runId,
    startedAt,
    finishedAt,
    ...counts,
    crlsFetched,
    ocspRequests,
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
