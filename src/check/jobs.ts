/**
 * Check jobs: the unit of work a run is split into. Locally one process runs
 * every job of a run; in AWS the planner puts them on a queue and workers run
 * them. A job carries everything its executor needs to decide what changed,
 * so a worker reads nothing of the plan from the table but the issuer.
 */
import type { Observation } from '../domain.js';
import type { OcspJob, PreviousAnswer } from '../ports/index.js';
import { groupBy } from '../util/group-by.js';

/** The change summary of an observation: two observations with the same summary are "unchanged". */
export function describeAnswer(o: Pick<Observation, 'status' | 'revocationTime' | 'reasonCode' | 'error'> | undefined): string {
  if (!o) return 'none';
  if (o.status === 'revoked') return `revoked@${new Date(o.revocationTime ?? 0).toISOString()}/${o.reasonCode ?? '-'}`;
  if (o.status === 'error') return `error:${o.error?.kind ?? '?'}`;
  return o.status;
}

export const previousAnswer = (o: Observation | undefined): PreviousAnswer | null =>
  o ? { summary: describeAnswer(o), observedAt: o.observedAt, ...(servedStale(o) ? { stale: true } : {}) } : null;

/** A verified answer served after its own nextUpdate (the stale_response finding). */
export function servedStale(o: Pick<Observation, 'status' | 'nextUpdate' | 'observedAt'>): boolean {
  return o.status !== 'error' && o.nextUpdate !== null && o.nextUpdate < o.observedAt;
}

/** The host an OCSP job's per-host politeness limit applies to. */
function ocspHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** OCSP jobs grouped by responder host, in their order. */
export function groupByHost(jobs: readonly OcspJob[]): Map<string, OcspJob[]> {
  return groupBy(jobs, (job) => ocspHost(job.url));
}
