/**
 * The check planner (EventBridge schedule, every 15 minutes by default): plans
 * a run and puts one SQS message per CRL URL and per batch of OCSP requests
 * on the job queue, for the workers.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { SystemClock } from '../src/adapters/system-clock.js';
import { EventBridgeRunEvents } from '../src/adapters/aws/eventbridge-run-events.js';
import { planRun, type PlanRunDeps, type PlanRunOptions, type PlanRunResult } from '../src/check/fan-out.js';
import { SqsJobQueue } from '../src/adapters/aws/sqs-job-queue.js';
import { loadCcadbReportUrl, loadEventBusName, loadJobQueueUrl, loadTableName } from './shared/config.js';
import { DisclosureStore } from '../src/ccadb/store.js';
import { refreshDisclosures, type RefreshResult } from '../src/ccadb/refresh.js';
import { HttpFetcher } from '../src/adapters/net/http-fetcher.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';
import { tableStore } from './shared/store.js';

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

export function plannerDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): PlannerDeps {
  const store = tableStore(loadTableName(env));
  const disclosures = new DisclosureStore(store.table);
  const clock = new SystemClock();
  const reportUrl = loadCcadbReportUrl(env);
  // Public addresses only: the address guard refuses private and loopback ones.
  const fetcher = reportUrl ? new HttpFetcher({ clock, allowPrivateNetwork: false }) : null;
  return {
    options: { disclosures },
    ...(reportUrl && fetcher
      ? { ccadbRefresh: () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, reportUrl) }
      : {}),
    store,
    queue: new SqsJobQueue(new SQSClient({}), loadJobQueueUrl(env), undefined, clock),
    events: new EventBridgeRunEvents(new EventBridgeClient({}), loadEventBusName(env)),
    clock,
    ...createObservability(),
  };
}

let deps: PlannerDeps | undefined;
export const handler = createPlannerHandler(() => (deps ??= plannerDepsFromEnvironment(process.env)));
