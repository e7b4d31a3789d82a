/**
 * Lambda configuration: read once at cold start from the environment the CDK
 * stack sets (infra/revwatch-stack.ts), validated, and passed inward. The core
 * never reads process.env.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

import { ENV } from './names.js';
import {
  DEFAULT_OCSP_LIMITS,
  OCSP_INTERVAL_MS_RANGE,
  OCSP_PER_HOST_RANGE,
  parseOcspLimit,
  type OcspLimits,
} from '../../src/check/ocsp-limits.js';

type Env = Readonly<Record<string, string | undefined>>;

const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

function need(env: Env, name: string): string {
  const v = env[name]?.trim();
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

/** The DynamoDB table (single-table design, see src/adapters/aws/dynamo-store.ts). */
export const loadTableName = (env: Env): string => need(env, ENV.table);

/** The SQS queue the planner puts check jobs on. */
export const loadJobQueueUrl = (env: Env): string => need(env, ENV.jobQueueUrl);

/** The public URL of the CCADB "All Certificate Records" report the planner refreshes weekly; null: no refresh. */
export const loadCcadbReportUrl = (env: Env): string | null => env[ENV.ccadbReportUrl]?.trim() || null;

/** The evidence bucket the worker archives verified CRLs in; null when the stack has none (hashes only). */
export const loadEvidenceBucket = (env: Env): string | null => env[ENV.evidenceBucket]?.trim() || null;
export const loadGoodAnswersBucket = (env: Env): string | null => env[ENV.goodAnswersBucket]?.trim() || null;

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

export interface FunctionConfig extends MailConfig {
  readonly tableName: string;
}

/** Table and mail: what the notifier and the digest need. */
export function loadConfig(env: Env): FunctionConfig {
  const sender = loadMailConfig(env);
  return { tableName: loadTableName(env), ...sender };
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
