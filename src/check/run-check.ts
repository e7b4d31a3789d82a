/**
 * One check run in one process: plan which certificates need asking, run
 * every CRL job (one fetch per URL for all of its serials) and the OCSP jobs
 * (per-host limits), and record what changed. The AWS planner and worker
 * split the same steps across a queue (see fan-out.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Case, Observation } from '../domain.js';
import type { SourceState } from '../store/store.js';
import { judge, type Verdict } from '../rules/verdict.js';
import { executeCrlJob, executeOcspJobs, IssuerCache, ObservationRecorder, type Change, type ExecuteDeps, type ExecuteOptions, type FailedSource } from './execute.js';
import { lastAnswerKey, planCheck } from './plan.js';

export type { Change, ProgressSink } from './execute.js';

/** A local run needs what executing its jobs needs. */
export type CheckDeps = ExecuteDeps;

export interface CheckOptions extends ExecuteOptions {
  readonly caseId?: string;
  /** A settled (verified revoked) certificate is asked again this often, to catch a reversed revocation. */
  readonly settledIntervalMs?: number;
  /** Unchanged answers are still recorded this often, as heartbeats. */
  readonly heartbeatMs?: number;
}

export interface CheckSummary {
  readonly runId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly certificates: number;
  readonly skippedExpired: number;
  readonly skippedSettled: number;
  readonly crlsFetched: number;
  readonly ocspRequests: number;
  readonly changes: readonly Change[];
  readonly failedSources: readonly FailedSource[];
  readonly observationsWritten: number;
  readonly itemsWritten: number;
  /**
   * Verdicts judged on each certificate's latest answers. `revwatch status`
   * weighs the whole history (e.g. evidence of backdating), so a backdated
   * revocation can count as on time here and late there.
   */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /** Where the time went, in milliseconds. */
  readonly timings: { readonly plan: number; readonly crl: number; readonly ocsp: number; readonly write: number };
}

export async function runCheck(deps: CheckDeps, options: CheckOptions = {}): Promise<CheckSummary> {
  const { store, clock } = deps;
  const startedAt = clock.now().getTime();
  const runId = randomUUID();
  const writtenBefore = store.itemsWritten;

  const plan = await planCheck(store, startedAt, options);
  const planDone = clock.now().getTime();

  const latest = new Map<string, Observation>(plan.last);
  const recorder = new ObservationRecorder(store, clock, {
    heartbeatMs: options.heartbeatMs,
    onObservation: (cert, o) => {
      for (const caseId of cert.caseIds) latest.set(lastAnswerKey(caseId, cert.sha256, o.source.kind, o.source.url), o);
    },
  });
  const issuers = new IssuerCache(store);
  const sourceStates: SourceState[] = [];
  const failedSources: FailedSource[] = [];
  const collect = (r: { sourceStates: readonly SourceState[]; failedSources: readonly FailedSource[] }): void => {
    sourceStates.push(...r.sourceStates);
    failedSources.push(...r.failedSources);
  };
  deps.progress?.start(plan.crlJobs.length + plan.ocspJobs.length, 'checking');
  let crlsFetched = 0;
  for (const job of plan.crlJobs) {
    const r = await executeCrlJob(deps, issuers, recorder, job, options);
    if (r.sourceStates.length > 0) crlsFetched++;
    collect(r);
    deps.progress?.increment();
  }
  const crlDone = clock.now().getTime();
  collect(await executeOcspJobs(deps, issuers, recorder, plan.ocspJobs, options));
  const ocspDone = clock.now().getTime();

  await recorder.flush();
  await store.putSourceStates(sourceStates);
  deps.progress?.stop();

  const verdicts: Record<Verdict, number> = { pending: 0, overdue: 0, revoked_on_time: 0, revoked_late: 0, expired: 0, expired_overdue: 0, no_deadline: 0, undetermined: 0 };
  const casesById = new Map<string, Case>(plan.cases.map((c) => [c.id, c]));
  const judgedAt = clock.now().getTime();
  for (const { cert: c, caseIds } of plan.refs.values()) {
    for (const caseId of caseIds) {
      const answers = [...c.crlUrls.map((u) => latest.get(lastAnswerKey(caseId, c.sha256, 'crl', u))), ...c.ocspUrls.map((u) => latest.get(lastAnswerKey(caseId, c.sha256, 'ocsp', u)))].filter(
        (o): o is Observation => o !== undefined,
      );
      verdicts[judge(casesById.get(caseId)!, c, answers, judgedAt).verdict]++;
    }
  }
  const finishedAt = clock.now().getTime();
  const itemsWritten = store.itemsWritten - writtenBefore + 1;
  const observationsWritten = recorder.observationsWritten;
  await store.recordRun({ runId, startedAt, finishedAt, certificates: plan.certificates, sourcesFailed: failedSources.length, observationsWritten, itemsWritten });
  return {
    runId,
    startedAt,
    finishedAt,
    certificates: plan.certificates,
    skippedExpired: plan.skippedExpired,
    skippedSettled: plan.skippedSettled,
    crlsFetched,
    ocspRequests: plan.ocspJobs.length,
    changes: recorder.changes,
    failedSources,
    observationsWritten,
    itemsWritten,
    verdicts,
    timings: { plan: planDone - startedAt, crl: crlDone - planDone, ocsp: ocspDone - crlDone, write: finishedAt - ocspDone },
  };
}
