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
  CrlJob,
  JobQueue,
  OcspJob,
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
import { crlJobKey, planCheck, type CheckPlan, type PlanOptions } from './plan.js';
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
  /** A big CRL job's certificates go to the table in parts of about this much JSON (256 KiB: gzipped, well within an item). */
  readonly jobPartJsonBytes?: number;
  /** At most about this much certificate JSON waits for its part, over every CRL job of the run (16 MiB). */
  readonly waitingJsonBytes?: number;
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
  /** Items those payloads took (a CRL job's certificates are written in parts as they are planned). */
  readonly payloadParts: number;
  /** The most certificates the planner held at once, waiting for their payload part or OCSP batch: its working set. */
  readonly certificatesHeldPeak: number;
  /** Set when the run had nothing to do and was finished at once. */
  readonly finished: RunRecord | null;
}

const HOUR = 3_600_000;
/** Open runs and job payloads are kept two days (TTL), long enough for any retry. */
const KEEP_MS = 48 * HOUR;
/**
 * The planner's own job in its run: the run is opened before planning (the OCSP batches are queued as they are
 * planned, and their workers must find it) and cannot finish until planning is done and this job is counted.
 */
const PLANNING_JOB = 'planning';
/** A big CRL job's certificates are written in parts of about this much JSON: gzipped, well within an item (400 KB). */
const PART_JSON_BYTES = 256 * 1024;
/** At most about this much certificate JSON waits in the planner for its part, over every CRL job of the run. */
const WAITING_JSON_BYTES = 16 * 1024 * 1024;

/**
 * Plans a run and puts its jobs on the queue, holding a bounded working set at any size (issue 29): the plan is
 * streamed (plan.ts PlanOptions.stream) and nothing of a run's certificates is kept past its part. A CRL job
 * is still one job per URL and issuer, so its CRL is fetched once per run and its conditional GET is decided on
 * all of its certificates: its certificates are written to the table in parts as they are planned, and its one
 * message is queued once the last shard is planned. OCSP batches are queued shard by shard.
 */
export async function planRun(deps: PlanRunDeps, options: PlanRunOptions = {}): Promise<PlanRunResult> {
  const { store, clock } = deps;
  const now = clock.now().getTime();
  const runTimeout = options.runTimeoutMs ?? HOUR;
  const busy = (await store.listOpenRuns()).find((r) => r.finishedAt === null && r.remaining > 0 && r.startedAt > now - runTimeout);
  if (busy) {
    return {
      certificates: 0,
      notDue: 0,
      retiredExpired: 0,
      crlJobs: 0,
      ocspBatches: 0,
      ocspRequests: 0,
      payloadsInTable: 0,
      payloadParts: 0,
      certificatesHeldPeak: 0,
      finished: null,
      runId: null,
      skipped: `run ${busy.runId} started ${iso(busy.startedAt)} still has ${busy.remaining} of ${busy.jobs} job(s) left`,
    };
  }

  const runId = randomUUID();
  const expiresAt = now + KEEP_MS;
  await store.openRun(
    {
      runId,
      startedAt: now,
      jobs: 0,
      remaining: 1, // PLANNING_JOB
      certificates: 0,
      observationsWritten: 0,
      itemsWritten: 0,
      sourcesFailed: 0,
      finishedAt: null,
    },
    expiresAt,
  );
  const jobs = new StreamedJobs(deps, runId, expiresAt, {
    maxInline: options.maxInlineBytes ?? 200 * 1024,
    batchSize: options.ocspBatchSize ?? 100,
    partJsonBytes: options.jobPartJsonBytes ?? PART_JSON_BYTES,
    waitingJsonBytes: options.waitingJsonBytes ?? WAITING_JSON_BYTES,
  });
  // Lean: the queued jobs carry no records, so none is kept past the shard of the polling index it was read in.
  const plan = await planCheck(store, now, {
    ...options,
    lean: true,
    settledPool: true,
    stream: jobs,
    onOcspJobs: (planned) => {
      jobs.ocsp(planned);
      options.onOcspJobs?.(planned);
    },
  });
  // Kept before the planning job is counted done: the run's finisher reads it.
  await keepSettledRound(store, runId, plan, expiresAt);
  await jobs.finish(plan.crlJobs, plan.certificates);
  const { run } = await store.completeRunJob(runId, PLANNING_JOB, { observationsWritten: 0, itemsWritten: 0, sourcesFailed: 0 });
  // With no job at all, or every job already done by the workers while the CRL jobs were queued.
  const finished = run.remaining <= 0 && run.finishedAt === null ? await finishRun(deps, run, options.settledIntervalMs) : null;
  return {
    runId,
    skipped: null,
    certificates: plan.certificates,
    notDue: plan.notDue,
    retiredExpired: plan.retiredExpired,
    crlJobs: plan.crlJobs.length,
    ocspBatches: jobs.ocspBatches,
    ocspRequests: jobs.ocspRequests,
    payloadsInTable: jobs.payloadsInTable,
    payloadParts: jobs.payloadParts,
    certificatesHeldPeak: jobs.heldPeak,
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

/**
 * A certificate as a queued job carries it: no record (most answers do not change, and a worker reads the records
 * of those that do), and its cases sorted, so a job does not depend on the order the polling index handed over
 * a certificate's entries (entries due at the same instant come in no fixed order).
 */
export const leanCertificate = (c: JobCertificate): JobCertificate => ({
  sha256: c.sha256,
  serial: c.serial,
  notAfter: c.notAfter,
  caseIds: [...c.caseIds].sort(),
  previous: c.previous,
  sources: c.sources,
  ...(c.settled ? { settled: true } : {}),
  ...(c.disclosedCrlUrls ? { disclosedCrlUrls: c.disclosedCrlUrls, disclosedCrlsPartitioned: c.disclosedCrlsPartitioned } : {}),
});

/** A CRL job being planned: its certificates' JSON waiting for the next part, and the parts written. */
interface CrlJobInProgress {
  readonly jobId: string;
  waiting: string[];
  waitingBytes: number;
  parts: number;
  /** Certificates in the parts written. */
  written: number;
}

/**
 * The jobs of one run as they are planned. A CRL job's payload is the JSON of its QueuedJob with the
 * certificates first: `{"kind":"crl","crl":{"certificates":[…],<the rest of the CrlJob>}}`, each part one gzip
 * member of it, so the parts read back in order gunzip to that JSON (fan-out.ts runQueuedJob reads any payload
 * so). The rest of the job (the conditional GET, which needs every certificate planned) closes the last part.
 * A job small enough for a message, never written, goes in its message as before.
 */
class StreamedJobs {
  ocspBatches = 0;
  ocspRequests = 0;
  payloadsInTable = 0;
  payloadParts = 0;
  heldPeak = 0;
  private held = 0;
  private jobCount = 0;
  private readonly crlJobs = new Map<string, CrlJobInProgress>();
  private waitingBytes = 0;
  /** Per responder host, OCSP jobs planned but not yet in a full batch, in certificate order. */
  private readonly ocspWaiting = new Map<string, OcspJob[]>();
  private ocspPlanned: OcspJob[] = [];

  constructor(
    private readonly deps: PlanRunDeps,
    private readonly runId: string,
    private readonly expiresAt: number,
    private readonly bounds: { maxInline: number; batchSize: number; partJsonBytes: number; waitingJsonBytes: number },
  ) {}

  /** Counts certificates taken in (positive) or let go (negative). */
  private hold(n: number): void {
    this.held += n;
    if (this.held > this.heldPeak) this.heldPeak = this.held;
  }

  private nextJobId(): string {
    return `j${this.jobCount++}`;
  }

  async crl(jobKey: string, certificate: JobCertificate): Promise<void> {
    let job = this.crlJobs.get(jobKey);
    if (!job) {
      job = { jobId: this.nextJobId(), waiting: [], waitingBytes: 0, parts: 0, written: 0 };
      this.crlJobs.set(jobKey, job);
    }
    const json = JSON.stringify(leanCertificate(certificate));
    job.waiting.push(json);
    job.waitingBytes += json.length + 1;
    this.waitingBytes += json.length + 1;
    this.hold(1);
    if (job.waitingBytes >= this.bounds.partJsonBytes) await this.writePart(job, '');
    else if (this.waitingBytes > this.bounds.waitingJsonBytes) {
      // Many URLs each short of a part: the biggest are written early, so what waits stays bounded.
      const biggest = [...this.crlJobs.values()].filter((j) => j.waitingBytes > 0).sort((a, b) => b.waitingBytes - a.waitingBytes);
      for (const j of biggest) {
        if (this.waitingBytes <= this.bounds.waitingJsonBytes / 2) break;
        await this.writePart(j, '');
      }
    }
  }

  /** The JSON of the job's waiting certificates as its next part continues it, then `tail`. */
  private partJson(job: CrlJobInProgress, tail: string): string {
    const head = job.parts === 0 ? '{"kind":"crl","crl":{"certificates":[' : job.written > 0 && job.waiting.length > 0 ? ',' : '';
    return head + job.waiting.join(',') + tail;
  }

  private async writePart(job: CrlJobInProgress, tail: string): Promise<void> {
    const json = this.partJson(job, tail);
    await this.deps.store.putJobPayloadPart(this.runId, job.jobId, job.parts, gzipSync(json), this.expiresAt);
    job.parts++;
    this.payloadParts++;
    this.hold(-job.waiting.length);
    job.written += job.waiting.length;
    this.waitingBytes -= job.waitingBytes;
    job.waiting = [];
    job.waitingBytes = 0;
  }

  /** OCSP jobs as planned (onOcspJobs): kept, per host, until their shard is planned. */
  ocsp(planned: readonly OcspJob[]): void {
    for (const j of planned) this.ocspPlanned.push({ ...j, certificate: leanCertificate(j.certificate) });
    this.hold(planned.length);
  }

  /**
   * After each shard: each host's OCSP jobs in certificate order, so the good answers each batch logs cover a
   * range of certificates no other batch of the run overlaps and a lookup reads one object
   * (src/adapters/aws/s3-good-answer-log.ts). Shards come in SHA-256 order, so sorting what waits with the
   * shard's makes the same batches as sorting the whole run: full batches are queued now, the rest waits.
   */
  async shardPlanned(): Promise<void> {
    const batches: OcspJob[][] = [];
    for (const [host, planned] of groupByHost(this.ocspPlanned)) {
      const hostJobs = [...(this.ocspWaiting.get(host) ?? []), ...planned].sort(bySha256);
      const { batchSize } = this.bounds;
      const full = hostJobs.length - (hostJobs.length % batchSize);
      for (let i = 0; i < full; i += batchSize) batches.push(hostJobs.slice(i, i + batchSize));
      this.ocspWaiting.set(host, hostJobs.slice(full));
    }
    this.ocspPlanned = [];
    await this.queueOcsp(batches);
  }

  private async queueOcsp(batches: readonly OcspJob[][]): Promise<void> {
    if (batches.length === 0) return;
    const messages: JobMessage[] = [];
    for (const ocsp of batches) {
      messages.push(await this.message(this.nextJobId(), { kind: 'ocsp', ocsp }));
      this.ocspRequests += ocsp.length;
    }
    this.ocspBatches += batches.length;
    this.hold(-batches.reduce((n, b) => n + b.length, 0));
    // Counted before they are queued: a worker that finishes them must find them in the run's count.
    await this.deps.store.addRunJobs(this.runId, messages.length, 0);
    await this.deps.queue.enqueue(messages);
  }

  private async message(jobId: string, job: QueuedJob): Promise<JobMessage> {
    const json = JSON.stringify(job);
    if (Buffer.byteLength(json) <= this.bounds.maxInline) return { v: 1, runId: this.runId, jobId, job };
    this.payloadParts += await this.deps.store.putJobPayload(this.runId, jobId, gzipSync(json), this.expiresAt);
    this.payloadsInTable++;
    return { v: 1, runId: this.runId, jobId };
  }

  /** Once every shard is planned: the last OCSP batches, then each CRL job closed and queued. */
  async finish(heads: readonly CrlJob[], certificates: number): Promise<void> {
    await this.shardPlanned();
    const rest = [...this.ocspWaiting.values()].filter((jobs) => jobs.length > 0);
    this.ocspWaiting.clear();
    await this.queueOcsp(rest);
    await this.deps.store.addRunJobs(this.runId, heads.length, certificates);
    let messages: JobMessage[] = [];
    for (const head of heads) {
      const job = this.crlJobs.get(crlJobKey(head.url, head.issuerSha256));
      if (!job) throw new Error(`CRL job ${head.url} was planned without certificates`);
      this.crlJobs.delete(crlJobKey(head.url, head.issuerSha256));
      const { certificates: _none, ...rest } = head;
      const tail = `],${JSON.stringify(rest).slice(1)}}`;
      const whole = job.parts === 0 ? this.partJson(job, tail) : null;
      if (whole !== null && Buffer.byteLength(whole) <= this.bounds.maxInline) {
        messages.push({ v: 1, runId: this.runId, jobId: job.jobId, job: JSON.parse(whole) as QueuedJob });
        this.hold(-job.waiting.length);
      } else {
        await this.writePart(job, tail);
        messages.push({ v: 1, runId: this.runId, jobId: job.jobId });
        this.payloadsInTable++;
      }
      if (messages.length >= 10) {
        await this.deps.queue.enqueue(messages);
        messages = [];
      }
    }
    if (messages.length > 0) await this.deps.queue.enqueue(messages);
  }
}

const bySha256 = (a: OcspJob, b: OcspJob): number =>
  a.certificate.sha256 < b.certificate.sha256 ? -1 : a.certificate.sha256 > b.certificate.sha256 ? 1 : 0;

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
