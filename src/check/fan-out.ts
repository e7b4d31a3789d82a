/**
 * A check run split across a queue, for incidents too big for one process:
 * the planner writes one message per CRL URL and per batch of OCSP requests
 * (grouped by responder host), workers run them, and the worker that finishes
 * the last job records the run and announces it, which triggers the notices.
 *
 * Queues deliver at least once, so every step is idempotent: a job is counted
 * against its run with one conditional update, the run is finished by one
 * conditional claim, and observations are keyed by their content.
 *
 * Settled certificates are asked in their sources' daily rounds (settled-round.ts) here as locally: the planner
 * keeps the run's rounds as planned with the open run, each job adds its sources' errors and pool joins to the
 * run (a set union: redelivery loses and doubles nothing), and the worker that finishes the run writes each
 * source's settled heartbeat once, from all of them. An unchanged answer to a settled certificate writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type {
  Clock,
  Fetcher,
  JobCertificate,
  JobMessage,
  JobQueue,
  OpenRun,
  QueuedJob,
  RunEvents,
  RunLedger,
  RunRecord,
  Store,
  RunStore,
} from '../ports/index.js';
import {
  executeCrlJob,
  executeOcspJobs,
  IssuerCache,
  ObservationRecorder,
  type Change,
  type ExecuteOptions,
  type FailedSource,
} from './execute.js';
import { groupByHost } from './jobs.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import { planCheck, type CheckPlan, type PlanOptions } from './plan.js';
import { advanceRounds } from './settled-round.js';
import { sourceKey } from '../ports/store.js';
import { iso } from '../time.js';
import { DAY_MS } from './poll.js';

export interface PlanRunDeps {
  readonly store: Store & RunLedger;
  readonly queue: JobQueue;
  readonly events: RunEvents;
  readonly clock: Clock;
}

export interface PlanRunOptions extends PlanOptions {
  /** OCSP requests per message: one worker invocation asks them with the per-host limits. */
  readonly ocspBatchSize?: number;
  /** Messages bigger than this keep their payload in the table (SQS takes 256 KiB per message and per batch). */
  readonly maxInlineBytes?: number;
  /** An unfinished run younger than this blocks a new one, so slow runs do not pile up. */
  readonly runTimeoutMs?: number;
}

export interface PlanRunResult {
  readonly runId: string | null;
  /** Why no run was started, or null. */
  readonly skipped: string | null;
  readonly certificates: number;
  readonly notDue: number;
  readonly retiredExpired: number;
  readonly crlJobs: number;
  readonly ocspBatches: number;
  readonly ocspRequests: number;
  /** Jobs whose payload went to the table instead of the message. */
  readonly payloadsInTable: number;
  /** Set when the run had nothing to do and was finished at once. */
  readonly finished: RunRecord | null;
}

const HOUR = 3_600_000;
/** Open runs and job payloads are kept two days (TTL), long enough for any retry. */
const KEEP_MS = 48 * HOUR;

/** Plans a run and puts its jobs on the queue. */
export async function planRun(deps: PlanRunDeps, options: PlanRunOptions = {}): Promise<PlanRunResult> {
  const { store, clock } = deps;
  const now = clock.now().getTime();
  const runTimeout = options.runTimeoutMs ?? HOUR;
  const busy = (await store.listOpenRuns()).find((r) => r.finishedAt === null && r.remaining > 0 && r.startedAt > now - runTimeout);
  const none = {
    certificates: 0,
    notDue: 0,
    retiredExpired: 0,
    crlJobs: 0,
    ocspBatches: 0,
    ocspRequests: 0,
    payloadsInTable: 0,
    finished: null,
  };
  if (busy) {
    return {
      ...none,
      runId: null,
      skipped: `run ${busy.runId} started ${iso(busy.startedAt)} still has ${busy.remaining} of ${busy.jobs} job(s) left`,
    };
  }

  // Lean: the queued jobs carry no records, so none is kept past the shard of the polling index it was read in.
  const plan = await planCheck(store, now, { ...options, lean: true, settledPool: true });
  const batchSize = options.ocspBatchSize ?? 100;
  // Queued jobs carry no records: most answers do not change, and a worker reads the records of those that do.
  const lean = (c: JobCertificate): JobCertificate => ({
    sha256: c.sha256,
    serial: c.serial,
    notAfter: c.notAfter,
    caseIds: c.caseIds,
    previous: c.previous,
    sources: c.sources,
    ...(c.settled ? { settled: true } : {}),
    ...(c.disclosedCrlUrls ? { disclosedCrlUrls: c.disclosedCrlUrls, disclosedCrlsPartitioned: c.disclosedCrlsPartitioned } : {}),
  });
  const jobs: QueuedJob[] = plan.crlJobs.map((crl) => ({ kind: 'crl', crl: { ...crl, certificates: crl.certificates.map(lean) } }));
  let ocspBatches = 0;
  for (const unordered of groupByHost(plan.ocspJobs).values()) {
    // In certificate order, so the good answers each batch logs cover a range of certificates that no other batch
    // of the run overlaps, and a lookup reads one object (src/adapters/aws/s3-good-answer-log.ts).
    const hostJobs = [...unordered].sort((a, b) =>
      a.certificate.sha256 < b.certificate.sha256 ? -1 : a.certificate.sha256 > b.certificate.sha256 ? 1 : 0,
    );
    for (let i = 0; i < hostJobs.length; i += batchSize) {
      jobs.push({ kind: 'ocsp', ocsp: hostJobs.slice(i, i + batchSize).map((j) => ({ ...j, certificate: lean(j.certificate) })) });
      ocspBatches++;
    }
  }

  const runId = randomUUID();
  const run: OpenRun = {
    runId,
    startedAt: now,
    jobs: jobs.length,
    remaining: jobs.length,
    certificates: plan.certificates,
    observationsWritten: 0,
    itemsWritten: 0,
    sourcesFailed: 0,
    finishedAt: null,
  };
  await store.openRun(run, now + KEEP_MS);
  await keepSettledRound(store, runId, plan, now + KEEP_MS);
  const maxInline = options.maxInlineBytes ?? 200 * 1024;
  const messages: JobMessage[] = [];
  let payloadsInTable = 0;
  for (const [i, job] of jobs.entries()) {
    const jobId = `j${i}`;
    const json = JSON.stringify(job);
    if (Buffer.byteLength(json) <= maxInline) {
      messages.push({ v: 1, runId, jobId, job });
    } else {
      await store.putJobPayload(runId, jobId, gzipSync(json), now + KEEP_MS);
      messages.push({ v: 1, runId, jobId });
      payloadsInTable++;
    }
  }
  const finished = jobs.length === 0 ? await finishRun(deps, run, options.settledIntervalMs) : null;
  await deps.queue.enqueue(messages);
  return {
    runId,
    skipped: null,
    certificates: plan.certificates,
    notDue: plan.notDue,
    retiredExpired: plan.retiredExpired,
    crlJobs: plan.crlJobs.length,
    ocspBatches,
    ocspRequests: plan.ocspJobs.length,
    payloadsInTable,
    finished,
  };
}

/**
 * Keeps the run's settled rounds as planned with the open run, for its finisher (none when the run has no
 * round, no pool join and no refused source). Refused sources (past the cap of URLs per certificate) do not
 * advance, as in a local run.
 */
async function keepSettledRound(store: RunLedger, runId: string, plan: CheckPlan, expiresAt: number): Promise<void> {
  const round = plan.settledRound;
  if (!round || (round.isEmpty && plan.refused.length === 0)) return;
  await store.putRunRound(runId, round.planned(plan.refused.map((r) => sourceKey(r.kind, r.url))), expiresAt);
}

export interface RunJobDeps {
  readonly store: Store & RunLedger;
  readonly fetcher: Fetcher;
  readonly clock: Clock;
  readonly events: RunEvents;
  /** Kept across jobs of one worker (a warm Lambda): issuers are parsed once. */
  readonly issuers?: IssuerCache;
  /** Keeps each new verified CRL (the evidence archive); executeCrlJob calls it. */
  readonly saveCrl?: (sha256: string, bytes: Uint8Array) => Promise<void>;
  /** The good-answer log of one job (ports/good-answers.ts; in AWS, S3GoodAnswerLog): absent, a change takes the record's last good. */
  readonly goodAnswers?: (job: { runId: string; runStartedAt: number; jobId: string }) => GoodAnswerLog;
}

export interface RunJobOptions extends ExecuteOptions {
  readonly heartbeatMs?: number;
  /** Must match the planner's: a settled certificate's next due time in the polling index. */
  readonly settledIntervalMs?: number;
}

export interface RunJobResult {
  readonly runId: string;
  readonly jobId: string;
  /** Null for a redelivered job whose payload is in the table: it was not loaded again just to name its kind. */
  readonly kind: 'crl' | 'ocsp' | null;
  /** The queue had delivered this job before: it was counted once (and, when already counted, not run again). */
  readonly duplicate: boolean;
  readonly changes: readonly Change[];
  readonly failedSources: readonly FailedSource[];
  readonly observationsWritten: number;
  /** Set when this job was the run's last. */
  readonly finished: RunRecord | null;
}

/** Thrown for a message that can never succeed (malformed, or its payload is gone); retrying will not help. */
export class JobMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobMessageError';
  }
}

/** Parses a queue message body; throws JobMessageError when it is not one of ours. */
export function parseJobMessage(body: string): JobMessage {
  let m: Partial<JobMessage>;
  try {
    m = JSON.parse(body) as Partial<JobMessage>;
  } catch {
    throw new JobMessageError('job message is not JSON');
  }
  if (m.v !== 1 || typeof m.runId !== 'string' || typeof m.jobId !== 'string')
    throw new JobMessageError('not a revwatch job message (v, runId, jobId)');
  if (m.job && m.job.kind !== 'crl' && m.job.kind !== 'ocsp')
    throw new JobMessageError(`unknown job kind "${String((m.job as { kind?: unknown }).kind)}"`);
  return m as JobMessage;
}

/** Runs one queued job, counts it against its run, and finishes the run when it was the last. */
export async function runQueuedJob(deps: RunJobDeps, message: JobMessage, options: RunJobOptions = {}): Promise<RunJobResult> {
  const { store, clock } = deps;
  const known = await store.getOpenRun(message.runId, message.jobId);
  if (!known) throw new JobMessageError(`run ${message.runId} is unknown (expired, or never planned)`);
  if (known.jobDone) {
    // Delivered again after it was counted: nothing to ask (a second answer would only repeat the first),
    // but finish the run if the worker that counted the last job stopped before it could.
    const finished =
      known.run.remaining <= 0 && known.run.finishedAt === null ? await finishRun(deps, known.run, options.settledIntervalMs) : null;
    return {
      runId: message.runId,
      jobId: message.jobId,
      kind: message.job?.kind ?? null,
      duplicate: true,
      changes: [],
      failedSources: [],
      observationsWritten: 0,
      finished,
    };
  }
  let job = message.job;
  if (!job) {
    const payload = await store.getJobPayload(message.runId, message.jobId);
    if (!payload) throw new JobMessageError(`payload of job ${message.jobId} (run ${message.runId}) is not in the table`);
    job = JSON.parse(gunzipSync(payload).toString('utf8')) as QueuedJob;
  }
  const writtenBefore = store.itemsWritten;
  // Workers run concurrently: a certificate with several sources has several writers, which the recorder
  // handles with conditional writes (JobCertificate.sources).
  const goodAnswers = deps.goodAnswers?.({ runId: message.runId, runStartedAt: known.run.startedAt, jobId: message.jobId }) ?? null;
  const recorder = new ObservationRecorder(store, clock, {
    heartbeatMs: options.heartbeatMs,
    settledIntervalMs: options.settledIntervalMs,
    goodAnswers,
    settledPool: true,
  });
  const issuers = deps.issuers ?? new IssuerCache(store);
  const result =
    job.kind === 'crl'
      ? await executeCrlJob(deps, issuers, recorder, job.crl, options)
      : await executeOcspJobs(deps, issuers, recorder, job.ocsp, options);
  // The first flush reads the records of the certificates whose answer changed (queued jobs carry none): their
  // sources are where the last good answers are looked up, and the answers already recorded are not taken again.
  await recorder.flush();
  if (goodAnswers) {
    await recorder.carryInLastGood();
    await recorder.flush();
    // Before the job is counted: the run that follows this one (planned once it finishes) reads these answers.
    await goodAnswers.commit(clock.now().getTime());
  }
  // What the run's settled rounds need of this job, before it is counted (the finisher reads it).
  const failed = new Set(recorder.settledErrors);
  for (const f of result.failedSources) failed.add(sourceKey(f.kind, f.url));
  await store.addJobRoundOutcome(message.runId, message.jobId, { failed, joins: recorder.settledJoins }, known.run.startedAt + KEEP_MS);
  // The settled heartbeat stays as stored: the run's finisher writes it.
  await store.putJobSourceStates(result.sourceStates);
  const counts = {
    observationsWritten: recorder.observationsWritten,
    itemsWritten: store.itemsWritten - writtenBefore,
    sourcesFailed: result.failedSources.length,
  };
  const { run, duplicate } = await store.completeRunJob(message.runId, message.jobId, counts);
  const finished = run.remaining <= 0 && run.finishedAt === null ? await finishRun(deps, run, options.settledIntervalMs) : null;
  return {
    runId: message.runId,
    jobId: message.jobId,
    kind: job.kind,
    duplicate,
    changes: recorder.changes,
    failedSources: result.failedSources,
    observationsWritten: recorder.observationsWritten,
    finished,
  };
}

/** Records the run and announces it, once: the conditional claim picks one finisher among retried deliveries. */
async function finishRun(
  deps: { store: RunStore & RunLedger; clock: Clock; events: RunEvents },
  run: OpenRun,
  settledIntervalMs: number | undefined,
): Promise<RunRecord | null> {
  const finishedAt = deps.clock.now().getTime();
  // Before the run is recorded and claimed: a finisher that stops after this is repeated, and writes the same.
  const heartbeats = await advanceSettledRounds(deps.store, run, settledIntervalMs ?? DAY_MS);
  const record: RunRecord = {
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt,
    certificates: run.certificates,
    sourcesFailed: run.sourcesFailed,
    observationsWritten: run.observationsWritten,
    itemsWritten: run.itemsWritten + heartbeats + 1,
  };
  // Recorded before the claim: a retry after a crash here writes the same key again.
  await deps.store.recordRun(record);
  if (!(await deps.store.claimRunFinish(run.runId, finishedAt))) return null;
  await deps.events.checkCompleted(record);
  return record;
}

/**
 * Writes the settled heartbeat of each source whose round was in the run, or whose pool the run joined, from
 * the rounds as planned and every job's outcome (settled-round.ts advanceRounds); returns the states written.
 */
async function advanceSettledRounds(store: RunLedger, run: OpenRun, settledIntervalMs: number): Promise<number> {
  const planned = await store.getRunRound(run.runId);
  const outcome = await store.getRunRoundOutcome(run.runId);
  if (!planned && outcome.joins.size === 0) return 0;
  // No round planned, but the jobs put records into the pool: their sources' rounds are pulled in.
  const round = planned ?? { startedAt: run.startedAt, intervalMs: settledIntervalMs, due: [], joins: [], failed: [] };
  const keys = new Set<string>([...round.due.map(([key]) => key), ...round.joins.map(([key]) => key), ...outcome.joins.keys()]);
  const states = await store.getSourceStatesOf([...keys]);
  return store.setSettledHeartbeats(advanceRounds(round, (key) => states.get(key), outcome.failed, outcome.joins));
}
