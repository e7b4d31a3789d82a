import { InputError } from './errors.js';

/**
 * ISO-8601 instants with an explicit zone. A time without a zone is refused:
 * deadlines are UTC (BR 1.6.4; docs/rules.md) and a local time would
 * silently shift them.
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(value: string, what: string): number {
  const m = ISO_INSTANT.exec(value.trim());
  if (!m) {
    throw new InputError(`${what} must be an ISO-8601 time with a zone, such as 2024-07-31T19:30:00Z (got "${value}")`);
  }
  const ms = Date.parse(value.trim());
  const [, , mo, d, h, mi, s] = m;
  const month = Number(mo);
  const day = Number(d);
  if (Number.isNaN(ms) || month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59) {
    throw new InputError(`${what} is not a valid time: "${value}"`);
  }
  // Date.parse rolls 2023-02-30 over into March; refuse it instead.
  if (m[8] === 'Z' && new Date(ms).getUTCDate() !== day) throw new InputError(`${what} is not a valid date: "${value}"`);
  return ms;
}

/** ISO-8601 UTC with second precision, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms == null ? null : iso(ms);
}

/**
 * The last few thousand instants formatted: a status of 100,000 certificates
 * prints the same deadline, thisUpdate and nextUpdate over and over, and
 * formatting them was a tenth of its time.
 */
const formatted = new Map<number, string>();

export const iso = (ms: number): string => {
  let text = formatted.get(ms);
  if (text === undefined) {
    const full = new Date(ms).toISOString();
    text = full.endsWith('.000Z') ? `${full.slice(0, -5)}Z` : full;
    if (formatted.size >= 4096) formatted.clear();
    formatted.set(ms, text);
  }
  return text;
};
