/**
 * AWS mode when AWS cannot be reached (no route, DNS, a region that does not exist, a refused or
 * reset connection): an environment problem, not a bug in revwatch. One line naming what could not
 * be reached and what to check; exit 1 when nothing was written yet, 2 when the command had already
 * written part of its work (docs/cli.md, exit codes).
 */
import { AwsUnreachableError } from './errors.js';
import { oneLine } from './validate.js';
import type { Env, Runtime } from '../runtime/runtime.js';

/** Node's codes for a name that does not resolve (a wrong region gives an endpoint that does not exist). */
const NAME_NOT_FOUND = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
/** ...and for an address that cannot be reached or stops answering. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
]);

type NetworkError = Error & { code?: unknown; hostname?: unknown; address?: unknown; port?: unknown };

/** The network failure behind `err` (the store wraps the SDK's error as its cause), or null. */
function networkFailure(err: unknown): NetworkError | null {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 6; depth++, e = e.cause) {
    const code = (e as NetworkError).code;
    if (typeof code === 'string' && (NAME_NOT_FOUND.has(code) || UNREACHABLE.has(code))) return e;
    // The SDK's own connection and request timeouts.
    if (e.name === 'TimeoutError') return e;
  }
  return null;
}

/**
 * AWS mode could not reach AWS (no route, DNS, a region that does not exist, a refused or reset
 * connection): one line naming what could not be reached and what to check, or null when `err` is
 * something else. An environment problem, not a bug in revwatch.
 */
export function describeAwsNetworkError(err: unknown, region: string | undefined): string | null {
  const failure = networkFailure(err);
  if (!failure) return null;
  const code = typeof failure.code === 'string' ? failure.code : failure.name;
  const where =
    typeof failure.hostname === 'string'
      ? failure.hostname
      : typeof failure.address === 'string'
        ? `${failure.address}${typeof failure.port === 'number' ? `:${failure.port}` : ''}`
        : 'AWS';
  const hint = NAME_NOT_FOUND.has(code)
    ? `check AWS_REGION (${region?.trim() ? region.trim() : 'not set'}) and that this machine can resolve names`
    : 'check the network connection, and any proxy or firewall on the way';
  return `AWS mode: could not reach ${where} (${oneLine(failure.message.includes(code) ? failure.message : `${code}: ${failure.message}`)}); ${hint}`;
}

/** `err` as an AwsUnreachableError when it is a network failure, else `err` itself. */
export function asAwsUnreachable(err: unknown, runtime: Pick<Runtime, 'writesDone'>, env: Env): unknown {
  const line = describeAwsNetworkError(err, env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  if (!line) return err;
  const writes = runtime.writesDone?.() ?? 0;
  return new AwsUnreachableError(
    writes > 0 ? `${line}; partly done: ${writes} write(s) to the table had succeeded, run the command again once AWS is reachable` : line,
    writes > 0,
    { cause: err },
  );
}
