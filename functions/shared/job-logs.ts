/**
 * What the worker logs and counts for each job it ran: one structured line per job (with how many times the
 * queue delivered it) and the metrics the dashboard and the NoSuccessfulCheck alarm read.
 */
import type { RunJobResult } from '../../src/check/fan-out.js';
import type { RunSweepJobResult } from '../../src/sweep/fan-out.js';
import { CHECKS_COMPLETED, MetricUnit, type Observability } from './observability.js';

export function logCheckJob({ logger, metrics }: Observability, r: RunJobResult, receives: number): void {
  const { runId, jobId, kind, duplicate, observationsWritten, failedSources } = r;
  logger.info('check job done', { runId, jobId, kind, duplicate, changes: r.changes.length, observationsWritten, failedSources, receives });
  metrics.addMetric('CheckJobsDone', MetricUnit.Count, 1);
  metrics.addMetric('AnswersChanged', MetricUnit.Count, r.changes.length);
  metrics.addMetric('SourcesFailed', MetricUnit.Count, failedSources.length);
  if (r.finished) logger.info('check run finished', { ...r.finished });
  if (r.finished) metrics.addMetric(CHECKS_COMPLETED, MetricUnit.Count, 1);
}

export function logSweepJob({ logger, metrics }: Observability, s: RunSweepJobResult, receives: number): void {
  const count = (outcome: string) => s.results.filter((x) => x.outcome === outcome).length;
  const { sweep, jobId, duplicate } = s;
  logger.info('sweep job done', {
    sweep,
    jobId,
    duplicate,
    urls: s.results.length,
    changed: count('changed'),
    faults: count('fault'),
    receives,
  });
  metrics.addMetric('SweepUrlsRead', MetricUnit.Count, s.results.length);
  if (s.finished) logger.info('sweep run finished', { ...s.finished });
}
