/**
 * The composition root: what a command or a Lambda handler runs against.
 * `openRuntime('aws', …)` is the deployed DynamoDB table, SES and S3;
 * `openRuntime('local', …)` the embedded store under --home, the outbox and
 * copies of the CRLs read. Each mode's adapters are imported only when that
 * mode is opened, and the fetch stack only when asked for, so a command that
 * never opens a runtime never loads the AWS SDK, and `status` never loads
 * undici. The Lambda handlers open the AWS mode's parts one by one
 * (runtime/aws.ts and its parts), so a bundle holds only what its function
 * uses: the planner and the worker never carry SES or nodemailer.
 */
import type { Clock, EvidenceFiles, Mailer, NoticeLedger, RunLedger, Store } from '../ports/index.js';
import type { Disclosures } from '../ports/disclosures.js';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import type { RevocationIndexStore, SweepStateStore } from '../ports/revocation-index.js';
import type { Table } from '../ports/table.js';
import { InputError } from '../errors.js';
import { ENV, optional, type Env } from './env.js';
import type { FetchStack } from './fetch-stack.js';

export type { Env } from './env.js';
export type RuntimeMode = 'aws' | 'local';

export interface Runtime {
  readonly mode: RuntimeMode;
  readonly store: Store & NoticeLedger & RunLedger;
  readonly mailer: Mailer;
  /** Null in AWS mode: the deployed functions keep no CRL copies. */
  readonly evidenceFiles: EvidenceFiles | null;
  /** The imported CCADB disclosures (where each CA publishes its CRLs), in the same table. */
  readonly disclosures: Disclosures;
  /**
   * The good-answer log (ports/good-answers.ts): local mode's under --home; in AWS mode the S3 log when
   * REVWATCH_GOOD_ANSWERS_BUCKET names its bucket, else null (a change takes the record's last good answer).
   */
  readonly goodAnswers: GoodAnswerLog | null;
  /** AWS mode: the evidence bucket the worker archives verified CRLs in, when REVWATCH_EVIDENCE_BUCKET names it. */
  readonly evidenceArchive: EvidenceArchive | null;
  /**
   * AWS mode: the deployed sweeps' state in the table (store/table-sweep-state.ts), for the digest's CRL-health
   * section and the site's CRL-health pages. Absent in local mode, where the commands read <home>/sweep/state.json.
   */
  readonly sweepState?: SweepStateStore;
  /**
   * AWS mode: the revocation index the deployed sweep's workers write (store/table-revocation-index.ts), for
   * `lookup --aws`. Absent in local mode, where `lookup` reads <home>/sweep/index/ without opening the store.
   */
  readonly revocationIndex?: RevocationIndexStore;
  /** AWS mode: how many table writes succeeded so far, so a command cut off by the network can say it was partly done. */
  readonly writesDone?: () => number;
  /** The table under the store, for maintenance that walks it whole (`migrate poll-index`: store/poll-backfill.ts). */
  readonly table?: Table;
  /** The fetch stack a check uses (runtime/fetch-stack.ts), made on first call and closed with the runtime. */
  fetchStack(): Promise<FetchStack>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Local mode's data directory (absolute). */
  readonly home: string;
  readonly env: Env;
  readonly clock: Clock;
  /** The fetch stack's address guard: loopback and private addresses allowed (--allow-private-network). */
  readonly allowPrivateNetwork?: boolean;
  /** The fetch stack's overall deadlines (the CLI reads them from the environment). */
  readonly fetchDeadlines?: () => { readonly crlDeadlineMs?: number; readonly ocspDeadlineMs?: number };
  /** Local mode: one line per message written to the outbox. */
  readonly onMail?: (line: string) => void;
  /** Local mode: told when another process holds the home's lock. */
  readonly onLockWait?: (message: string) => void;
}

/** The one place that decides the mode: --aws, or REVWATCH_TABLE naming the deployed table. */
export function runtimeMode(aws: boolean, env: Env): RuntimeMode {
  return aws || env[ENV.table] ? 'aws' : 'local';
}

export async function openRuntime(mode: RuntimeMode, options: RuntimeOptions): Promise<Runtime> {
  if (mode === 'aws') {
    if (!optional(options.env, ENV.table)) throw new InputError(`--aws needs ${ENV.table} set to the deployed table name`);
    const { openAwsCliRuntime } = await import('./aws-cli.js');
    return openAwsCliRuntime(options);
  }
  const { openLocalRuntime } = await import('./local.js');
  return openLocalRuntime(options);
}
