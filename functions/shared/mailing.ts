/** What the functions that send mail (notifier, digest) are built from, once per cold start. */
import { SystemClock } from '../../src/adapters/system-clock.js';
import type { Mailer, NoticeLedger } from '../../src/ports/index.js';
import type { Clock } from '../../src/ports/index.js';
import { openAwsRuntime } from '../../src/runtime/aws.js';
import type { Store } from '../../src/ports/store.js';
import type { DisclosureLookup } from '../../src/ccadb/store.js';
import { loadMailConfig, loadTableName, type MailConfig } from './config.js';
import { createObservability, type Observability } from './observability.js';

export interface MailingDeps extends Observability {
  readonly store: Store & NoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: MailConfig;
  /** The CCADB disclosures in the table: notices and the digest judge with them, as `status` does. */
  readonly disclosures: DisclosureLookup | null;
}

/** The same AWS runtime the CLI opens with --aws (src/runtime/aws.ts): the table and SES. */
export function mailingDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): MailingDeps {
  const clock = new SystemClock();
  const { store, mailer, disclosures } = openAwsRuntime({ tableName: loadTableName(env), clock });
  return { store, mailer, clock, mail: loadMailConfig(env), disclosures, ...createObservability() };
}
