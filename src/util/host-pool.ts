/**
 * Runs one task per URL with per-host politeness: at most `perHost` in flight
 * to one host and `parallel` overall, hosts taken round-robin so a CA with
 * hundreds of shards on one host does not hold back the others (a check's
 * CRLs, check/crl-pool.ts, and a sweep's, sweep/sweep.ts). A task that throws
 * is rethrown once the tasks in flight have settled, with nothing new started
 * after it.
 */
export interface PoolLimits {
  readonly parallel: number;
  readonly perHost: number;
  /** Checked before each start: once true, nothing new is started (the run is failing elsewhere). */
  readonly stopped?: () => boolean;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export async function runPerHost<T>(
  items: readonly T[],
  urlOf: (item: T) => string,
  run: (item: T) => Promise<void>,
  limits: PoolLimits,
): Promise<void> {
  const queues = new Map<string, { items: T[]; next: number; inFlight: number }>();
  for (const item of items) {
    const host = hostOf(urlOf(item));
    const q = queues.get(host) ?? { items: [], next: 0, inFlight: 0 };
    q.items.push(item);
    queues.set(host, q);
  }
  const hosts = [...queues.values()];
  let inFlight = 0;
  let cursor = 0;
  let failure: { error: unknown } | null = null;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (failure === null && inFlight < limits.parallel && !limits.stopped?.()) {
        let started = false;
        for (let tried = 0; tried < hosts.length; tried++) {
          const q = hosts[cursor]!;
          cursor = (cursor + 1) % hosts.length;
          if (q.inFlight >= limits.perHost || q.next >= q.items.length) continue;
          const item = q.items[q.next++]!;
          q.inFlight++;
          inFlight++;
          started = true;
          void run(item).then(
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
