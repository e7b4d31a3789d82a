/**
 * Check runs and their jobs: the unit of work a run is split into, the queue
 * that carries jobs to workers in AWS (locally one process runs them all),
 * the ledger that counts a fanned-out run's jobs, and the events announcing
 * finished runs. A job carries everything its executor needs to decide what
 * changed, so a worker reads nothing of the plan from the table but the issuer.
 */
import type { EvidenceRecord } from '../rules/evidence.js';
import type { RunRecord, SourceState, StoredCertificate } from './store.js';

/** The last answer recorded for a certificate from one source, reduced to what "changed" is judged on. */
export interface PreviousAnswer {
  /** `describeAnswer` of the observation. */
  readonly summary: string;
  readonly observedAt: number;
  /** The answer was verified and already past its nextUpdate when it was recorded. */
  readonly stale?: boolean;
}

export interface JobCertificate {
  readonly sha256: string;
  readonly serial: string;
  readonly notAfter: number;
  /** Every case that tracks this certificate: one observation serves them all. */
  readonly caseIds: readonly string[];
  /** The last answer recorded from this job's source. */
  readonly previous: PreviousAnswer | null;
  /**
   * The evidence record as planned (the same in every case that tracks the certificate) and each case's
   * copy of the certificate with the record's revision. Present when the planner's process runs the job
   * (local mode); left out of queued jobs, whose workers read the few records an answer changes.
   */
  readonly record?: EvidenceRecord;
  readonly cases?: readonly { readonly cert: StoredCertificate; readonly rev: number }[];
  /** How many sources the certificate has: with one, this job is the only writer of its record in a run. */
  readonly sources: number;
  /**
   * The CRLs its issuer disclosed in the CCADB, attached when it was planned (ccadb/match.ts): not part of
   * the stored certificate, but sources all the same, so its next due time (check/poll.ts) counts them: a
   * certificate settled as revoked by a disclosed CRL alone is asked once a day, not every run.
   */
  readonly disclosedCrlUrls?: readonly string[];
  readonly disclosedCrlsPartitioned?: boolean;
  /**
   * Asked in a settled round (check/settled-round.ts): an unchanged answer writes nothing for this
   * certificate, not even the daily heartbeat; the source's state confirms it.
   */
  readonly settled?: boolean;
}

/** One CRL URL (and issuer): fetched once for all of its certificates. */
export interface CrlJob {
  readonly kind: 'crl';
  readonly url: string;
  readonly issuerSha256: string;
  /** For the IDP scope check (RFC 5280 5.2.5): onlyContainsUserCerts / onlyContainsCACerts. */
  readonly certificatesAreCAs: boolean;
  /**
   * The CRL's last good state, whose validators (ETag, Last-Modified) a
   * conditional GET sends and which a 304 carries forward. Only set when every
   * certificate already has an answer from this CRL.
   */
  readonly conditional: SourceState | null;
  readonly certificates: readonly JobCertificate[];
  /** A shard of a partitioned CCADB disclosure: the CRL must carry a critical IDP naming this URL (RFC 5280 5.2.5). */
  readonly requireIdp?: boolean;
  /** The size of the CRL at this URL when it was last read (how many may be fetched beside it: check/crl-pool.ts). */
  readonly keptBytes?: number;
}

/** One OCSP request: one certificate at one responder. */
export interface OcspJob {
  readonly kind: 'ocsp';
  readonly url: string;
  readonly issuerSha256: string;
  readonly certificate: JobCertificate;
}

/** A run whose jobs are on the queue. */
export interface OpenRun {
  readonly runId: string;
  readonly startedAt: number;
  readonly jobs: number;
  readonly remaining: number;
  readonly certificates: number;
  readonly observationsWritten: number;
  readonly itemsWritten: number;
  readonly sourcesFailed: number;
  readonly finishedAt: number | null;
}

/**
 * A run's settled rounds as planned (check/settled-round.ts), kept with a fanned-out run for the worker that
 * finishes it: JSON as it is, an infinity written as null.
 */
export interface PlannedRound {
  readonly startedAt: number;
  readonly intervalMs: number;
  /** The sources whose round is in the run, each with the earliest last confirmation among the pooled certificates not asked (null: none). */
  readonly due: readonly (readonly [key: string, notAsked: number | null])[];
  /** Per source, the earliest latest answer among the certificates planning put into the pool (null: one had none). */
  readonly joins: readonly (readonly [key: string, latestAnsweredAt: number | null])[];
  /** Sources that do not advance in this run whatever its jobs answer (refused ones: plan.ts). */
  readonly failed: readonly string[];
}

/** The settled heartbeat of one source (SourceState's two fields), as a round leaves it. */
export interface SettledHeartbeat {
  readonly settledConfirmedAt: number | null;
  readonly settledDueAt: number | null;
}

/** What one job of a fanned-out run tells its settled rounds (source keys as ports/store.ts sourceKey). */
export interface JobRoundOutcome {
  /** Sources that gave an error: the job's source, or a settled certificate's answer. Their round does not advance. */
  readonly failed: ReadonlySet<string>;
  /** Per source, the earliest latest answer among the records the job put into the settled pool. */
  readonly joins: ReadonlyMap<string, number>;
}

/** Where a fanned-out run keeps count of its jobs, and where payloads too big for a message wait. */
export interface RunLedger {
  /** Creates the run (conditional: a run id is used once). `expiresAt` in epoch ms, for TTL. */
  openRun(run: OpenRun, expiresAt: number): Promise<void>;
  /** Counts one job as done; `duplicate` when it had been counted already. */
  completeRunJob(
    runId: string,
    jobId: string,
    counts: { observationsWritten: number; itemsWritten: number; sourcesFailed: number },
  ): Promise<{ run: OpenRun; duplicate: boolean }>;
  /** True for exactly one caller once no job is left. */
  claimRunFinish(runId: string, at: number): Promise<boolean>;
  /** The run, and whether this job has been counted in it; null when the run is unknown (expired). */
  getOpenRun(runId: string, jobId: string): Promise<{ run: OpenRun; jobDone: boolean } | null>;
  listOpenRuns(): Promise<OpenRun[]>;
  /** Returns how many items (parts) the payload took. */
  putJobPayload(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Promise<number>;
  getJobPayload(runId: string, jobId: string): Promise<Uint8Array | null>;

  // The settled rounds of a fanned-out run (check/settled-round.ts, check/fan-out.ts).
  /** Keeps the run's rounds as planned for its finisher. `expiresAt` in epoch ms, for TTL. */
  putRunRound(runId: string, round: PlannedRound, expiresAt: number): Promise<void>;
  /** The run's rounds as planned; null when it planned none. */
  getRunRound(runId: string): Promise<PlannedRound | null>;
  /**
   * Adds a job's outcome to its run, before the job is counted: a union, so a redelivered job neither loses
   * what an earlier delivery recorded nor counts anything twice, in whatever order the jobs end.
   */
  addJobRoundOutcome(runId: string, jobId: string, outcome: JobRoundOutcome, expiresAt: number): Promise<void>;
  /** Every job's outcome joined: the union of the failed sources, and per source the earliest join. */
  getRunRoundOutcome(runId: string): Promise<JobRoundOutcome>;
  /**
   * Writes the source states a job produced, each keeping the settled heartbeat stored with it: the heartbeat
   * is the run finisher's to write (setSettledHeartbeats).
   */
  putJobSourceStates(states: readonly SourceState[]): Promise<number>;
  /** The stored states of these sources (keys as ports/store.ts sourceKey); missing ones left out. */
  getSourceStatesOf(keys: readonly string[]): Promise<Map<string, SourceState>>;
  /** Sets the settled heartbeat of each stored source state, and nothing else of it; returns the states written. */
  setSettledHeartbeats(heartbeats: ReadonlyMap<string, SettledHeartbeat>): Promise<number>;
  /**
   * Writes part `part` (from 0) of a job's payload, for a planner that writes a big job as it plans it: the
   * payload read back is every part's bytes in order (gzip members concatenate into one gzip stream).
   */
  putJobPayloadPart(runId: string, jobId: string, part: number, data: Uint8Array, expiresAt: number): Promise<void>;
  /** Counts `jobs` more jobs (and `certificates` more certificates) in an open, unfinished run, before they are queued. */
  addRunJobs(runId: string, jobs: number, certificates: number): Promise<void>;
}

export type QueuedJob = { readonly kind: 'crl'; readonly crl: CrlJob } | { readonly kind: 'ocsp'; readonly ocsp: readonly OcspJob[] };

/** One queue message. Without `job`, the payload was too big and waits in the table (RunLedger.getJobPayload). */
export interface JobMessage {
  readonly v: 1;
  readonly runId: string;
  readonly jobId: string;
  readonly job?: QueuedJob;
}

export interface JobQueue {
  enqueue(messages: readonly JobMessage[]): Promise<void>;
}

/** Announces finished runs (EventBridge in AWS): the notifier listens. */
export interface RunEvents {
  checkCompleted(run: RunRecord): Promise<void>;
}
