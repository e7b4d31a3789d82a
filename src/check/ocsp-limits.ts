/**
 * How hard revwatch may press one OCSP responder: requests in flight per
 * host and the minimum spacing between two requests to it.
 *
 * The defaults are deliberately polite. RFC 5019 responders are CDN-fronted
 * caches and shrug at far more, but revwatch also asks small CAs' own
 * responders, and a run is repeated every 15 minutes: 4 in flight and one
 * request per 5 ms caps any host at 200 requests/s, which finishes 10,000
 * certificates of one CA in under a minute while staying well below rates
 * that rate-limiters and abuse filters act on. Raise them for a responder you
 * run yourself or have agreed with its operator (benchmarks, local CAs).
 */

export interface OcspLimits {
  /** Concurrent OCSP requests per responder host. */
  readonly ocspPerHost: number;
  /** Minimum spacing in milliseconds between two requests to one host (0: none). */
  readonly ocspMinIntervalMs: number;
}

export const DEFAULT_OCSP_PER_HOST = 4;
export const DEFAULT_OCSP_INTERVAL_MS = 5;
export const DEFAULT_OCSP_LIMITS: OcspLimits = { ocspPerHost: DEFAULT_OCSP_PER_HOST, ocspMinIntervalMs: DEFAULT_OCSP_INTERVAL_MS };

/** Bounds on what may be configured: past 64 in flight a single client is a load test, not a monitor. */
export const OCSP_PER_HOST_RANGE = { min: 1, max: 64 } as const;
export const OCSP_INTERVAL_MS_RANGE = { min: 0, max: 60_000 } as const;

/**
 * Reads one limit from text (a CLI option, an environment variable, CDK
 * context). Returns the number, or a message naming `what` and the range.
 */
export function parseOcspLimit(text: string, what: string, range: { readonly min: number; readonly max: number }): number | string {
  const trimmed = text.trim();
  const n = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max)
    return `${what} must be an integer from ${range.min} to ${range.max}, not "${text}"`;
  return n;
}
