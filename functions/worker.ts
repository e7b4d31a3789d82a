/**
 * The check worker (SQS, reserved concurrency): runs one CRL job or one batch
 * of OCSP requests per message. Failed messages are reported one by one
 * (ReportBatchItemFailures), retried by the queue, and after three receives
 * land in the dead-letter queue. The worker that finishes a run's last job
 * announces it, which triggers the notifier. A sweep job (src/sweep/fan-out.ts) reads its CRL URLs into the
 * revocation index; the last one of a sweep announces "Sweep Completed".
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseJobMessage, runQueuedJob } from '../src/check/fan-out.js';
import { parseSweepJobMessage, runSweepJob } from '../src/sweep/fan-out.js';
import { openWorkerRuntime, type WorkerRuntime } from '../src/runtime/aws-worker.js';
import type { Env } from '../src/runtime/env.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';

export type WorkerDeps = WorkerRuntime & Observability;

export function createWorkerHandler(getDeps: () => WorkerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    const processRecord = async (record: SQSRecord): Promise<void> => {
      const receives = Number(record.attributes.ApproximateReceiveCount);
      try {
        const sweepJob = parseSweepJobMessage(record.body);
        if (sweepJob) {
          if (!deps.sweep) throw new Error('a sweep job, but the worker has no evidence bucket to keep its CRLs in');
          const s = await runSweepJob(deps.sweep, sweepJob);
          const count = (outcome: string) => s.results.filter((x) => x.outcome === outcome).length;
          logger.info('sweep job done', {
            sweep: s.sweep,
            jobId: s.jobId,
            duplicate: s.duplicate,
            urls: s.results.length,
            changed: count('changed'),
            faults: count('fault'),
            receives,
          });
          metrics.addMetric('SweepUrlsRead', MetricUnit.Count, s.results.length);
          if (s.finished) logger.info('sweep run finished', { ...s.finished });
          return;
        }
        const r = await runQueuedJob(deps, parseJobMessage(record.body), deps.ocspLimits);
        const { runId, jobId, kind, duplicate, observationsWritten, failedSources } = r;
        logger.info('check job done', {
          runId,
          jobId,
          kind,
          duplicate,
          changes: r.changes.length,
          observationsWritten,
          failedSources,
          receives,
        });
        metrics.addMetric('CheckJobsDone', MetricUnit.Count, 1);
        metrics.addMetric('AnswersChanged', MetricUnit.Count, r.changes.length);
        metrics.addMetric('SourcesFailed', MetricUnit.Count, failedSources.length);
        if (r.finished) logger.info('check run finished', { ...r.finished });
        if (r.finished) metrics.addMetric(CHECKS_COMPLETED, MetricUnit.Count, 1);
      } catch (err) {
        const failure = { messageId: record.messageId, receives, error: err as Error };
        logger.error('check job failed; the queue retries it, then dead-letters it', failure);
        throw err;
      }
    };
    try {
      // One job at a time: a CRL job can hold a 100 MB CRL in memory.
      return await processPartialResponse(event, processRecord, processor, { context, processInParallel: false });
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

export const workerDepsFromEnvironment = (env: Env): WorkerDeps => ({ ...openWorkerRuntime(env), ...createObservability() });

let deps: WorkerDeps | undefined;
export const handler = createWorkerHandler(() => (deps ??= workerDepsFromEnvironment(process.env)));
