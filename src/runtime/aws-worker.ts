/** What the check worker runs against (functions/worker.ts): the table, the bus, the buckets and the public fetch stack. */
import { IssuerCache } from '../check/execute.js';
import type { RunJobDeps } from '../check/fan-out.js';
import type { OcspLimits } from '../check/ocsp-limits.js';
import { openAwsRuntime } from './aws.js';
import { s3EvidenceArchive, s3GoodAnswerLogs } from './aws-buckets.js';
import { eventBridgeRunEvents } from './aws-fan-out.js';
import { loadOcspLimits, type Env } from './env.js';
import { openFetchStack } from './fetch-stack.js';

export type WorkerRuntime = RunJobDeps & {
  /** Per-host OCSP limits from the stack's context; the defaults when absent. */
  readonly ocspLimits?: OcspLimits;
};

export function openWorkerRuntime(env: Env): WorkerRuntime {
  const { store, clock } = openAwsRuntime(env);
  const events = eventBridgeRunEvents(env);
  const ocspLimits = loadOcspLimits(env);
  const archive = s3EvidenceArchive(env);
  const goodAnswers = s3GoodAnswerLogs(env);
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
  };
}
