/**
 * The check worker (SQS, reserved concurrency): runs one CRL job or one batch
 * of OCSP requests per message. Failed messages are reported one by one
 * (ReportBatchItemFailures), retried by the queue, and after three receives
 * land in the dead-letter queue. The worker that finishes a run's last job
 * announces it, which triggers the notifier.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SystemClock } from '../src/adapters/system-clock.js';
import { EventBridgeRunEvents } from '../src/adapters/aws/eventbridge-run-events.js';
import { IssuerCache } from '../src/check/execute.js';
import { parseJobMessage, runQueuedJob, type RunJobDeps } from '../src/check/fan-out.js';
import type { OcspLimits } from '../src/check/ocsp-limits.js';
import { HttpFetcher } from '../src/adapters/net/http-fetcher.js';
import { OcspClient } from '../src/adapters/net/ocsp-client.js';
import { loadEventBusName, loadEvidenceBucket, loadGoodAnswersBucket, loadOcspLimits, loadTableName } from './shared/config.js';
import { S3Client } from '@aws-sdk/client-s3';
import { S3EvidenceArchive } from '../src/adapters/aws/s3-evidence-archive.js';
import { S3GoodAnswerLog } from '../src/adapters/aws/s3-good-answer-log.js';
import { CHECKS_COMPLETED, createObservability, MetricUnit, type Observability } from './shared/observability.js';
import { tableStore } from './shared/store.js';

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

export function workerDepsFromEnvironment(env: Readonly<Record<string, string | undefined>>): WorkerDeps {
  const store = tableStore(loadTableName(env));
  const clock = new SystemClock();
  const bucket = loadEvidenceBucket(env);
  const goodAnswersBucket = loadGoodAnswersBucket(env);
  const s3 = bucket || goodAnswersBucket ? new S3Client({}) : null;
  const archive = bucket && s3 ? new S3EvidenceArchive(s3, bucket) : null;
  return {
    ...(archive ? { saveCrl: (sha256: string, bytes: Uint8Array) => archive.putCrl(sha256, bytes) } : {}),
    // The good answers each job received, for the exact backdating bound at a later change (docs/evidence.md).
    ...(goodAnswersBucket && s3
      ? { goodAnswers: (job: { runId: string; runStartedAt: number; jobId: string }) => new S3GoodAnswerLog(s3, goodAnswersBucket, job) }
      : {}),
    store,
    // Public responders only: the address guard refuses private and loopback addresses.
    // OCSP over keep-alive node:http, everything else (CRLs) through the general fetcher.
    fetcher: new OcspClient({ fallback: new HttpFetcher({ clock, allowPrivateNetwork: false }), allowPrivateNetwork: false }),
    clock,
    events: new EventBridgeRunEvents(new EventBridgeClient({}), loadEventBusName(env)),
    issuers: new IssuerCache(store),
    ocspLimits: loadOcspLimits(env),
    ...createObservability(),
  };
}

let deps: WorkerDeps | undefined;
export const handler = createWorkerHandler(() => (deps ??= workerDepsFromEnvironment(process.env)));
