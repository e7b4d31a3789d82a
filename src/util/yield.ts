/**
 * Lets timers and I/O run before going on with a long stretch of synchronous
 * work. A check plans ~100,000 certificates on the thread that also paces the
 * OCSP requests (one per `--ocsp-interval-ms` per host): a plan that holds the
 * thread for 200 ms holds every request of that time back with it, and the
 * run waits for them at the end.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** How many certificates are planned, or judged, between two yields: a few milliseconds of work. */
export const YIELD_EVERY = 256;
