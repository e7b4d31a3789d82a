/** What the functions that send mail run against (functions/notifier.ts, digest.ts): the table and SES, as the CLI's AWS mode. */
import type { Clock, Mailer, NoticeLedger } from '../ports/index.js';
import type { Store } from '../ports/store.js';
import type { DisclosureLookup } from '../ports/disclosures.js';
import type { SweepStateStore } from '../ports/revocation-index.js';
import type { HealthNoticeLedger } from '../ports/sweep-runs.js';
import { TableSweepState } from '../store/table-sweep-state.js';
import { openAwsRuntime } from './aws.js';
import { sesMailer } from './aws-mail.js';
import { loadConfig, type Env, type MailConfig } from './env.js';

export interface MailingRuntime {
  readonly store: Store & NoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: MailConfig;
  /** The CCADB disclosures in the table: notices and the digest judge with them, as `status` does. */
  readonly disclosures: DisclosureLookup | null;
  /**
   * The deployed sweeps' state in the table: the digest's CRL-health section, the site's CRL-health pages and
   * the CRL-health notices. Absent: no sweep state to read (the sections say no sweep has run).
   */
  readonly sweepState?: SweepStateStore | null;
  /** Where the notifier claims CRL-health notices after a sweep (the same table); absent: none are sent. */
  readonly healthNotices?: HealthNoticeLedger | null;
}

export function openMailingRuntime(env: Env): MailingRuntime {
  const { sender, defaultRecipients, digestRecipients } = loadConfig(env);
  const { store, table, clock, disclosures } = openAwsRuntime(env);
  const sweepState = new TableSweepState(table);
  return {
    store,
    mailer: sesMailer(),
    clock,
    mail: { sender, defaultRecipients, digestRecipients },
    disclosures,
    sweepState: sweepState,
    healthNotices: sweepState,
  };
}
