/**
 * Powertools logging and metrics for every function: structured JSON logs,
 * and CloudWatch metrics in the embedded metric format (written to stdout, no
 * API calls). All functions share the namespace and the `service` dimension,
 * so the stack's alarms can name a metric whichever function emits it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from './names.js';

export { CCADB_DISCLOSURE_AGE_HOURS, CCADB_DISCLOSURE_STALE, CHECKS_COMPLETED } from './names.js';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createObservability(): Observability {
  return {
    logger: new Logger({ serviceName: SERVICE_NAME }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME }),
  };
}

export { MetricUnit };
