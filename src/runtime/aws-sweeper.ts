/**
 * What the sweep planner runs against (functions/sweeper.ts): the table's disclosures, the CCADB refresh,
 * and the sweep's fan-out (the sweep ledger in the table, the job queue, the bus).
 * The refresh lives here, not in the check planner, so the check planner's bundle carries no HTTP stack
 * (issue 25: the planner stays at or under its measured size).
 */
import { refreshDisclosures, type RefreshResult } from '../ccadb/refresh.js';
import type { Clock } from '../ports/index.js';
import type { PlanSweepDeps } from '../sweep/fan-out.js';
import { TableSweepState } from '../store/table-sweep-state.js';
import { eventBridgeRunEvents, sqsJobQueue } from './aws-fan-out.js';
import type { Disclosures } from '../ports/disclosures.js';
import { openAwsRuntime } from './aws.js';
import { loadCcadbReportUrl, type Env } from './env.js';
import { openHttpFetcher } from './fetch-stack.js';

export interface SweeperRuntime extends PlanSweepDeps {
  readonly clock: Clock;
  readonly disclosures: Disclosures;
  /** The daily CCADB refresh, when the stack names the report's URL (context ccadbReportUrl). */
  readonly ccadbRefresh?: () => Promise<RefreshResult>;
}

export function openSweeperRuntime(env: Env): SweeperRuntime {
  const { clock, disclosures, table } = openAwsRuntime(env);
  const url = loadCcadbReportUrl(env);
  // Public addresses only: the address guard refuses private and loopback ones.
  const fetcher = url ? openHttpFetcher({ clock, allowPrivateNetwork: false }) : null;
  return {
    clock,
    disclosures,
    ledger: new TableSweepState(table),
    queue: sqsJobQueue(env, clock),
    events: eventBridgeRunEvents(env),
    ...(fetcher && url ? { ccadbRefresh: () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, url) } : {}),
  };
}
