/** What the check planner runs against (functions/planner.ts): the table, the job queue and the bus. */
import type { PlanRunDeps, PlanRunOptions } from '../check/fan-out.js';
import { openAwsRuntime } from './aws.js';
import { eventBridgeRunEvents, sqsJobQueue } from './aws-fan-out.js';
import type { Env } from './env.js';

export type PlannerRuntime = PlanRunDeps & {
  readonly options?: PlanRunOptions;
};

/** The CCADB refresh is the sweep planner's (aws-sweeper.ts): the check planner opens no HTTP stack. */
export function openPlannerRuntime(env: Env): PlannerRuntime {
  const { store, clock, disclosures } = openAwsRuntime(env);
  return { options: { disclosures }, store, queue: sqsJobQueue(env, clock), events: eventBridgeRunEvents(env), clock };
}
