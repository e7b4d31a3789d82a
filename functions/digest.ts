/**
 * The forum digest (EventBridge schedule, weekly by default): deliverDigest
 * (src/report/deliver-digest.ts) mails and records it, then publishes the
 * static dashboard to the evidence bucket under site/.
 */
import type { ScheduledEvent } from 'aws-lambda';
import type { SitePublisher } from '../src/ports/index.js';
import { deliverDigest } from '../src/report/deliver-digest.js';
import { s3SitePublisher } from '../src/runtime/aws-buckets.js';
import { mailingDepsFromEnvironment, type MailingDeps } from './shared/mailing.js';
import { MetricUnit } from './shared/observability.js';

export interface DigestDeps extends MailingDeps {
  /** Where the dashboard goes after the digest; absent when no evidence bucket is configured. */
  readonly site?: SitePublisher | null;
}

export function createDigestHandler(getDeps: () => DigestDeps) {
  return async (_event: ScheduledEvent): Promise<{ cas: number; since: string; mailed: boolean; sitePages?: number }> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    try {
      const { siteError, ...delivered } = await deliverDigest(deps);
      logger.info('digest produced', { cas: delivered.cas, since: delivered.since, mailed: delivered.mailed });
      metrics.addMetric('DigestsProduced', MetricUnit.Count, 1);
      if (siteError !== undefined) {
        logger.error('site not published', { error: siteError });
        metrics.addMetric('SitePublishFailed', MetricUnit.Count, 1);
      } else if (delivered.sitePages !== undefined) logger.info('site published', { pages: delivered.sitePages });
      return delivered;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let deps: DigestDeps | undefined;
export const handler = createDigestHandler(
  () => (deps ??= { ...mailingDepsFromEnvironment(process.env), site: s3SitePublisher(process.env) }),
);
