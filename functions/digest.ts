/**
 * The forum digest (EventBridge schedule, weekly by default): build it from
 * the table, mail it to the configured recipients, record it; then publish
 * the static dashboard (`revwatch site`) to the evidence bucket under site/.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { formatDigest, produceDigest } from '../src/report/digest.js';
import { buildSite } from '../src/report/site.js';
import type { SitePublisher } from '../src/ports/index.js';
import { s3SitePublisher } from '../src/runtime/aws-buckets.js';
import { mailingDepsFromEnvironment, type MailingDeps } from './shared/mailing.js';
import { MetricUnit } from './shared/observability.js';

export interface DigestDeps extends MailingDeps {
  /** Where the dashboard goes after the digest; absent when no evidence bucket is configured. */
  readonly site?: SitePublisher | null;
}

export function createDigestHandler(getDeps: () => DigestDeps) {
  return async (_event: ScheduledEvent): Promise<{ cas: number; since: string; mailed: boolean; sitePages?: number }> => {
    const { store, mailer, clock, mail, logger, metrics, site, disclosures } = getDeps();
    const now = clock.now().getTime();
    const mailed = mail.digestRecipients.length > 0;
    try {
      const digest = await produceDigest(
        store,
        now,
        undefined,
        async (d) => {
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
        },
        { recordDelivery: true, disclosures },
      );
      logger.info('digest produced', { cas: digest.cas.length, since: digest.since, mailed });
      metrics.addMetric('DigestsProduced', MetricUnit.Count, 1);
      if (!site) return { cas: digest.cas.length, since: digest.since, mailed };
      // The digest is delivered and recorded: a failed publication is logged and counted, never retried
      // by failing the invocation (a retry would mail the digest twice).
      let sitePages = 0;
      try {
        const pages = await buildSite(store, now, { disclosures });
        await site.publish(pages);
        sitePages = pages.length;
        logger.info('site published', { pages: sitePages });
      } catch (err) {
        logger.error('site not published', { error: (err as Error).message });
        metrics.addMetric('SitePublishFailed', MetricUnit.Count, 1);
      }
      return { cas: digest.cas.length, since: digest.since, mailed, sitePages };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let deps: DigestDeps | undefined;
export const handler = createDigestHandler(
  () => (deps ??= { ...mailingDepsFromEnvironment(process.env), site: s3SitePublisher(process.env) }),
);
