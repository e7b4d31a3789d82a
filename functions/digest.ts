/**
 * The forum digest (EventBridge schedule, weekly by default): build it from
 * the table, mail it to the configured recipients, record it.
 */
import { SESClient } from '@aws-sdk/client-ses';
import type { ScheduledEvent } from 'aws-lambda';
import { SystemClock } from '../src/clock.js';
import { formatDigest, produceDigest } from '../src/report/digest.js';
import type { Mailer } from '../src/notify/notices.js';
import { SesMailer } from '../src/notify/ses-mailer.js';
import type { Clock } from '../src/ports.js';
import type { Store } from '../src/store/store.js';
import { loadMailConfig, loadTableName, type MailConfig } from './shared/config.js';
import { createObservability, MetricUnit, type Observability } from './shared/observability.js';
import { tableStore } from './shared/store.js';

export interface DigestDeps extends Observability {
  readonly store: Store;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: MailConfig;
}

export function createDigestHandler(getDeps: () => DigestDeps) {
  return async (_event: ScheduledEvent): Promise<{ cas: number; since: string; mailed: boolean }> => {
    const { store, mailer, clock, mail, logger, metrics } = getDeps();
    const now = clock.now().getTime();
    const mailed = mail.digestRecipients.length > 0;
    try {
      const digest = await produceDigest(store, now, undefined, async (d) => {
        if (!mailed) return;
        await mailer.send({
          from: mail.sender,
          to: mail.digestRecipients,
          subject: `revwatch digest ${d.generatedAt.slice(0, 10)}: ${d.cas.length} CA(s)`,
          text: formatDigest(d, 'text'),
          date: new Date(now),
          attachments: [{ filename: 'digest.md', contentType: 'text/markdown', content: formatDigest(d, 'markdown') }],
        });
      });
      logger.info('digest produced', { cas: digest.cas.length, since: digest.since, mailed });
      metrics.addMetric('DigestsProduced', MetricUnit.Count, 1);
      return { cas: digest.cas.length, since: digest.since, mailed };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export function digestDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): DigestDeps {
  return { store: tableStore(loadTableName(env)), mailer: new SesMailer(new SESClient({})), clock: new SystemClock(), mail: loadMailConfig(env), ...createObservability() };
}

let deps: DigestDeps | undefined;
export const handler = createDigestHandler(() => (deps ??= digestDepsFromEnvironment(process.env)));
