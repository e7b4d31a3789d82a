/** What the functions that send mail (notifier, digest) are built from, once per cold start. */
import { SESClient } from '@aws-sdk/client-ses';
import { SystemClock } from '../../src/clock.js';
import type { Mailer, NoticeLedger } from '../../src/notify/notices.js';
import { SesMailer } from '../../src/notify/ses-mailer.js';
import type { Clock } from '../../src/ports.js';
import type { Store } from '../../src/store/store.js';
import { loadMailConfig, loadTableName, type MailConfig } from './config.js';
import { createObservability, type Observability } from './observability.js';
import { tableStore } from './store.js';

export interface MailingDeps extends Observability {
  readonly store: Store & NoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: MailConfig;
}

export function mailingDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): MailingDeps {
  return { store: tableStore(loadTableName(env)), mailer: new SesMailer(new SESClient({})), clock: new SystemClock(), mail: loadMailConfig(env), ...createObservability() };
}
