/**
 * What the sweep planner runs against (functions/sweeper.ts): the table's disclosures and the CCADB refresh.
 * The refresh lives here, not in the check planner, so the check planner's bundle carries no HTTP stack
 * (issue 25: the planner stays at or under its measured size).
 */
import { refreshDisclosures, type RefreshResult } from '../ccadb/refresh.js';
import type { Clock } from '../ports/index.js';
import type { Disclosures } from '../ports/disclosures.js';
import { openAwsRuntime } from './aws.js';
import { loadCcadbReportUrl, type Env } from './env.js';
import { openHttpFetcher } from './fetch-stack.js';

export interface SweeperRuntime {
  readonly clock: Clock;
  readonly disclosures: Disclosures;
  /** The daily CCADB refresh, when the stack names the report's URL (context ccadbReportUrl). */
  readonly ccadbRefresh?: () => Promise<RefreshResult>;
}

export function openSweeperRuntime(env: Env): SweeperRuntime {
  const { clock, disclosures } = openAwsRuntime(env);
  const url = loadCcadbReportUrl(env);
  // Public addresses only: the address guard refuses private and loopback ones.
  const fetcher = url ? openHttpFetcher({ clock, allowPrivateNetwork: false }) : null;
  return {
    clock,
    disclosures,
    ...(fetcher && url ? { ccadbRefresh: () => refreshDisclosures({ store: disclosures, fetcher, now: clock.now().getTime() }, url) } : {}),
  };
}
