/**
 * Names the functions emit and the stack alarms on (infra/revwatch-stack.ts
 * imports them, so the two cannot drift apart).
 */
export const METRICS_NAMESPACE = 'revwatch';
/** The `service` dimension of every metric, whichever function emits it. */
export const SERVICE_NAME = 'revwatch';
/** Emitted once per finished check run; the stack alarms when none arrives for an hour. */
export const CHECKS_COMPLETED = 'ChecksCompleted';

/**
 * The environment variables the stack sets and the functions read
 * (functions/shared/config.ts): one name each, so the two cannot drift apart.
 */
export const ENV = {
  /** The DynamoDB table. */
  table: 'REVWATCH_TABLE',
  /** The SQS queue the planner puts check jobs on. */
  jobQueueUrl: 'REVWATCH_JOB_QUEUE_URL',
  /** The EventBridge bus finished runs are announced on. */
  eventBus: 'REVWATCH_EVENT_BUS',
  /** The SES identity mail is sent from. */
  sender: 'REVWATCH_SENDER',
  /** Comma-separated: who gets every case's notices. */
  defaultRecipients: 'REVWATCH_DEFAULT_RECIPIENTS',
  /** Comma-separated: who gets the digest. */
  digestRecipients: 'REVWATCH_DIGEST_RECIPIENTS',
  /** The worker's per-host OCSP limits (src/check/ocsp-limits.ts). */
  ocspPerHost: 'REVWATCH_OCSP_PER_HOST',
  ocspIntervalMs: 'REVWATCH_OCSP_INTERVAL_MS',
  /** The public CCADB "All Certificate Records" report the planner re-imports weekly (off when unset). */
  ccadbReportUrl: 'REVWATCH_CCADB_REPORT_URL',
  /** The evidence bucket: verified CRLs under crls/<sha256>.crl (worker), the dashboard under site/ (digest). */
  evidenceBucket: 'REVWATCH_EVIDENCE_BUCKET',
  /** The good-answer log's bucket: each job's verified good answers under good-answers/ (worker; expires in days). */
  goodAnswersBucket: 'REVWATCH_GOOD_ANSWERS_BUCKET',
} as const;
