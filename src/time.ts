import { InputError } from './errors.js';

/**
 * ISO-8601 instants with an explicit zone. A time without a zone is refused:
 * deadlines are UTC (rules.md, "Time conventions") and a local time would
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

/**
 * The one format for an instant anywhere a user sees it (reports, status, digest, JSON): ISO-8601 UTC to the
 * second, "2026-06-10T12:00:00Z". Milliseconds are cut, never rounded, so a time shown is never later than the
 * instant (a revocation shown at :59 was not made at the next second).
 */
export const iso = (ms: number): string => {
  const second = Math.floor(ms / 1000);
  // A direct-mapped cache: each second has one slot, found without hashing (epoch seconds are past the small
  // integers a Map hashes cheaply).
  const slot = second & (FORMATTED_SLOTS - 1);
  if (formattedSeconds[slot] === second) return formattedTexts[slot]!;
  const text = new Date(second * 1000).toISOString().replace('.000Z', 'Z');
  formattedSeconds[slot] = second;
  formattedTexts[slot] = text;
  return text;
};

/**
 * The last few thousand seconds formatted: a status of 100,000 certificates
 * prints the same deadline, thisUpdate and nextUpdate over and over, and
 * formatting them was a tenth of its time.
 */
const FORMATTED_SLOTS = 4096;
const formattedSeconds = new Float64Array(FORMATTED_SLOTS).fill(Number.NaN);
const formattedTexts: (string | undefined)[] = new Array<string | undefined>(FORMATTED_SLOTS).fill(undefined);

/** `iso`, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms == null ? null : iso(ms);
}

/**
 * A duration the way incident reports write it: "2 d 4 h 10 m", largest unit first, zero units left out,
 * minutes the finest unit shown ("< 1 m" below a minute, "0 m" for none). Negative durations get a minus sign.
 */
export function formatDuration(seconds: number): string {
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 0) return seconds === 0 ? '0 m' : '< 1 m';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  return [d ? `${d} d` : '', h ? `${h} h` : '', m ? `${m} m` : ''].filter(Boolean).join(' ');
}
