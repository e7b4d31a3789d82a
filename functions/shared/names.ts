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
/**
 * Emitted by every sweep planner run: 1 when the last good CCADB disclosure is older than 48 hours
 * (src/ccadb/refresh.ts, DISCLOSURE_STALE_AFTER_MS), else 0. The stack alarms on a 1 (issue 26 item 3).
 */
export const CCADB_DISCLOSURE_STALE = 'CcadbDisclosureStale';
/** The age of the disclosures in use, in hours, beside the 0/1 above (for the graph, not alarmed on). */
export const CCADB_DISCLOSURE_AGE_HOURS = 'CcadbDisclosureAgeHours';
