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

export const CRL_PARALLEL = 4;
export const CRL_PER_HOST = 2;
export const LARGE_CRL_BYTES = 16 * 1024 * 1024;

export interface CrlPoolOptions {
  readonly parallel?: number;
  readonly perHost?: number;
  /** Checked before each start: true once the run is failing, and nothing new is started. */
  readonly stopped?: () => boolean;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Runs `run` for every job within the limits. Resolves once every started
 * job has settled; rejects with the first failure after the jobs in flight
 * have settled (no new job is started after one fails).
 */
export async function runCrlJobs(
  jobs: readonly CrlJob[],
  run: (job: CrlJob) => Promise<void>,
  options: CrlPoolOptions = {},
): Promise<void> {
  const large: CrlJob[] = [];
  const small: CrlJob[] = [];
  for (const job of jobs) ((job.keptBytes ?? 0) > LARGE_CRL_BYTES ? large : small).push(job);
  await runLimited(small, run, options.parallel ?? CRL_PARALLEL, options.perHost ?? CRL_PER_HOST, options.stopped);
  await runLimited(large, run, 1, 1, options.stopped);
}

async function runLimited(
  jobs: readonly CrlJob[],
  run: (job: CrlJob) => Promise<void>,
  parallel: number,
  perHost: number,
  stopped: (() => boolean) | undefined,
): Promise<void> {
  // One queue per host, taken round-robin: a host with thousands of shards does not hold back the others.
  const queues = new Map<string, { jobs: CrlJob[]; next: number; inFlight: number }>();
  for (const job of jobs) {
    const host = hostOf(job.url);
    const q = queues.get(host) ?? { jobs: [], next: 0, inFlight: 0 };
    q.jobs.push(job);
    queues.set(host, q);
  }
  const hosts = [...queues.values()];
  let inFlight = 0;
  let failure: { error: unknown } | null = null;
  let cursor = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (failure === null && inFlight < parallel && !stopped?.()) {
        let started = false;
        for (let tried = 0; tried < hosts.length; tried++) {
          const q = hosts[cursor]!;
          cursor = (cursor + 1) % hosts.length;
          if (q.inFlight >= perHost || q.next >= q.jobs.length) continue;
          const job = q.jobs[q.next++]!;
          q.inFlight++;
          inFlight++;
          started = true;
          void run(job).then(
            () => settle(q),
            (error: unknown) => {
              failure ??= { error };
              settle(q);
            },
          );
          break;
        }
        if (!started) break;
      }
      if (inFlight === 0) resolve();
    };
    const settle = (q: { inFlight: number }): void => {
      q.inFlight--;
      inFlight--;
      pump();
    };
    pump();
  });
  if (failure) throw (failure as { error: unknown }).error;
}
