/** What the check worker runs against (functions/worker.ts): the table, the bus, the buckets and the public fetch stack. */
import { IssuerCache } from '../check/execute.js';
import type { RunJobDeps } from '../check/fan-out.js';
import type { OcspLimits } from '../check/ocsp-limits.js';
import type { RunSweepJobDeps } from '../sweep/fan-out.js';
import { TableRevocationIndex } from '../store/table-revocation-index.js';
import { TableSweepState } from '../store/table-sweep-state.js';
import { openAwsRuntime } from './aws.js';
import { s3EvidenceArchive, s3GoodAnswerLogs } from './aws-buckets.js';
import { eventBridgeRunEvents } from './aws-fan-out.js';
import { loadOcspLimits, type Env } from './env.js';
import { openFetchStack } from './fetch-stack.js';

export type WorkerRuntime = RunJobDeps & {
  /** Per-host OCSP limits from the stack's context; the defaults when absent. */
  readonly ocspLimits?: OcspLimits;
  /** The sweep's jobs (sweep/fan-out.ts), when the stack gives the evidence bucket their CRLs are kept in. */
  readonly sweep?: RunSweepJobDeps;
};

export function openWorkerRuntime(env: Env): WorkerRuntime {
  const { store, table, clock } = openAwsRuntime(env);
  const events = eventBridgeRunEvents(env);
  const ocspLimits = loadOcspLimits(env);
  const archive = s3EvidenceArchive(env);
  const goodAnswers = s3GoodAnswerLogs(env);
  // Public responders only: the address guard refuses private and loopback addresses.
  const fetcher = openFetchStack({ clock, allowPrivateNetwork: false }).fetcher;
  return {
    ...(archive ? { saveCrl: (sha256: string, bytes: Uint8Array) => archive.putCrl(sha256, bytes) } : {}),
    // The good answers each job received, for the exact backdating bound at a later change (docs/evidence.md).
    ...(goodAnswers ? { goodAnswers } : {}),
    store,
    fetcher,
    clock,
    events,
    issuers: new IssuerCache(store),
    ocspLimits,
    ...(archive
      ? {
          sweep: {
            ledger: new TableSweepState(table),
            index: new TableRevocationIndex(table),
            fetcher,
            clock,
            events,
            archive,
          },
        }
      : {}),
  };
}
