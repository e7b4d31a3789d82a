/**
 * The sweep in AWS (issue 27 item 5): the sweep planner (functions/sweeper.ts) puts one queue message per
 * CRL URL, small CRLs batched, and the check workers (functions/worker.ts) read them with the local
 * sweep's own readTarget (sweep.ts): fetched conditionally, verified against the disclosing CA certificate,
 * kept in the evidence archive, folded into the revocation index, judged for health. The run counts down as
 * the check's does (check/fan-out.ts): each job is counted once however often the queue delivers it, and the
 * worker that counts the last one records the sweep run and announces "Sweep Completed", once.
 *
 * A job reads and writes only its own URLs' state and findings, so workers never overwrite each other.
 */
import type { Clock, Fetcher, JobMessage, JobQueue } from '../ports/index.js';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { RevocationIndexStore, SweepRun, UrlState } from '../ports/revocation-index.js';
import type { OpenSweep, SweepEvents, SweepLedger } from '../ports/sweep-runs.js';
import type { StoredDisclosure } from '../ccadb/store.js';
import { iso } from '../time.js';
import { readTarget, withCaCertificates, type SweepDeps, type UrlResult } from './sweep.js';
import { caCertificateOf, sweepTargets, type SweepTarget } from './targets.js';

const HOUR = 3_600_000;
/** Open sweeps are kept two days (TTL), long enough for any retry. */
const KEEP_MS = 48 * HOUR;
/** A CRL this small (when last read) shares a message with others; a bigger one gets a worker to itself. */
export const SMALL_CRL_BYTES = 1024 * 1024;
/** Small CRLs per message: one worker invocation reads them one after another. */
export const SWEEP_BATCH_URLS = 16;
/** SQS takes 256 KiB per message: a batch is closed before its JSON passes this. */
const MAX_MESSAGE_BYTES = 200 * 1024;

/** A target as a message carries it: the CA certificates as PEM, parsed again by the worker. */
export interface QueuedSweepTarget {
  readonly url: string;
  readonly shard: boolean;
  readonly owner: string;
  readonly siblings: readonly string[];
  readonly disclosures: readonly string[];
  readonly caCertificates: readonly {
    readonly sha256: string;
    readonly pem: string;
    readonly subjectKeyId: string | null;
    readonly name: string;
  }[];
}

export interface SweepJobMessage extends JobMessage {
  readonly sweepJob: { readonly sweep: number; readonly targets: readonly QueuedSweepTarget[] };
}

/** A queue message body that is a sweep job (the worker tells them from check jobs by this). */
export function parseSweepJobMessage(body: string): SweepJobMessage | null {
  let m: Partial<SweepJobMessage>;
  try {
    m = JSON.parse(body) as Partial<SweepJobMessage>;
  } catch {
    return null;
  }
  if (m.v !== 1 || typeof m.jobId !== 'string' || !m.sweepJob || typeof m.sweepJob.sweep !== 'number' || !Array.isArray(m.sweepJob.targets))
    return null;
  return m as SweepJobMessage;
}

const sweepRunId = (sweep: number): string => `sweep-${sweep}`;

export interface PlanSweepDeps {
  readonly disclosures: SweepDeps['disclosures'];
  readonly ledger: SweepLedger;
  readonly queue: JobQueue;
  readonly events: SweepEvents;
  readonly clock: Clock;
}

export interface PlanSweepResult {
  readonly sweep: number | null;
  /** Why no sweep was started, or null. */
  readonly skipped: string | null;
  readonly urls: number;
  readonly jobs: number;
  /** Set when there was nothing to read and the sweep was finished at once. */
  readonly finished: SweepRun | null;
}

/** Opens a sweep run over every disclosed CRL URL and queues its jobs. */
export async function planSweep(deps: PlanSweepDeps, options: { runTimeoutMs?: number } = {}): Promise<PlanSweepResult> {
  const { ledger, clock } = deps;
  const now = clock.now().getTime();
  const timeout = options.runTimeoutMs ?? 4 * HOUR;
  const busy = (await ledger.openSweeps()).find((r) => r.finishedAt === null && r.remaining > 0 && r.startedAt > now - timeout);
  if (busy)
    return {
      sweep: null,
      skipped: `sweep ${busy.sweep} started ${iso(busy.startedAt)} still has ${busy.remaining} of ${busy.jobs} job(s) left`,
      urls: 0,
      jobs: 0,
      finished: null,
    };
  const disclosed = await withCaCertificates(await deps.disclosures.current(), deps.disclosures);
  const targets = sweepTargets(disclosed, {});
  const pemOf = new Map(disclosed.filter((d) => d.pem).map((d) => [d.sha256, d] as const));
  const issuers = new Map<string, { issuerKey: string; subjectKeyId: string | null; caSha256: string[]; name: string; owner: string }>();
  for (const t of targets)
    for (const c of t.caCertificates) {
      const known = issuers.get(c.issuerKey);
      issuers.set(c.issuerKey, {
        issuerKey: c.issuerKey,
        subjectKeyId: c.subjectKeyId ?? known?.subjectKeyId ?? null,
        caSha256: [...new Set([...(known?.caSha256 ?? []), c.sha256])].sort(),
        name: c.name,
        owner: c.owner,
      });
    }
  await ledger.putIssuers([...issuers.values()]);

  const states = await ledger.urlStates(targets.map((t) => t.url));
  const queued = (t: SweepTarget): QueuedSweepTarget => ({
    url: t.url,
    shard: t.shard,
    owner: t.owner,
    siblings: t.siblings,
    disclosures: t.disclosures,
    caCertificates: t.caCertificates.map((c) => ({
      sha256: c.sha256,
      pem: (pemOf.get(c.sha256) as StoredDisclosure).pem!,
      subjectKeyId: c.subjectKeyId,
      name: c.name,
    })),
  });
  // Big CRLs (by their last read) alone, the rest in batches: a never-read URL counts as small.
  const batches: QueuedSweepTarget[][] = [];
  let open: QueuedSweepTarget[] = [];
  let openBytes = 0;
  for (const t of targets) {
    const q = queued(t);
    const size = Buffer.byteLength(JSON.stringify(q));
    if ((states.get(t.url)?.bytes ?? 0) > SMALL_CRL_BYTES) {
      batches.push([q]);
      continue;
    }
    if (open.length > 0 && (open.length === SWEEP_BATCH_URLS || openBytes + size > MAX_MESSAGE_BYTES)) {
      batches.push(open);
      open = [];
      openBytes = 0;
    }
    open.push(q);
    openBytes += size;
  }
  if (open.length > 0) batches.push(open);

  const sweep = (await ledger.lastSweep()) + 1;
  const run: OpenSweep = {
    sweep,
    startedAt: now,
    jobs: batches.length,
    remaining: batches.length,
    urls: 0,
    changed: 0,
    unchanged: 0,
    faults: 0,
    finishedAt: null,
  };
  if (!(await ledger.openSweep(run, now + KEEP_MS)))
    return { sweep: null, skipped: `sweep ${sweep} was opened by another planner`, urls: 0, jobs: 0, finished: null };
  const messages: SweepJobMessage[] = batches.map((targets, i) => ({
    v: 1,
    runId: sweepRunId(sweep),
    jobId: `s${i}`,
    sweepJob: { sweep, targets },
  }));
  const finished = batches.length === 0 ? await finishSweep(deps, run) : null;
  await deps.queue.enqueue(messages);
  return { sweep, skipped: null, urls: targets.length, jobs: batches.length, finished };
}

export interface RunSweepJobDeps {
  readonly ledger: SweepLedger;
  readonly index: RevocationIndexStore;
  readonly fetcher: Fetcher;
  readonly clock: Clock;
  readonly events: SweepEvents;
  /** The evidence archive: each new CRL is kept by hash, and the previous one is read back to diff against. */
  readonly archive: EvidenceArchive;
}

export interface RunSweepJobResult {
  readonly sweep: number;
  readonly jobId: string;
  readonly duplicate: boolean;
  readonly results: readonly Omit<UrlResult, 'owner'>[];
  /** Set when this job was the sweep's last. */
  readonly finished: SweepRun | null;
}

/** Thrown for a sweep message that can never succeed (its sweep is unknown); retrying will not help. */
export class SweepJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepJobError';
  }
}

/** Reads one job's URLs, counts the job against its sweep, and finishes the sweep when it was the last. */
export async function runSweepJob(deps: RunSweepJobDeps, message: SweepJobMessage): Promise<RunSweepJobResult> {
  const { ledger } = deps;
  const { sweep, targets } = message.sweepJob;
  const known = await ledger.getOpenSweep(sweep, message.jobId);
  if (!known) throw new SweepJobError(`sweep ${sweep} is unknown (expired, or never planned)`);
  if (known.jobDone) {
    // Delivered again after it was counted: finish the sweep if the worker that counted the last job stopped first.
    const finished = known.run.remaining <= 0 && known.run.finishedAt === null ? await finishSweep(deps, known.run) : null;
    return { sweep, jobId: message.jobId, duplicate: true, results: [], finished };
  }
  const states = await ledger.urlStates(targets.map((t) => t.url));
  const results: Omit<UrlResult, 'owner'>[] = [];
  // One URL at a time: a job of one big CRL holds it in memory; a batch of small ones is quick in turn.
  for (const t of targets) {
    const { owner: _owner, ...result } = await readOne(deps, t, states.get(t.url) ?? null, sweep);
    results.push(result);
  }
  const counts = {
    urls: results.length,
    changed: results.filter((r) => r.outcome === 'changed').length,
    unchanged: results.filter((r) => r.outcome === 'unchanged').length,
    faults: results.filter((r) => r.outcome === 'fault').length,
  };
  const { run, duplicate } = await ledger.completeSweepJob(sweep, message.jobId, counts);
  const finished = run.remaining <= 0 && run.finishedAt === null ? await finishSweep(deps, run) : null;
  return { sweep, jobId: message.jobId, duplicate, results, finished };
}

async function readOne(deps: RunSweepJobDeps, queued: QueuedSweepTarget, previous: UrlState | null, sweep: number): Promise<UrlResult> {
  const caCertificates = queued.caCertificates.flatMap((c) => {
    const cert = caCertificateOf({
      sha256: c.sha256,
      pem: c.pem,
      subjectKeyId: c.subjectKeyId,
      name: c.name,
      owner: queued.owner,
    } as StoredDisclosure);
    return cert ? [cert] : [];
  });
  const target: SweepTarget = { ...queued, caCertificates };
  // The previous snapshot from the archive, to diff against; without it the validators are not sent (readTarget).
  const previousBytes = previous?.sha256 ? await deps.archive.getCrl(previous.sha256) : null;
  const heldSha = previousBytes ? previous!.sha256 : null;
  const evidence: SweepDeps['evidence'] = {
    saveCrl: (sha256, bytes) => deps.archive.putCrl(sha256, bytes),
    crlPath: (sha256) => (sha256 === heldSha ? `crls/${sha256}.crl` : null),
    readCrl: (sha256) => (sha256 === heldSha ? previousBytes : null),
  };
  const urls: Record<string, UrlState> = previous ? { [queued.url]: previous } : {};
  const health = await deps.ledger.healthOf(queued.url);
  const before = JSON.stringify(health);
  const sweepDeps = { fetcher: deps.fetcher, clock: deps.clock, index: deps.index, evidence } as SweepDeps;
  const result = await readTarget(sweepDeps, {}, target, urls, health, sweep);
  if (urls[queued.url]) await deps.ledger.putUrlState(urls[queued.url]!);
  if (JSON.stringify(health) !== before) await deps.ledger.putHealth(health);
  return result;
}

/** Records the sweep run and announces it, once: the conditional claim picks one finisher among retried deliveries. */
async function finishSweep(deps: { ledger: SweepLedger; clock: Clock; events: SweepEvents }, run: OpenSweep): Promise<SweepRun | null> {
  const finishedAt = deps.clock.now().getTime();
  const record: SweepRun = {
    sweep: run.sweep,
    startedAt: run.startedAt,
    finishedAt,
    urls: run.urls,
    changed: run.changed,
    unchanged: run.unchanged,
    faults: run.faults,
  };
  // Recorded before the claim: a retry after a crash here writes the same key again.
  await deps.ledger.recordSweep(record);
  if (!(await deps.ledger.claimSweepFinish(run.sweep, finishedAt))) return null;
  await deps.events.sweepCompleted(record);
  return record;
}
