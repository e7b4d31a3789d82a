/**
 * Runs one task per URL with per-host politeness: at most `perHost` in flight
 * to one host and `parallel` overall, hosts taken round-robin so a CA with
 * hundreds of shards on one host does not hold back the others (the same
 * scheduling as check/crl-pool.ts, for any item). A task must not throw: a
 * sweep's faults are data; a throw is a bug, and is rethrown once the tasks
 * in flight have settled, with nothing new started after it.
 */
export interface PoolLimits {
  readonly parallel: number;
  readonly perHost: number;
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
      while (failure === null && inFlight < limits.parallel) {
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
