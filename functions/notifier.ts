/**
 * The notifier: after each finished check run (the "Check Completed" event on
 * the revwatch bus) and hourly as a backstop, sends the notices that are due,
 * one email per case, through SES. The ledger makes a repeated trigger send
 * nothing twice; a failed send stays due and fails this invocation, so the
 * Errors alarm sees it. After each finished sweep ("Sweep Completed"), it
 * mails each CA owner's new violation-level CRL-health findings instead
 * (src/notify/crl-health-notices.ts), once each.
 */
import type { EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { notifyChangedCases } from '../src/notify/notices.js';
import { notifyCrlHealth } from '../src/notify/crl-health-notices.js';
import type { RunRecord } from '../src/ports/store.js';
import type { SweepRun } from '../src/ports/revocation-index.js';
import { mailingDepsFromEnvironment, type MailingDeps } from './shared/mailing.js';
import { MetricUnit } from './shared/observability.js';

export type NotifierDeps = MailingDeps;

export type NotifierEvent = EventBridgeEvent<'Check Completed', RunRecord> | EventBridgeEvent<'Sweep Completed', SweepRun> | ScheduledEvent;

export function createNotifierHandler(getDeps: () => NotifierDeps) {
  return async (event: NotifierEvent): Promise<{ emails: number; notices: number }> => {
    const deps = getDeps();
    const { store, mailer, clock, mail, logger, metrics, disclosures } = deps;
    try {
      if (event['detail-type'] === 'Sweep Completed') {
        const sweep = (event.detail as SweepRun).sweep;
        if (!deps.sweepState || !deps.healthNotices) return { emails: 0, notices: 0 };
        const results = await notifyCrlHealth(
          { sweepState: deps.sweepState, ledger: deps.healthNotices, mailer, clock, from: mail.sender, to: mail.defaultRecipients },
          sweep,
        );
        const failed = results.filter((r) => r.error);
        for (const r of results.filter((x) => !x.error)) logger.info('CRL-health notice sent', { owner: r.owner, findings: r.findings });
        for (const r of failed) logger.error('CRL-health notice not sent; released for the next sweep', { owner: r.owner, error: r.error });
        metrics.addMetric('CrlHealthNoticesSent', MetricUnit.Count, results.length - failed.length);
        logger.info('CRL-health notices done', { sweep, emails: results.length - failed.length });
        if (failed.length > 0)
          throw new Error(`${failed.length} CRL-health notice email(s) not sent (owners ${failed.map((r) => r.owner).join(', ')})`);
        return { emails: results.length, notices: results.reduce((n, r) => n + r.findings.length, 0) };
      }
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
