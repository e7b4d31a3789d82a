/**
 * Reports, status and crl-health print instants to the second (src/time.ts `iso` cuts the milliseconds), so two
 * runs that an assertion orders strictly by a printed time must fall in different seconds: two runs inside one
 * second print equal times, however far apart their milliseconds were.
 */

/** Resolves once the real clock reads a later whole second than `instant` (ms since the epoch). */
export async function untilSecondAfter(instant: number): Promise<void> {
  const next = (Math.floor(instant / 1000) + 1) * 1000;
  for (let now = Date.now(); now < next; now = Date.now()) await new Promise((resolve) => setTimeout(resolve, next - now));
}
