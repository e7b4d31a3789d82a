/**
 * A sweep run fanned out across the job queue (AWS; sweep/fan-out.ts): the sweep planner opens it with its
 * job count, each worker counts its job once however often the queue delivers it, and the worker that
 * counts the last one records the run and announces it, once. The same countdown as a check run's
 * (ports/runs.ts, OpenRun), kept apart from it: the check planner holds a new check run while any open
 * check run has jobs left, and a 4-hourly sweep must not hold the 15-minute checks.
 *
 * Each job reads and writes only the state of its own URLs, so workers never write one another's items.
 */
import type { HealthFindingState, IssuerInfo, SweepRun, UrlState } from './revocation-index.js';

export interface OpenSweep {
  readonly sweep: number;
  readonly startedAt: number;
  readonly jobs: number;
  readonly remaining: number;
  /** Counted as the jobs finish. */
  readonly urls: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly faults: number;
  readonly finishedAt: number | null;
}

export interface SweepJobCounts {
  readonly urls: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly faults: number;
}

export interface SweepLedger {
  /** The highest sweep number recorded or opened; 0 before the first. */
  lastSweep(): Promise<number>;
  /** False when that sweep number is taken (another planner got there first). */
  openSweep(run: OpenSweep, expiresAt: number): Promise<boolean>;
  openSweeps(): Promise<OpenSweep[]>;
  getOpenSweep(sweep: number, jobId: string): Promise<{ run: OpenSweep; jobDone: boolean } | null>;
  completeSweepJob(sweep: number, jobId: string, counts: SweepJobCounts): Promise<{ run: OpenSweep; duplicate: boolean }>;
  /** True for exactly one caller, once every job is counted. */
  claimSweepFinish(sweep: number, at: number): Promise<boolean>;
  recordSweep(run: SweepRun): Promise<void>;

  /** The state of these URLs (absent: never read). */
  urlStates(urls: readonly string[]): Promise<Map<string, UrlState>>;
  putUrlState(state: UrlState): Promise<void>;
  /** One URL's CRL-health findings, keyed as the sweep keys them (code, URL, subject). */
  healthOf(url: string): Promise<Record<string, HealthFindingState>>;
  putHealth(findings: Readonly<Record<string, HealthFindingState>>): Promise<void>;
  putIssuers(issuers: readonly IssuerInfo[]): Promise<void>;
}

/** The "Sweep Completed" event (in AWS, on the bus the notifier and digest listen to). */
export interface SweepEvents {
  sweepCompleted(run: SweepRun): Promise<void>;
}

/** Where CRL-health notices are claimed and marked sent (notify/crl-health-notices.ts; store/table-sweep-state.ts in AWS). */
export interface HealthNoticeLedger {
  /** Claims the notice unless it was sent or is claimed under a live lease; true when this caller holds it. */
  claimHealthNotice(noticeKey: string, sweep: number, now: number, leaseMs: number): Promise<boolean>;
  markHealthNoticeSent(noticeKey: string, sweep: number, now: number): Promise<void>;
  releaseHealthNotice(noticeKey: string, sweep: number): Promise<void>;
}
