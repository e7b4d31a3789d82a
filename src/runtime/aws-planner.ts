/** What the check planner runs against (functions/planner.ts): the table, the job queue, the bus, and the CCADB refresh. */
import { refreshDisclosures, type RefreshResult } from '../ccadb/refresh.js';
import type { PlanRunDeps, PlanRunOptions } from '../check/fan-out.js';
import { openAwsRuntime } from './aws.js';
import { eventBridgeRunEvents, sqsJobQueue } from './aws-fan-out.js';
import { loadCcadbReportUrl, type Env } from './env.js';
import { openHttpFetcher } from './fetch-stack.js';

export type PlannerRuntime = PlanRunDeps & {
  readonly options?: PlanRunOptions;
  /** The weekly CCADB refresh, when the stack names the report's URL (context ccadbReportUrl). */
  readonly ccadbRefresh?: () => Promise<RefreshResult>;
};

export function openPlannerRuntime(env: Env): PlannerRuntime {
  const { store, clock, disclosures } = openAwsRuntime(env);
  const queue = sqsJobQueue(env, clock);
  const events = eventBridgeRunEvents(env);
  const url = loadCcadbReportUrl(env);
  // Public addresses only: the address guard refuses private and loopback ones.
  const fetcher = url ? openHttpFetcher({ clock, allowPrivateNetwork: false }) : null;
  return {
    options: { disclosures },
    ...(fetcher && url ? { ccadbRefresh: () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, url) } : {}),
    store,
    queue,
    events,
    clock,
  };
}
