/**
 * The stack's configuration, from CDK context (`-c key=value` or cdk.json),
 * validated before anything is built: a bad value fails the synth with one
 * line naming the key.
 */
import { DEFAULT_OCSP_INTERVAL_MS, DEFAULT_OCSP_PER_HOST, OCSP_INTERVAL_MS_RANGE, OCSP_PER_HOST_RANGE } from '../src/check/ocsp-limits.js';

export class StackConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackConfigError';
  }
}

export interface StackConfig {
  readonly stackName: string;
  /** The address notices and digests come from. Its SES identity must be verified in the account. */
  readonly sender: string;
  /** The SES identity the functions may send as: the sender's domain unless set (an address identity also works). */
  readonly sesIdentity: string;
  /** Who gets every case's notices, besides each case's own `--notify` addresses. */
  readonly recipients: readonly string[];
  /** Who gets the weekly forum digest (default: `recipients`). */
  readonly digestRecipients: readonly string[];
  /** Subscribed to the alarm topic by email, when set. */
  readonly alarmEmail: string | null;
  /** When check runs start (EventBridge schedule expression). */
  readonly checkSchedule: string;
  /** When sweep runs start (EventBridge schedule expression): the CCADB refresh, then every disclosed CRL. */
  readonly sweepSchedule: string;
  /** When the forum digest goes out. */
  readonly digestSchedule: string;
  /** Workers running at once: bounds the load on every CA's responders and on the table. */
  readonly workerConcurrency: number;
  /** Memory (MB) of the planner, notifier and digest functions. */
  readonly memory: number;
  /** Memory (MB) of the worker: a CRL job holds the whole CRL (real ones reach 100 MB; the scanner adds about as much again) and Lambda gives CPU in proportion to memory. */
  readonly workerMemory: number;
  readonly logRetentionDays: number;
  /** OCSP requests in flight per responder host, per worker (see src/check/ocsp-limits.ts for why the default is 4). */
  readonly ocspPerHost: number;
  /** Minimum milliseconds between two OCSP requests to one host, per worker. */
  readonly ocspIntervalMs: number;
  /**
   * Object Lock (governance mode) on the evidence bucket with this default retention in days, or null for
   * none. Object Lock can only be turned on when the bucket is created, hence a switch decided up front.
   */
  readonly evidenceObjectLockDays: number | null;
  /**
   * The public URL of the CCADB "All Certificate Records" CSV report: the sweep planner re-imports it daily
   * (src/ccadb/refresh.ts). Null: no refresh (disclosures come from `revwatch --aws ccadb import`).
   */
  readonly ccadbReportUrl: string | null;
  /** Archived CRLs move to S3 Standard-IA after this many days (at least 30, S3's minimum for the class). */
  readonly evidenceInfrequentAccessDays: number;
  /**
   * Keep the polling index of stacks deployed before issue 29 (`poll`, every attribute) beside `poll-due`: the first
   * deployment of an upgrade (CloudFormation adds or drops one index per update; docs/data-model.md, "Upgrading the
   * polling index"). False (the default) drops it.
   */
  readonly legacyPollIndex: boolean;
}

const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;
/** CloudWatch Logs accepts only these retention periods (days). */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export function readStackConfig(get: (key: string) => unknown): StackConfig {
  const flag = (key: string): boolean => {
    const v = get(key);
    if (v === undefined || v === null || v === '' || v === false || v === 'false') return false;
    if (v === true || v === 'true') return true;
    throw new StackConfigError(`context "${key}" must be true or false`);
  };
  const text = (key: string): string | null => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string' && typeof v !== 'number') throw new StackConfigError(`context "${key}" must be a string`);
    return String(v).trim();
  };
  const emails = (key: string): string[] | null => {
    const v = text(key);
    if (v === null) return null;
    const list = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const e of list) if (!EMAIL.test(e)) throw new StackConfigError(`context "${key}": "${e}" is not an email address`);
    return list;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const v = text(key);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new StackConfigError(`context "${key}" must be an integer from ${min} to ${max}, not "${v}"`);
    return n;
  };
  const schedule = (key: string, fallback: string): string => {
    const v = text(key) ?? fallback;
    if (!/^(rate\(.+\)|cron\(.+\))$/.test(v)) throw new StackConfigError(`context "${key}" must be rate(...) or cron(...), not "${v}"`);
    return v;
  };

  const httpsUrl = (key: string): string | null => {
    const v = text(key);
    if (v === null) return null;
    let url: URL | null = null;
    try {
      url = new URL(v);
    } catch {
      url = null;
    }
    if (url?.protocol !== 'https:') throw new StackConfigError(`context "${key}" must be an https URL, not "${v}"`);
    return v;
  };

  const sender = text('sender');
  if (sender === null) throw new StackConfigError('context "sender" is required: npx cdk deploy -c sender=revwatch@your-domain.example');
  if (!EMAIL.test(sender)) throw new StackConfigError(`context "sender": "${sender}" is not an email address`);
  const recipients = emails('recipients') ?? [];
  const checkSchedule = schedule('checkSchedule', 'rate(15 minutes)');
  // BR 4.9.1.1's shortest deadline is 24 hours; a poll interval over a quarter of it could
  // see a revocation only after most of the deadline had gone by.
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(checkSchedule);
  if (rate) {
    const minutes = Number(rate[1]) * (rate[2]!.startsWith('minute') ? 1 : rate[2]!.startsWith('hour') ? 60 : 1440);
    if (minutes < 5 || minutes > 360)
      throw new StackConfigError(
        `context "checkSchedule": ${checkSchedule} is outside 5 minutes to 6 hours (a quarter of the 24-hour deadline)`,
      );
  }
  const logRetentionDays = int('logRetentionDays', 90, 1, 3653);
  if (!RETENTION_DAYS.includes(logRetentionDays))
    throw new StackConfigError(`context "logRetentionDays" must be one of ${RETENTION_DAYS.join(', ')}`);
  return {
    stackName: text('stackName') ?? 'revwatch',
    sender,
    sesIdentity: text('sesIdentity') ?? sender.slice(sender.indexOf('@') + 1),
    recipients,
    digestRecipients: emails('digestRecipients') ?? recipients,
    alarmEmail: emails('alarmEmail')?.[0] ?? null,
    checkSchedule,
    // CCADB Policy 2.1 §6.2: every disclosed CRL retrievable every 4 hours; a sweep each 4 hours sees each outage.
    sweepSchedule: schedule('sweepSchedule', 'rate(4 hours)'),
    digestSchedule: schedule('digestSchedule', 'cron(0 8 ? * MON *)'),
    workerConcurrency: int('workerConcurrency', 4, 1, 100),
    memory: int('memory', 1024, 128, 10240),
    workerMemory: int('workerMemory', 1024, 128, 10240),
    logRetentionDays,
    ocspPerHost: int('ocspPerHost', DEFAULT_OCSP_PER_HOST, OCSP_PER_HOST_RANGE.min, OCSP_PER_HOST_RANGE.max),
    ocspIntervalMs: int('ocspIntervalMs', DEFAULT_OCSP_INTERVAL_MS, OCSP_INTERVAL_MS_RANGE.min, OCSP_INTERVAL_MS_RANGE.max),
    evidenceObjectLockDays: text('evidenceObjectLockDays') === null ? null : int('evidenceObjectLockDays', 0, 1, 36_500),
    ccadbReportUrl: httpsUrl('ccadbReportUrl'),
    evidenceInfrequentAccessDays: int('evidenceInfrequentAccessDays', 90, 30, 3650),
    legacyPollIndex: flag('legacyPollIndex'),
  };
}
