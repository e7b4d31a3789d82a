/**
 * The composition root: what a command or a Lambda handler runs against. AWS
 * mode is the deployed DynamoDB table and SES; local mode is the embedded
 * store under --home, the outbox, and copies of the CRLs read (evidence
 * files). Each mode's adapters are imported only when that mode is opened,
 * so a command that never opens a runtime never loads the AWS SDK.
 */
import type { Clock, EvidenceFiles, Mailer, NoticeLedger, RunLedger, Store } from '../ports/index.js';
import { InputError } from '../errors.js';
import type { DisclosureStore } from '../ccadb/store.js';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';

export interface Runtime {
  readonly mode: 'aws' | 'local';
  readonly store: Store & NoticeLedger & RunLedger;
  readonly mailer: Mailer;
  /** Null in AWS mode: the deployed functions keep no CRL copies. */
  readonly evidenceFiles: EvidenceFiles | null;
  /** The imported CCADB disclosures (where each CA publishes its CRLs), in the same table. */
  readonly disclosures: DisclosureStore;
  /**
   * The good-answer log (ports/good-answers.ts): local mode's under --home; in AWS mode the S3 log when
   * REVWATCH_GOOD_ANSWERS_BUCKET names its bucket, else null (a change takes the record's last good answer).
   */
  readonly goodAnswers: GoodAnswerLog | null;
  /** AWS mode: the evidence bucket the worker archives verified CRLs in, when REVWATCH_EVIDENCE_BUCKET names it. */
  readonly evidenceArchive: EvidenceArchive | null;
  /** AWS mode: how many table writes succeeded so far, so a command cut off by the network can say it was partly done. */
  readonly writesDone?: () => number;
  close(): Promise<void>;
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface RuntimeOptions {
  /** --aws given; REVWATCH_TABLE in `env` means AWS mode too. */
  readonly aws: boolean;
  /** Local mode's data directory (absolute). */
  readonly home: string;
  readonly env: Env;
  readonly clock: Clock;
  /** Local mode: one line per message written to the outbox. */
  readonly onMail?: (line: string) => void;
  /** Local mode: told when another process holds the home's lock. */
  readonly onLockWait?: (message: string) => void;
}

/** The one place that decides AWS mode: --aws, or REVWATCH_TABLE naming the deployed table. */
export function isAwsMode(aws: boolean, env: Env): boolean {
  return aws || Boolean(env.REVWATCH_TABLE);
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  if (isAwsMode(options.aws, options.env)) {
    const table = options.env.REVWATCH_TABLE;
    if (!table) throw new InputError('--aws needs REVWATCH_TABLE set to the deployed table name');
    const { openAwsRuntime } = await import('./aws.js');
    return openAwsRuntime({
      tableName: table,
      clock: options.clock,
      evidenceBucket: options.env.REVWATCH_EVIDENCE_BUCKET?.trim() || null,
      goodAnswersBucket: options.env.REVWATCH_GOOD_ANSWERS_BUCKET?.trim() || null,
    });
  }
  const { openLocalRuntime } = await import('./local.js');
  return openLocalRuntime(options);
}
