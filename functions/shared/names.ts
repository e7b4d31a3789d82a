/**
 * Names the functions emit and the stack alarms on (infra/revwatch-stack.ts
 * imports them, so the two cannot drift apart). The environment variables
 * are in src/runtime/env.ts (ENV).
 */
export const METRICS_NAMESPACE = 'revwatch';
/** The `service` dimension of every metric, whichever function emits it. */
export const SERVICE_NAME = 'revwatch';
/** Emitted once per finished check run; the stack alarms when none arrives for an hour. */
export const CHECKS_COMPLETED = 'ChecksCompleted';
