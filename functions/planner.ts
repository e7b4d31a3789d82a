/**
 * The check planner (EventBridge schedule, every 15 minutes by default): plans
 * a run and puts one SQS message per CRL URL and per batch of OCSP requests
 * on the job queue, for the workers.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { planRun, type PlanRunResult } from '../src/check/fan-out.js';
import { openPlannerRuntime, type PlannerRuntime } from '../src/runtime/aws-planner.js';
import type { Env } from '../src/runtime/env.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';

export type PlannerDeps = PlannerRuntime & Observability;
export type PlannerResult = Omit<PlanRunResult, 'finished'> & { readonly finished: boolean };

export function createPlannerHandler(getDeps: () => PlannerDeps) {
  return async (event: ScheduledEvent): Promise<PlannerResult> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    try {
      const planned = await planRun(deps, deps.options);
      const result = { ...planned, finished: planned.finished !== null };
      if (planned.skipped) logger.warn('check run not started', { reason: planned.skipped, scheduledAt: event.time });
      else logger.info('check run planned', { ...result, scheduledAt: event.time });
      metrics.addMetric('CheckJobsQueued', MetricUnit.Count, planned.crlJobs + planned.ocspBatches);
      if (planned.skipped) metrics.addMetric('CheckRunsSkipped', MetricUnit.Count, 1);
      // A run with nothing to ask is finished by the planner itself.
      if (planned.finished) metrics.addMetric(CHECKS_COMPLETED, MetricUnit.Count, 1);
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const plannerDepsFromEnvironment = (env: Env): PlannerDeps => ({ ...openPlannerRuntime(env), ...createObservability() });

let deps: PlannerDeps | undefined;
export const handler = createPlannerHandler(() => (deps ??= plannerDepsFromEnvironment(process.env)));
