/**
 * Checks on what the user typed, and the translation of user-caused failures
 * (a missing directory, absent AWS credentials) into one-line InputErrors:
 * bad input exits 1 with one clear line and writes nothing; exit 70 is kept
 * for real bugs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { ENV } from '../runtime/env.js';
import { InputError } from '../errors.js';
import { iso } from '../time.js';
import { fsReason } from '../util/fs-reason.js';
import { oneLine } from '../util/terminal.js';

export { oneLine };

/** How far ahead of this machine's clock a report time may be: clock skew between hosts, not a typo'd year. */
export const REPORTED_AT_FUTURE_TOLERANCE_MS = 5 * 60_000;

/** A report (or confirmation) time cannot be in the future: the deadline clock starts when the CA was made aware. */
export function requireNotFuture(ms: number, now: number, what: string): number {
  if (ms > now + REPORTED_AT_FUTURE_TOLERANCE_MS) {
    throw new InputError(`${what} ${iso(ms)} is in the future (more than 5 minutes after now, ${iso(now)})`);
  }
  return ms;
}

/**
 * Characters no identifier or URL may hold: controls (C0, DEL, C1), line and paragraph separators, and the
 * format characters (Unicode Cf: zero-width spaces and joiners, the bidi controls U+202A-U+202E,
 * U+2066-U+2069 and marks, the BOM). A bidi override makes an id read differently from what it is (a
 * "Trojan Source" spoof), and an invisible one makes two ids look the same.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
/** Blank though not whitespace: fillers that render as nothing. */
const VISIBLE = /[^\p{White_Space}\p{Cf}\u115f\u1160\u3164\uffa0\u2800]/u;

/** The first hidden character of a value, named for a message ("U+202E"), or null. */
function hiddenCharacter(value: string): string | null {
  const m = HIDDEN.exec(value);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null;
}

/** commander argParser for --case: a visible, single-line id. */
export function parseCaseId(value: string): string {
  if (value.trim() === '') throw new InputError('--case must not be empty');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InputError(`--case "${oneLine(value)}" contains control characters`);
  const hidden = hiddenCharacter(value);
  if (hidden) throw new InputError(`--case "${oneLine(value)}" contains an invisible or bidi control character (${hidden})`);
  if (!VISIBLE.test(value)) throw new InputError(`--case "${oneLine(value)}" has no visible character`);
  if (value !== value.trim()) throw new InputError(`--case "${value}" has leading or trailing spaces`);
  if (value.length > 200) throw new InputError('--case is longer than 200 characters');
  return value;
}

/**
 * --title: one line of text. A line break in a title forges a line in `status`, the digest and the
 * Markdown report, and a mail subject is a header (RFC 5322 2.2: no CR or LF inside a header body).
 */
export function parseTitle(value: string): string {
  if (value.trim() === '') throw new InputError('--title must not be empty');
  const hidden = hiddenCharacter(value);
  if (hidden) throw new InputError(`--title "${oneLine(value)}" contains a control, invisible or bidi control character (${hidden})`);
  if (value.length > 500) throw new InputError('--title is longer than 500 characters');
  return value;
}

/**
 * An absolute http or https URL as the user typed it. `new URL()` drops tabs and line breaks without a
 * word, so the text itself is checked first: a URL holds no whitespace, control or format character.
 */
function requireHttpUrl(option: string, value: string): URL {
  const hidden = /[\s]/u.test(value) ? 'whitespace' : hiddenCharacter(value);
  if (hidden) throw new InputError(`${option} "${oneLine(value)}" is not a URL: it contains ${hidden}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${option} "${oneLine(value)}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`${option} must be an http or https URL (got ${oneLine(url.protocol)})`);
  }
  return url;
}

/** commander argParser for --report-url: an absolute http or https URL, as it is rendered as a link in reports. */
export function parseReportUrl(value: string): string {
  requireHttpUrl('--report-url', value);
  return value;
}

/** commander argParser for --delayed-report-url: rendered as a link like --report-url, so held to the same rule. */
export function parseDelayedReportUrl(value: string): string {
  requireHttpUrl('--delayed-report-url', value);
  return value;
}

/** --notify: one plain address; CR/LF would inject mail headers. */
export function requireEmailAddress(value: string): string {
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value) || hiddenCharacter(value))
    throw new InputError(`--notify "${oneLine(value)}" is not an email address`);
  return value;
}

/** Overall fetch deadlines from the environment (REVWATCH_CRL_DEADLINE_MS, REVWATCH_OCSP_DEADLINE_MS), read by the CLI only. */
export function fetchDeadlinesFromEnv(env: Readonly<Record<string, string | undefined>>): {
  crlDeadlineMs?: number;
  ocspDeadlineMs?: number;
} {
  const read = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const ms = Number(raw);
    if (!Number.isInteger(ms) || ms < 100 || ms > 3_600_000)
      throw new InputError(`${name} must be a whole number of milliseconds between 100 and 3600000 (got "${oneLine(raw)}")`);
    return ms;
  };
  const result: { crlDeadlineMs?: number; ocspDeadlineMs?: number } = {};
  const crl = read(ENV.crlDeadlineMs);
  const ocsp = read(ENV.ocspDeadlineMs);
  if (crl !== undefined) result.crlDeadlineMs = crl;
  if (ocsp !== undefined) result.ocspDeadlineMs = ocsp;
  return result;
}

/** Writes --out; a path the user got wrong is an InputError, not a crash. */
export function writeOutFile(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (err) {
    throw new InputError(`cannot write --out ${oneLine(path)}: ${fsReason(err)}`);
  }
}

/** Creates a directory under --out; errors as for writeOutFile. */
export function makeOutDir(path: string, what: string): void {
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    throw new InputError(`cannot create ${oneLine(what)}: ${fsReason(err)}`);
  }
}

/**
 * Failures the user causes in AWS mode (no credentials, no region, no such
 * table, credentials refused): one line naming the fix, or null for anything
 * else. Recognised by the SDK's error names, which are part of its API.
 */
export function describeAwsSetupError(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const name = err.name;
  const message = err.message;
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
    return 'AWS mode: no AWS credentials found (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role)';
  }
  if (/Region is missing/.test(message)) return 'AWS mode: no AWS region configured (set AWS_REGION)';
  if (name === 'ResourceNotFoundException')
    return `AWS mode: the table was not found (${oneLine(message)}); check ${ENV.table} and AWS_REGION`;
  if (
    name === 'UnrecognizedClientException' ||
    name === 'InvalidSignatureException' ||
    name === 'ExpiredTokenException' ||
    name === 'AccessDeniedException'
  ) {
    return `AWS mode: the credentials were refused (${name}: ${oneLine(message)})`;
  }
  return null;
}

/** Commander parser for a repeatable `--crl-url` / `--ocsp-url`: an absolute http(s) URL. */
export function sourceUrlOption(option: string): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    // CRLs and OCSP are served over http (RFC 5280 4.2.1.13, RFC 6960 A.1); https is accepted as given.
    requireHttpUrl(option, value);
    return previous.includes(value) ? previous : [...previous, value];
  };
}

/** A whole number in [min, max] from a flag, or one clear line. */
export function boundedInteger(text: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InputError(`${option} must be a whole number from ${min} to ${max}, not "${oneLine(text)}"`);
  return n;
}
