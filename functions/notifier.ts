/**
 * The notifier: after each finished check run (the "Check Completed" event on
 * the revwatch bus) and hourly as a backstop, sends the notices that are due,
 * one email per case, through SES. The ledger makes a repeated trigger send
 * nothing twice; a failed send stays due and fails this invocation, so the
 * Errors alarm sees it.
 */
import type { EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { notifyChangedCases } from '../src/notify/notices.js';
import type { RunRecord } from '../src/ports/store.js';
import { mailingDepsFromEnvironment, type MailingDeps } from './shared/mailing.js';
import { MetricUnit } from './shared/observability.js';

export type NotifierDeps = MailingDeps;

export type NotifierEvent = EventBridgeEvent<'Check Completed', RunRecord> | ScheduledEvent;

export function createNotifierHandler(getDeps: () => NotifierDeps) {
  return async (event: NotifierEvent): Promise<{ emails: number; notices: number }> => {
    const { store, mailer, clock, mail, logger, metrics, disclosures } = getDeps();
    try {
      const results = await notifyChangedCases({
        store,
        ledger: store,
        mailer,
        clock,
        from: mail.sender,
        defaultRecipients: mail.defaultRecipients,
        disclosures,
      });
      const failed = results.filter((r) => r.error);
      const sent = results.filter((r) => !r.error);
      for (const r of sent) logger.info('notice sent', { caseId: r.caseId, notices: r.notices.map((n) => n.key) });
      for (const r of failed) logger.error('notice not sent; it stays due', { caseId: r.caseId, error: r.error });
      metrics.addMetric('NoticeEmailsSent', MetricUnit.Count, sent.length);
      metrics.addMetric('NoticeEmailsFailed', MetricUnit.Count, failed.length);
      logger.info('notices done', { trigger: event['detail-type'], emails: sent.length });
      if (failed.length > 0)
        throw new Error(`${failed.length} notice email(s) not sent (cases ${failed.map((r) => r.caseId).join(', ')}); they stay due`);
      return { emails: sent.length, notices: sent.reduce((n, r) => n + r.notices.length, 0) };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let deps: NotifierDeps | undefined;
export const handler = createNotifierHandler(() => (deps ??= mailingDepsFromEnvironment(process.env)));
