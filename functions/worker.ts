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
import { logCheckJob, logSweepJob } from './shared/job-logs.js';
import { createObservability, type Observability } from './shared/observability.js';

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
          logSweepJob(deps, await runSweepJob(deps.sweep, sweepJob), receives);
          return;
        }
        logCheckJob(deps, await runQueuedJob(deps, parseJobMessage(record.body), deps.ocspLimits), receives);
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
