/** AWS mode as the CLI opens it (--aws or REVWATCH_TABLE): the table, SES, the buckets, and the fetch stack. */
import { randomUUID } from 'node:crypto';
import { openAwsRuntime } from './aws.js';
import { s3EvidenceArchive, s3GoodAnswerLogs } from './aws-buckets.js';
import { sesMailer } from './aws-mail.js';
import { lazyFetchStack } from './lazy-fetch-stack.js';
import { TableRevocationIndex } from '../store/table-revocation-index.js';
import { TableSweepState } from '../store/table-sweep-state.js';
import type { Runtime, RuntimeOptions } from './runtime.js';

export function openAwsCliRuntime(options: RuntimeOptions): Runtime {
  const core = openAwsRuntime(options.env, { clock: options.clock });
  const goodAnswers = s3GoodAnswerLogs(options.env);
  const fetch = lazyFetchStack(options);
  return {
    mode: 'aws',
    store: core.store,
    mailer: sesMailer(),
    evidenceFiles: null,
    // A CLI check in AWS mode is one run of one job: it logs and reads the deployed workers' good answers.
    goodAnswers: goodAnswers?.({ runId: randomUUID(), runStartedAt: options.clock.now().getTime(), jobId: 'cli' }) ?? null,
    disclosures: core.disclosures,
    evidenceArchive: s3EvidenceArchive(options.env),
    // What the deployed sweeps (sweeper and workers) keep in the table: digest and site read it.
    sweepState: new TableSweepState(core.table),
    // The index the sweep's workers fold each changed CRL into: `lookup --aws` reads it.
    revocationIndex: new TableRevocationIndex(core.table),
    writesDone: core.writesDone,
    table: core.table,
    fetchStack: fetch.get,
    async close() {
      try {
        await fetch.close();
      } finally {
        await core.close();
      }
    },
  };
}
