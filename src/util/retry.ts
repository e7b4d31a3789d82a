/**
 * Retries with exponential backoff on a Clock, so adapters that wait between
 * attempts (DynamoDB's unprocessed batch items, SQS's partly failed batches)
 * are tested on the FakeClock without real sleeps.
 */

export interface RetryOptions {
  /** Tries in all, the first included (at least 1). */
  readonly attempts: number;
  /** The wait before the second try; each later wait doubles, up to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs?: number;
  /** The Clock port's sleep (util/ sits below the ports, so it names only what it uses). */
  readonly clock: { sleep(ms: number): Promise<void> };
}

/** The outcome of one try: finished with a value, or worth another try. */
export type Attempt<T> = { readonly done: true; readonly value: T } | { readonly done: false };

/** The wait before retry number `retry` (1 = the second try): baseMs · 2^(retry−1), at most maxMs. */
export function backoffMs(retry: number, options: Pick<RetryOptions, 'baseMs' | 'maxMs'>): number {
  return Math.min(options.maxMs ?? Number.POSITIVE_INFINITY, options.baseMs * 2 ** (retry - 1));
}

/**
 * Calls `attempt(1)`, `attempt(2)`, … until one reports done, sleeping on the
 * clock between tries. When the last allowed try is not done either, throws
 * what `exhausted()` returns. An exception from `attempt` is not retried: it
 * is a fault the caller did not ask to retry, and passes straight through.
 */
export async function retry<T>(options: RetryOptions, attempt: (n: number) => Promise<Attempt<T>>, exhausted: () => Error): Promise<T> {
  const attempts = Math.max(1, options.attempts);
  for (let n = 1; ; n++) {
    if (n > 1) await options.clock.sleep(backoffMs(n - 1, options));
    const result = await attempt(n);
    if (result.done) return result.value;
    if (n >= attempts) throw exhausted();
  }
}
