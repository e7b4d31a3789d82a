/**
 * The one table of environment variables: the CLI, the Lambda handlers and
 * the stack (infra/) read each name from here, so none can drift from the
 * others. The readers validate at start (a Lambda's cold start, a command's
 * opening of its runtime) and pass values inward: the core never reads
 * process.env. test/unit/runtime/env-names.test.ts fails on a `REVWATCH_`
 * string literal anywhere else in src/ or functions/.
 */
import { DEFAULT_OCSP_LIMITS, OCSP_INTERVAL_MS_RANGE, OCSP_PER_HOST_RANGE, parseOcspLimit, type OcspLimits } from '../check/ocsp-limits.js';
import { ConfigError } from './errors.js';

export { ConfigError };

export const ENV = {
  /** The DynamoDB table; set, it is AWS mode for the CLI too (as --aws). */
  table: 'REVWATCH_TABLE',
  /** The SQS queue the planner puts check jobs on. */
  jobQueueUrl: 'REVWATCH_JOB_QUEUE_URL',
  /** The EventBridge bus finished runs are announced on. */
  eventBus: 'REVWATCH_EVENT_BUS',
  /** The SES identity mail is sent from (the CLI's notices: revwatch@localhost when unset). */
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
  /** CLI: the local data directory (as --home). */
  home: 'REVWATCH_HOME',
  /** CLI: the crt.sh base URL `track` asks. */
  crtshUrl: 'REVWATCH_CRTSH_URL',
  /** CLI: the overall deadline of one CRL fetch and of one OCSP exchange, in milliseconds. */
  crlDeadlineMs: 'REVWATCH_CRL_DEADLINE_MS',
  ocspDeadlineMs: 'REVWATCH_OCSP_DEADLINE_MS',
} as const;

/** What the CLI reads (docs/cli.md lists each; test/unit/runtime/env-names.test.ts holds the two together). */
export const CLI_ENV: readonly string[] = [
  ENV.home,
  ENV.table,
  ENV.sender,
  ENV.evidenceBucket,
  ENV.goodAnswersBucket,
  ENV.crlDeadlineMs,
  ENV.ocspDeadlineMs,
  ENV.crtshUrl,
];

export type Env = Readonly<Record<string, string | undefined>>;

const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

/** The variable's trimmed value, or null when unset or blank. */
export const optional = (env: Env, name: string): string | null => env[name]?.trim() || null;

function need(env: Env, name: string): string {
  const v = optional(env, name);
  if (!v) throw new ConfigError(`${name} is not set`);
  return v;
}

function emails(env: Env, name: string): string[] {
  const list = (env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const r of list) if (!EMAIL.test(r)) throw new ConfigError(`${name}: "${r}" is not an email address`);
  return list;
}

/** The DynamoDB table (single-table design, see docs/data-model.md). */
export const loadTableName = (env: Env): string => need(env, ENV.table);

/** The SQS queue the planner puts check jobs on. */
export const loadJobQueueUrl = (env: Env): string => need(env, ENV.jobQueueUrl);

/** The public URL of the CCADB "All Certificate Records" report the planner refreshes weekly; null: no refresh. */
export const loadCcadbReportUrl = (env: Env): string | null => optional(env, ENV.ccadbReportUrl);

/** The evidence bucket the worker archives verified CRLs in; null when the stack has none (hashes only). */
export const loadEvidenceBucket = (env: Env): string | null => optional(env, ENV.evidenceBucket);
export const loadGoodAnswersBucket = (env: Env): string | null => optional(env, ENV.goodAnswersBucket);

/** The EventBridge bus finished runs are announced on ("Check Completed"), which triggers the notifier. */
export const loadEventBusName = (env: Env): string => need(env, ENV.eventBus);

export interface MailConfig {
  /** The SES identity notices and digests are sent from; the functions' IAM policy allows no other. */
  readonly sender: string;
  /** Who gets every case's notices, besides the case's own `--notify` addresses. */
  readonly defaultRecipients: readonly string[];
  /** Who receives the weekly digest. */
  readonly digestRecipients: readonly string[];
}

export function loadMailConfig(env: Env): MailConfig {
  const sender = need(env, ENV.sender);
  if (!EMAIL.test(sender)) throw new ConfigError(`${ENV.sender} "${sender}" is not an email address`);
  return { sender, defaultRecipients: emails(env, ENV.defaultRecipients), digestRecipients: emails(env, ENV.digestRecipients) };
}

export interface MailingConfig extends MailConfig {
  readonly tableName: string;
}

/** The table and the mail settings: what the functions that send mail (notifier, digest) start from. */
export function loadConfig(env: Env): MailingConfig {
  const mail = loadMailConfig(env);
  return { tableName: loadTableName(env), ...mail };
}

/**
 * The worker's per-host OCSP limits (src/check/ocsp-limits.ts explains the
 * defaults), set by the stack from the `ocspPerHost` / `ocspIntervalMs`
 * context. Unset means the defaults.
 */
export function loadOcspLimits(env: Env): OcspLimits {
  const read = (name: string, range: { min: number; max: number }, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v.trim() === '') return fallback;
    const n = parseOcspLimit(v, name, range);
    if (typeof n === 'string') throw new ConfigError(n);
    return n;
  };
  return {
    ocspPerHost: read(ENV.ocspPerHost, OCSP_PER_HOST_RANGE, DEFAULT_OCSP_LIMITS.ocspPerHost),
    ocspMinIntervalMs: read(ENV.ocspIntervalMs, OCSP_INTERVAL_MS_RANGE, DEFAULT_OCSP_LIMITS.ocspMinIntervalMs),
  };
}
