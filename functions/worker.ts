/**
 * The check worker (SQS, reserved concurrency): runs one CRL job or one batch
 * of OCSP requests per message. Failed messages are reported one by one
 * (ReportBatchItemFailures), retried by the queue, and after three receives
 * land in the dead-letter queue. The worker that finishes a run's last job
 * announces it, which triggers the notifier.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { IssuerCache } from '../src/check/execute.js';
import { parseJobMessage, runQueuedJob, type RunJobDeps } from '../src/check/fan-out.js';
import type { OcspLimits } from '../src/check/ocsp-limits.js';
import { openAwsRuntime } from '../src/runtime/aws.js';
import { openAwsBuckets } from '../src/runtime/aws-buckets.js';
import { eventBridgeRunEvents } from '../src/runtime/aws-fan-out.js';
import { loadOcspLimits, type Env } from '../src/runtime/env.js';
import { openFetchStack } from '../src/runtime/fetch-stack.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';

export type WorkerDeps = RunJobDeps &
  Observability & {
    /** Per-host OCSP limits from the stack's context; the defaults when absent. */
    readonly ocspLimits?: OcspLimits;
  };

export function createWorkerHandler(getDeps: () => WorkerDeps) {
  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deps = getDeps();
    const { logger, metrics } = deps;
    const processRecord = async (record: SQSRecord): Promise<void> => {
      const receives = Number(record.attributes.ApproximateReceiveCount);
      try {
        const r = await runQueuedJob(deps, parseJobMessage(record.body), deps.ocspLimits);
        logger.info('check job done', {
          runId: r.runId,
          jobId: r.jobId,
          kind: r.kind,
          duplicate: r.duplicate,
          changes: r.changes.length,
          observationsWritten: r.observationsWritten,
          failedSources: r.failedSources,
          receives,
        });
        metrics.addMetric('CheckJobsDone', MetricUnit.Count, 1);
        metrics.addMetric('AnswersChanged', MetricUnit.Count, r.changes.length);
        metrics.addMetric('SourcesFailed', MetricUnit.Count, r.failedSources.length);
        if (r.finished) {
          logger.info('check run finished', { ...r.finished });
          metrics.addMetric(CHECKS_COMPLETED, MetricUnit.Count, 1);
        }
      } catch (err) {
        logger.error('check job failed; the queue retries it, then dead-letters it', {
          messageId: record.messageId,
          receives,
          error: err as Error,
        });
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

export function workerDepsFromEnvironment(env: Env): WorkerDeps {
  const { store, clock } = openAwsRuntime(env);
  const events = eventBridgeRunEvents(env);
  const ocspLimits = loadOcspLimits(env);
  const { evidenceArchive: archive, goodAnswers } = openAwsBuckets(env);
  return {
    ...(archive ? { saveCrl: (sha256: string, bytes: Uint8Array) => archive.putCrl(sha256, bytes) } : {}),
    // The good answers each job received, for the exact backdating bound at a later change (docs/evidence.md).
    ...(goodAnswers ? { goodAnswers } : {}),
    store,
    // Public responders only: the address guard refuses private and loopback addresses.
    fetcher: openFetchStack({ clock, allowPrivateNetwork: false }).fetcher,
    clock,
    events,
    issuers: new IssuerCache(store),
    ocspLimits,
    ...createObservability(),
  };
}

let deps: WorkerDeps | undefined;
export const handler = createWorkerHandler(() => (deps ??= workerDepsFromEnvironment(process.env)));
