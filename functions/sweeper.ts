/**
 * The sweep planner (EventBridge schedule, every 4 hours by default: CCADB Policy 2.1 §6.2 has every
 * disclosed CRL retrievable every 4 hours). First the CCADB refresh (src/ccadb/refresh.ts: backoff, the
 * 48-hour last-good rule), then the staleness metric the stack alarms on, then the sweep run: one queue
 * message per CRL URL, small CRLs batched (src/sweep/fan-out.ts), for the workers.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { disclosureStaleness } from '../src/ccadb/refresh.js';
import { planSweep, type PlanSweepResult } from '../src/sweep/fan-out.js';
import type { Env } from '../src/runtime/env.js';
import { openSweeperRuntime, type SweeperRuntime } from '../src/runtime/aws-sweeper.js';
import {
  CCADB_DISCLOSURE_AGE_HOURS,
  CCADB_DISCLOSURE_STALE,
  createObservability,
  MetricUnit,
  type Observability,
} from './shared/observability.js';

export type SweeperDeps = SweeperRuntime & Observability;

export interface SweeperResult {
  /** What the refresh did: refreshed, fresh, failed, backoff, or off (no report URL configured). */
  readonly refresh: string;
  /** When the disclosures in use were imported (ISO), or null when never. */
  readonly disclosuresImportedAt: string | null;
  readonly disclosuresStale: boolean;
  /** The sweep run planned (its number, URLs and jobs), or why none was. */
  readonly sweep: Omit<PlanSweepResult, 'finished'> & { readonly finished: boolean };
}

export function createSweeperHandler(getDeps: () => SweeperDeps) {
  return async (event: ScheduledEvent): Promise<SweeperResult> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    try {
      let refresh = 'off';
      if (deps.ccadbRefresh) {
        // Before planning, so this sweep already reads the new disclosure's URLs; a failure keeps the old one.
        const r = await deps.ccadbRefresh();
        refresh = r.refreshed ? 'refreshed' : r.reason;
        if (r.refreshed) logger.info('CCADB disclosures refreshed', { ...r });
        else if (r.reason !== 'fresh') logger.warn('CCADB disclosures not refreshed; keeping the last import', { ...r });
      }
      const last = await deps.disclosures.lastImport();
      const staleness = disclosureStaleness(last?.at ?? null, deps.clock.now().getTime(), deps.ccadbRefresh !== undefined);
      metrics.addMetric(CCADB_DISCLOSURE_STALE, MetricUnit.Count, staleness.stale ? 1 : 0);
      if (staleness.ageMs !== null) metrics.addMetric(CCADB_DISCLOSURE_AGE_HOURS, MetricUnit.NoUnit, staleness.ageMs / 3_600_000);
      if (staleness.stale)
        logger.error('CCADB disclosures are stale (last good import over 48 hours ago)', {
          lastImportAt: last ? new Date(last.at).toISOString() : null,
          scheduledAt: event.time,
        });
      const planned = await planSweep(deps);
      if (planned.skipped) logger.warn('sweep run not started', { reason: planned.skipped, scheduledAt: event.time });
      else logger.info('sweep run planned', { sweep: planned.sweep, urls: planned.urls, jobs: planned.jobs, scheduledAt: event.time });
      metrics.addMetric('SweepJobsQueued', MetricUnit.Count, planned.jobs);
      return {
        refresh,
        disclosuresImportedAt: last ? new Date(last.at).toISOString() : null,
        disclosuresStale: staleness.stale,
        sweep: { ...planned, finished: planned.finished !== null },
      };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const sweeperDepsFromEnvironment = (env: Env): SweeperDeps => ({ ...openSweeperRuntime(env), ...createObservability() });

let deps: SweeperDeps | undefined;
export const handler = createSweeperHandler(() => (deps ??= sweeperDepsFromEnvironment(process.env)));
