/** What the functions that send mail (notifier, digest) are built from, once per cold start. */
import type { Clock, Mailer, NoticeLedger } from '../../src/ports/index.js';
import type { Store } from '../../src/ports/store.js';
import type { DisclosureLookup } from '../../src/ports/disclosures.js';
import { openAwsRuntime } from '../../src/runtime/aws.js';
import { sesMailer } from '../../src/runtime/aws-mail.js';
import { loadConfig, type Env, type MailConfig } from '../../src/runtime/env.js';
import { createObservability, type Observability } from './observability.js';

export interface MailingDeps extends Observability {
  readonly store: Store & NoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: MailConfig;
  /** The CCADB disclosures in the table: notices and the digest judge with them, as `status` does. */
  readonly disclosures: DisclosureLookup | null;
}

/** The table and SES, as the CLI's AWS mode has them (src/runtime/aws.ts, aws-mail.ts). */
export function mailingDepsFromEnvironment(env: Env): MailingDeps {
  const { sender, defaultRecipients, digestRecipients } = loadConfig(env);
  const { store, clock, disclosures } = openAwsRuntime(env);
  const mail = { sender, defaultRecipients, digestRecipients };
  return { store, mailer: sesMailer(), clock, mail, disclosures, ...createObservability() };
}
