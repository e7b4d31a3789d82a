/**
 * The forum digest (EventBridge schedule, weekly by default): build it from
 * the table, mail it to the configured recipients, record it.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { formatDigest, produceDigest } from '../src/report/digest.js';
import { mailingDepsFromEnvironment, type MailingDeps } from './shared/mailing.js';
import { MetricUnit } from './shared/observability.js';

export type DigestDeps = MailingDeps;

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
        // The weekly digest is the delivered one: the next counts findings as new from here.
      }, { recordDelivery: true });
      logger.info('digest produced', { cas: digest.cas.length, since: digest.since, mailed });
      metrics.addMetric('DigestsProduced', MetricUnit.Count, 1);
      return { cas: digest.cas.length, since: digest.since, mailed };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let deps: DigestDeps | undefined;
export const handler = createDigestHandler(() => (deps ??= mailingDepsFromEnvironment(process.env)));
