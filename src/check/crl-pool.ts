/**
 * How a local run fetches its CRLs: several at once, so one stalling CDP
 * costs one fetch deadline instead of holding back every CRL after it (a
 * certificate with 30 stalling CDPs took 30 deadlines one at a time), yet
 * politely and within memory:
 * - at most CRL_PARALLEL fetches in flight, and CRL_PER_HOST to one host;
 * - a CRL that was larger than LARGE_CRL_BYTES when last read is fetched
 *   alone, after the others: a CRL is held whole while it is scanned, and a
 *   few hundred MB side by side would multiply the run's peak memory.
 */
import type { CrlJob } from '../ports/index.js';
import { runPerHost } from '../util/host-pool.js';

export const CRL_PARALLEL = 4;
export const CRL_PER_HOST = 2;
export const LARGE_CRL_BYTES = 16 * 1024 * 1024;

export interface CrlPoolOptions {
  readonly parallel?: number;
  readonly perHost?: number;
  /** Checked before each start: true once the run is failing, and nothing new is started. */
  readonly stopped?: () => boolean;
}

/**
 * Runs `run` for every job within the limits (a job, or a handle that names its URL and last size and
 * leaves the job itself to the caller, who can then let it go once it has run). Resolves once every started
 * job has settled; rejects with the first failure after the jobs in flight
 * have settled (no new job is started after one fails).
 */
export async function runCrlJobs<J extends Pick<CrlJob, 'url' | 'keptBytes'>>(
  jobs: readonly J[],
  run: (job: J) => Promise<void>,
  options: CrlPoolOptions = {},
): Promise<void> {
  const large: J[] = [];
  const small: J[] = [];
  for (const job of jobs) ((job.keptBytes ?? 0) > LARGE_CRL_BYTES ? large : small).push(job);
  const urlOf = (job: J): string => job.url;
  const { stopped } = options;
  await runPerHost(small, urlOf, run, { parallel: options.parallel ?? CRL_PARALLEL, perHost: options.perHost ?? CRL_PER_HOST, stopped });
  await runPerHost(large, urlOf, run, { parallel: 1, perHost: 1, stopped });
}
