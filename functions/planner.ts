/**
 * The check planner (EventBridge schedule, every 15 minutes by default): plans
 * a run and puts one SQS message per CRL URL and per batch of OCSP requests
 * on the job queue, for the workers.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { planRun, type PlanRunDeps, type PlanRunOptions, type PlanRunResult } from '../src/check/fan-out.js';
import { refreshDisclosures, type RefreshResult } from '../src/ccadb/refresh.js';
import { openAwsRuntime } from '../src/runtime/aws.js';
import { eventBridgeRunEvents, sqsJobQueue } from '../src/runtime/aws-fan-out.js';
import { loadCcadbReportUrl, type Env } from '../src/runtime/env.js';
import { openHttpFetcher } from '../src/runtime/fetch-stack.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';

export type PlannerDeps = PlanRunDeps &
  Observability & {
    readonly options?: PlanRunOptions;
    /** The weekly CCADB refresh, when the stack names the report's URL (context ccadbReportUrl). */
    readonly ccadbRefresh?: () => Promise<RefreshResult>;
  };
export type PlannerResult = Omit<PlanRunResult, 'finished'> & { readonly finished: boolean };

export function createPlannerHandler(getDeps: () => PlannerDeps) {
  return async (event: ScheduledEvent): Promise<PlannerResult> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    try {
      if (deps.ccadbRefresh) {
        // Before planning, so this run already checks against a new disclosure; a failure leaves the old one.
        const refresh = await deps.ccadbRefresh();
        if (refresh.refreshed) logger.info('CCADB disclosures refreshed', { ...refresh });
        else if (refresh.reason === 'failed')
          logger.warn('CCADB disclosures not refreshed; keeping the last import', { error: refresh.error });
      }
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

export function plannerDepsFromEnvironment(env: Env): PlannerDeps {
  const { store, clock, disclosures } = openAwsRuntime(env);
  const queue = sqsJobQueue(env, clock);
  const events = eventBridgeRunEvents(env);
  const url = loadCcadbReportUrl(env);
  // Public addresses only: the address guard refuses private and loopback ones.
  const fetcher = url ? openHttpFetcher({ clock, allowPrivateNetwork: false }) : null;
  const ccadbRefresh =
    fetcher && url ? () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, url) : undefined;
  return { options: { disclosures }, ...(ccadbRefresh ? { ccadbRefresh } : {}), store, queue, events, clock, ...createObservability() };
}

let deps: PlannerDeps | undefined;
export const handler = createPlannerHandler(() => (deps ??= plannerDepsFromEnvironment(process.env)));
