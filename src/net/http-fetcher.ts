/**
 * The Fetcher adapter over undici: timeouts at each stage, size caps,
 * manual redirects (each hop re-checked), retries with backoff and jitter for
 * transient faults only, conditional GET, and the address guard on every
 * connection. Remote faults are returned, never thrown.
 */
import { createHash } from 'node:crypto';
import { Agent, buildConnector, request, errors as undiciErrors } from 'undici';
import type { Clock, FetchFailure, FetchFailureKind, FetchRequest, FetchResult, Fetcher } from '../ports.js';
import { AddressRefusedError, guardedLookup, literalRefusal, refusalReason, type GuardOptions } from './address-guard.js';

export interface HttpFetcherOptions extends GuardOptions {
  readonly clock: Clock;
  /** TCP (and TLS) connection set-up. */
  readonly connectTimeoutMs?: number;
  /** From request sent to response headers received. */
  readonly headersTimeoutMs?: number;
  /** Longest pause between two body chunks: a body that stalls fails here. */
  readonly bodyTimeoutMs?: number;
  readonly maxRedirects?: number;
  /** Attempts in all, for transient faults (timeouts, resets, 429, 502-504). */
  readonly maxAttempts?: number;
  readonly backoffBaseMs?: number;
  readonly userAgent?: string;
  /** Jitter source in [0, 1); injectable so tests can pin it. */
  readonly random?: () => number;
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

class TooLargeError extends Error {}

export class HttpFetcher implements Fetcher {
  private readonly agent: Agent;
  private readonly options: Required<Omit<HttpFetcherOptions, 'clock' | 'random'>> & Pick<HttpFetcherOptions, 'clock' | 'random'>;

  constructor(options: HttpFetcherOptions) {
    this.options = {
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 30_000,
      maxRedirects: 5,
      maxAttempts: 3,
      backoffBaseMs: 500,
      userAgent: 'revwatch (+https://github.com/revwatch/revwatch)',
      ...options,
    };
    const guard: GuardOptions = { allowPrivateNetwork: options.allowPrivateNetwork };
    const base = buildConnector({ timeout: this.options.connectTimeoutMs, lookup: guardedLookup(guard) } as buildConnector.BuildOptions);
    // Check again on the socket itself: whatever resolved the name, the
    // address connected to is what counts.
    const connect: buildConnector.connector = (opts, callback) =>
      base(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        const remote = socket.remoteAddress;
        const reason = guard.allowPrivateNetwork || !remote ? null : refusalReason(remote);
        if (reason) {
          socket.destroy();
          return callback(new AddressRefusedError(`refused to connect to ${opts.hostname}: ${reason}`), null);
        }
        callback(null, socket);
      });
    this.agent = new Agent({
      connect,
      headersTimeout: this.options.headersTimeoutMs,
      bodyTimeout: this.options.bodyTimeoutMs,
      connections: 16,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    let attempt = 0;
    for (;;) {
      attempt++;
      const result = await this.fetchFollowingRedirects(req, attempt);
      if (result.ok || !isTransient(result) || attempt >= this.options.maxAttempts) return result;
      // Exponential backoff with full jitter over the upper half, so retries
      // from many probes do not arrive together.
      const ceiling = this.options.backoffBaseMs * 2 ** (attempt - 1);
      const random = this.options.random ?? Math.random;
      await this.options.clock.sleep(Math.round(ceiling / 2 + (ceiling / 2) * random()));
    }
  }

  private async fetchFollowingRedirects(req: FetchRequest, attempts: number): Promise<FetchResult> {
    let url = req.url;
    let method = req.method ?? 'GET';
    let body = req.body;
    for (let redirects = 0; ; redirects++) {
      const fail = (kind: FetchFailureKind, message: string, status?: number): FetchFailure => ({ ok: false, kind, message, url, status, attempts });
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return fail('bad-url', `"${url}" is not a URL`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        return fail('unsupported-scheme', `${parsed.protocol}// URLs are not supported (only http and https)`);
      }
      const literal = literalRefusal(parsed.hostname, this.options);
      if (literal) return fail('refused-address', `refused to connect to ${parsed.hostname}: ${literal} (use --allow-private-network for local responders)`);

      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...(req.headers ?? {}) };
      if (req.etag) headers['if-none-match'] = req.etag;
      if (req.lastModified) headers['if-modified-since'] = req.lastModified;
      let response;
      try {
        response = await request(parsed, { dispatcher: this.agent, method, headers, body: body ? Buffer.from(body) : undefined });
      } catch (err) {
        return classifyError(err, url, attempts);
      }
      const status = response.statusCode;
      const header = (name: string): string | null => {
        const v = response.headers[name];
        return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
      };
      if (REDIRECT_STATUS.has(status)) {
        await response.body.dump().catch(() => undefined);
        const location = header('location');
        if (!location) return fail('http-status', `HTTP ${status} without a Location header`, status);
        if (redirects >= this.options.maxRedirects) return fail('redirect-limit', `more than ${this.options.maxRedirects} redirects`, status);
        url = new URL(location, url).toString();
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      if (status === 304) {
        await response.body.dump().catch(() => undefined);
        return { ok: true, status, url, body: Buffer.alloc(0), sha256: '', notModified: true, etag: header('etag'), lastModified: header('last-modified'), contentType: null, redirects, attempts };
      }
      if (status < 200 || status > 299) {
        await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return fail('http-status', `HTTP ${status}`, status);
      }
      const declared = Number(header('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        response.body.destroy();
        return fail('too-large', `body of ${declared} bytes exceeds the ${req.maxBytes}-byte cap`);
      }
      try {
        const { bytes, sha256 } = await readCapped(response.body, req.maxBytes, Number.isFinite(declared) ? declared : null);
        return { ok: true, status, url, body: bytes, sha256, notModified: false, etag: header('etag'), lastModified: header('last-modified'), contentType: header('content-type'), redirects, attempts };
      } catch (err) {
        if (err instanceof TooLargeError) return fail('too-large', `body exceeds the ${req.maxBytes}-byte cap`);
        return classifyError(err, url, attempts);
      }
    }
  }
}

/** Streams a body into one buffer, hashing as it goes and stopping at the cap. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(err?: Error): void }, maxBytes: number, declared: number | null): Promise<{ bytes: Buffer; sha256: string }> {
  const hash = createHash('sha256');
  let buf = Buffer.allocUnsafe(declared !== null ? declared : 64 * 1024);
  let length = 0;
  for await (const chunk of body) {
    if (length + chunk.length > maxBytes) {
      body.destroy();
      throw new TooLargeError();
    }
    if (length + chunk.length > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(buf.length * 2, length + chunk.length)));
      buf.copy(bigger, 0, 0, length);
      buf = bigger;
    }
    chunk.copy(buf, length);
    length += chunk.length;
    hash.update(chunk);
  }
  return { bytes: buf.subarray(0, length), sha256: hash.digest('hex') };
}

function classifyError(err: unknown, url: string, attempts: number): FetchFailure {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  const cause = e.cause && typeof e.cause === 'object' ? e.cause : null;
  const refused = e instanceof AddressRefusedError ? e : cause instanceof AddressRefusedError ? cause : null;
  if (refused) return { ok: false, kind: 'refused-address', message: refused.message, url, attempts };
  if (
    e instanceof undiciErrors.ConnectTimeoutError ||
    e instanceof undiciErrors.HeadersTimeoutError ||
    e instanceof undiciErrors.BodyTimeoutError
  ) {
    return { ok: false, kind: 'timeout', message: e.message, url, attempts };
  }
  const code = e.code ?? cause?.code;
  return { ok: false, kind: 'network', message: code ? `${code}: ${e.message}` : e.message, url, attempts };
}

function isTransient(f: FetchFailure): boolean {
  if (f.kind === 'timeout') return true;
  if (f.kind === 'http-status') return f.status !== undefined && TRANSIENT_STATUS.has(f.status);
  if (f.kind === 'network') return /ECONNRESET|EPIPE|UND_ERR_SOCKET|ETIMEDOUT|EAI_AGAIN|other side closed/.test(f.message);
  return false;
}
