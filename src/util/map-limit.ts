/**
 * Maps over `items` with at most `limit` calls in flight; results keep the
 * input order. Once a call fails, no further item is started, and the
 * returned promise rejects with the first failure once the calls already in
 * flight have settled: nothing this started is still running when it
 * returns (a store closed after a failed batch is not written to, or read
 * from, a moment later).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return out;
}

/**
 * Runs the functions it is given one at a time, in the order given, however
 * many callers are waiting. Once one fails, every later one is refused with
 * the same failure instead of running.
 */
export function oneAtATime(): (fn: () => void | Promise<void>) => Promise<void> {
  let turn: Promise<void> = Promise.resolve();
  return (fn) => {
    const run = turn.then(fn);
    turn = run;
    return run;
  };
}
