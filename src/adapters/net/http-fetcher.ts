/**
 * The Fetcher adapter over undici: timeouts at each stage, size caps,
 * manual redirects (each hop re-checked), retries with backoff and jitter for
 * transient faults only, conditional GET, and the address guard on every
 * connection. Remote faults are returned, never thrown.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { request as nodeHttpRequest, type IncomingMessage } from 'node:http';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// undici's parts, not its index: the index loads fetch, WebSocket, caches and mocks too (src/types/undici-parts.d.ts).
import Agent from 'undici/lib/dispatcher/agent.js';
import buildConnector from 'undici/lib/core/connect.js';
import undiciErrors from 'undici/lib/core/errors.js';
import undiciRequest from 'undici/lib/api/api-request.js';
import type { Clock, FetchFailure, FetchFailureKind, FetchRequest, FetchResult, Fetcher } from '../../ports/index.js';
import { AddressRefusedError, guardDecision, guardedLookup, literalRefusal, refusalMessage, type GuardOptions } from './address-guard.js';

export interface HttpFetcherOptions extends GuardOptions {
  readonly clock: Clock;
  /** TCP (and TLS) connection set-up. */
  readonly connectTimeoutMs?: number;
  /** From request sent to response headers received. */
  readonly headersTimeoutMs?: number;
  /** Longest pause between two body chunks: a body that stalls fails here. */
  readonly bodyTimeoutMs?: number;
  /**
   * Overall deadline of one fetch (every attempt, redirect, backoff and body
   * byte), by purpose. A slow drip of one byte a second never trips the
   * per-chunk body timeout; this ends it.
   */
  readonly crlDeadlineMs?: number;
  readonly ocspDeadlineMs?: number;
  readonly otherDeadlineMs?: number;
  /**
   * Bodies without a Content-Length are held in memory up to this many bytes
   * and then spill to a temporary file, so an endless body costs at most this
   * much memory before the size cap stops it.
   */
  readonly spillToDiskAfterBytes?: number;
  /** Told the temporary file's path whenever a body spills to disk (logging, tests). */
  readonly onSpill?: (path: string) => void;
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

export const DEFAULT_CRL_DEADLINE_MS = 60_000;
export const DEFAULT_OCSP_DEADLINE_MS = 15_000;
export const DEFAULT_OTHER_DEADLINE_MS = 60_000;
const DEFAULT_SPILL_AFTER_BYTES = 64 * 1024 * 1024;

class TooLargeError extends Error {}

/** Thrown into the request and body stream when the fetch's overall deadline passes. */
class DeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`no complete answer within the ${deadlineMs / 1000} s fetch deadline`);
    this.name = 'DeadlineError';
  }
}

export class HttpFetcher implements Fetcher {
  private readonly agent: Agent;
  private readonly options: Required<Omit<HttpFetcherOptions, 'clock' | 'random' | 'onSpill'>> &
    Pick<HttpFetcherOptions, 'clock' | 'random' | 'onSpill'>;

  constructor(options: HttpFetcherOptions) {
    this.options = {
      connectTimeoutMs: 10_000,
      headersTimeoutMs: 15_000,
      bodyTimeoutMs: 30_000,
      crlDeadlineMs: DEFAULT_CRL_DEADLINE_MS,
      ocspDeadlineMs: DEFAULT_OCSP_DEADLINE_MS,
      otherDeadlineMs: DEFAULT_OTHER_DEADLINE_MS,
      spillToDiskAfterBytes: DEFAULT_SPILL_AFTER_BYTES,
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
        const refusal = remote ? guardDecision(remote, guard) : null;
        if (refusal) {
          socket.destroy();
          return callback(new AddressRefusedError(refusalMessage(opts.hostname, refusal, guard)), null);
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

  /**
   * One request and its response head. undici ends the connection on any 100
   * Continue it did not ask for ("bad response"), but RFC 9110 15.2 has a
   * client accept interim answers it did not expect; so on that one error the
   * exchange is repeated once over node:http, which skips them.
   */
  private async exchange(
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<Exchange> {
    try {
      const r = await undiciRequest.call(this.agent, {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        body: body ? Buffer.from(body) : undefined,
        signal,
      });
      return {
        statusCode: r.statusCode,
        headers: r.headers,
        body: r.body,
        dump: () =>
          r.body.dump({ limit: 64 * 1024 }).then(
            () => undefined,
            () => undefined,
          ),
      };
    } catch (err) {
      if (!(err instanceof undiciErrors.SocketError && err.message === 'bad response') || signal.aborted) throw err;
      return this.exchangeSkippingInterim(url, method, headers, body, signal);
    }
  }

  /**
   * The same exchange over node:http on a connection of its own. The
   * connection is made (and its address checked against the guard) before a
   * byte of the request is written, like the undici connector above.
   */
  private async exchangeSkippingInterim(
    url: URL,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    signal: AbortSignal,
  ): Promise<Exchange> {
    const socket = await this.guardedSocket(url, signal);
    return new Promise<Exchange>((resolve, reject) => {
      const req = nodeHttpRequest(url, {
        method,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
        createConnection: () => socket,
        signal,
      });
      // The per-stage timeouts of the undici agent: no byte for that long ends the exchange.
      socket.setTimeout(Math.max(this.options.headersTimeoutMs, this.options.bodyTimeoutMs), () =>
        socket.destroy(new undiciErrors.HeadersTimeoutError()),
      );
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) =>
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: res.headers,
          body: res,
          dump: async () => {
            res.destroy();
          },
        }),
      );
      req.end(body ? Buffer.from(body) : undefined);
    });
  }

  private guardedSocket(url: URL, signal: AbortSignal): Promise<Socket> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return new Promise<Socket>((resolve, reject) => {
      const raw = netConnect({ host, port, lookup: guardedLookup(this.options) });
      const timer = setTimeout(() => raw.destroy(new undiciErrors.ConnectTimeoutError()), this.options.connectTimeoutMs);
      const onAbort = (): void => {
        raw.destroy(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (err: Error | null, socket?: Socket): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(socket!);
      };
      raw.once('error', (err) => done(err));
      raw.once('connect', () => {
        raw.removeAllListeners('error');
        // Until node:http listens for errors (a tick later), one must not crash the process.
        raw.on('error', () => undefined);
        const refusal = raw.remoteAddress ? guardDecision(raw.remoteAddress, this.options) : null;
        if (refusal) {
          raw.destroy();
          return done(new AddressRefusedError(refusalMessage(host, refusal, this.options)));
        }
        if (url.protocol !== 'https:') return done(null, raw);
        const tls = tlsConnect({ socket: raw, ...(isIP(host) ? {} : { servername: host }) });
        tls.once('error', (err) => done(err));
        tls.once('secureConnect', () => {
          tls.removeAllListeners('error');
          tls.on('error', () => undefined);
          done(null, tls);
        });
      });
    });
  }

  /** The overall deadline that applies to a request. */
  deadlineFor(req: FetchRequest): number {
    if (req.deadlineMs !== undefined) return req.deadlineMs;
    if (req.purpose === 'crl') return this.options.crlDeadlineMs;
    if (req.purpose === 'ocsp') return this.options.ocspDeadlineMs;
    return this.options.otherDeadlineMs;
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    const deadlineMs = this.deadlineFor(req);
    // The deadline is a network timeout like undici's own (headersTimeout,
    // bodyTimeout), so it runs on real timers: a FakeClock cannot stop a
    // socket from dripping. unref: a pending deadline never holds the process.
    const controller = new AbortController();
    const startedAt = performance.now();
    const timer = setTimeout(() => controller.abort(new DeadlineError(deadlineMs)), deadlineMs);
    timer.unref();
    try {
      let attempt = 0;
      for (;;) {
        attempt++;
        const result = await this.fetchFollowingRedirects(req, attempt, controller.signal);
        if (result.ok || !isTransient(result) || attempt >= this.options.maxAttempts || controller.signal.aborted) return result;
        // Exponential backoff with full jitter over the upper half, so retries
        // from many probes do not arrive together.
        const ceiling = this.options.backoffBaseMs * 2 ** (attempt - 1);
        const random = this.options.random ?? Math.random;
        const pause = Math.round(ceiling / 2 + (ceiling / 2) * random());
        // No retry that could not even start before the deadline: the last
        // answer stands.
        if (performance.now() - startedAt + pause >= deadlineMs) return result;
        await this.options.clock.sleep(pause);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchFollowingRedirects(req: FetchRequest, attempts: number, signal: AbortSignal): Promise<FetchResult> {
    let url = req.url;
    let method = req.method ?? 'GET';
    let body = req.body;
    for (let redirects = 0; ; redirects++) {
      const fail = (kind: FetchFailureKind, message: string, status?: number): FetchFailure => ({
        ok: false,
        kind,
        message,
        url,
        status,
        attempts,
      });
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        return fail('bad-url', `"${url}" is not a URL`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        return fail('unsupported-scheme', `${parsed.protocol}// URLs are not supported (only http and https)`);
      }
      // Credentials in a URL (RFC 3986 3.2.1 userinfo, deprecated by RFC 9110 4.2.4) come from a
      // certificate or a Location a CA's server chose: never sent. undici ignores them, but node:http
      // (the interim-answer path below) turns them into an Authorization header.
      parsed.username = '';
      parsed.password = '';
      const literal = literalRefusal(parsed.hostname, this.options);
      if (literal) return fail('refused-address', refusalMessage(parsed.hostname, literal, this.options));

      const headers: Record<string, string> = { 'user-agent': this.options.userAgent, ...(req.headers ?? {}) };
      if (req.etag) headers['if-none-match'] = req.etag;
      if (req.lastModified) headers['if-modified-since'] = req.lastModified;
      let response: Exchange;
      try {
        if (signal.aborted) throw signal.reason;
        response = await this.exchange(parsed, method, headers, body, signal);
      } catch (err) {
        return classifyError(signal.aborted ? signal.reason : err, url, attempts);
      }
      const status = response.statusCode;
      const header = (name: string): string | null => {
        const v = response.headers[name];
        return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
      };
      if (REDIRECT_STATUS.has(status)) {
        await response.dump();
        const location = header('location');
        if (!location) return fail('http-status', `HTTP ${status} without a Location header`, status);
        if (redirects >= this.options.maxRedirects)
          return fail('redirect-limit', `more than ${this.options.maxRedirects} redirects`, status);
        url = new URL(location, url).toString();
        if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      if (status === 304) {
        await response.dump();
        // RFC 9110 15.4.5: 304 answers a conditional request only. Sent no validator, the server has
        // said nothing about any CRL: taken as "unchanged", the source would vanish from the run.
        if (!req.etag && !req.lastModified)
          return fail(
            'http-status',
            'HTTP 304 Not Modified to a request that sent no validator (If-None-Match, If-Modified-Since)',
            status,
          );
        return {
          ok: true,
          status,
          url,
          body: Buffer.alloc(0),
          sha256: '',
          notModified: true,
          etag: header('etag'),
          lastModified: header('last-modified'),
          contentType: null,
          redirects,
          attempts,
        };
      }
      if (status < 200 || status > 299) {
        await response.dump();
        return fail('http-status', `HTTP ${status}`, status);
      }
      const declared = Number(header('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > req.maxBytes) {
        response.body.destroy();
        return fail('too-large', `body of ${declared} bytes exceeds the ${req.maxBytes}-byte cap`);
      }
      try {
        const { bytes, sha256 } = await readCapped(
          response.body,
          req.maxBytes,
          Number.isFinite(declared) ? declared : null,
          this.options.spillToDiskAfterBytes,
          this.options.onSpill,
        );
        return {
          ok: true,
          status,
          url,
          body: bytes,
          sha256,
          notModified: false,
          etag: header('etag'),
          lastModified: header('last-modified'),
          contentType: header('content-type'),
          redirects,
          attempts,
        };
      } catch (err) {
        if (err instanceof TooLargeError) return fail('too-large', `body exceeds the ${req.maxBytes}-byte cap`);
        return classifyError(signal.aborted ? signal.reason : err, url, attempts);
      }
    }
  }
}

type BodyStream = AsyncIterable<Buffer> & { destroy(err?: Error): void };

/** A response head and its body, from undici or (after an unasked 100 Continue) node:http. */
interface Exchange {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: BodyStream;
  /** Discards what is left of the body; never throws. */
  dump(): Promise<void>;
}

/**
 * Streams a body, hashing as it goes and stopping at the cap; the caller gets
 * one Buffer of exactly the body's size. Memory for one fetch stays within
 * max(body, spillAfter) plus a chunk or two, never a multiple of the body:
 * - with a Content-Length (already checked against the cap), one buffer of
 *   that size is allocated up front and filled in place;
 * - without one, chunks are held until spillAfter bytes, then written to a
 *   temporary file; at the end the file is read into one exact-size buffer
 *   and removed. An endless body is cut at the cap with at most spillAfter
 *   bytes in memory and the rest on disk.
 * The CRL scanner needs the whole CRL addressable at once (it walks the DER
 * by offset), which is why the end result is still one Buffer.
 */
async function readCapped(
  body: BodyStream,
  maxBytes: number,
  declared: number | null,
  spillAfter: number,
  onSpill?: (path: string) => void,
): Promise<{ bytes: Buffer; sha256: string }> {
  const hash = createHash('sha256');
  let length = 0;
  if (declared !== null) {
    const buf = Buffer.allocUnsafe(declared);
    for await (const chunk of body) {
      if (length + chunk.length > declared) {
        // More bytes than the Content-Length said (undici normally stops
        // this first): never write past the buffer.
        body.destroy();
        throw new Error(`body longer than its Content-Length of ${declared} bytes`);
      }
      chunk.copy(buf, length);
      length += chunk.length;
      hash.update(chunk);
    }
    return { bytes: length === declared ? buf : buf.subarray(0, length), sha256: hash.digest('hex') };
  }
  let chunks: Buffer[] = [];
  let spill: { dir: string; file: FileHandle } | null = null;
  try {
    for await (const chunk of body) {
      if (length + chunk.length > maxBytes) {
        body.destroy();
        throw new TooLargeError();
      }
      hash.update(chunk);
      length += chunk.length;
      if (spill) {
        await writeAll(spill.file, chunk);
      } else {
        chunks.push(chunk);
        if (length > spillAfter) {
          const dir = await mkdtemp(join(tmpdir(), 'revwatch-body-'));
          spill = { dir, file: await open(join(dir, 'body'), 'w+', 0o600) };
          onSpill?.(join(dir, 'body'));
          for (const held of chunks) await writeAll(spill.file, held);
          chunks = [];
        }
      }
    }
    if (!spill) return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length), sha256: hash.digest('hex') };
    const bytes = Buffer.allocUnsafe(length);
    for (let offset = 0; offset < length; ) {
      const { bytesRead } = await spill.file.read(bytes, offset, Math.min(8 * 1024 * 1024, length - offset), offset);
      if (bytesRead === 0) throw new Error('temporary body file ended early');
      offset += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    if (spill) {
      await spill.file.close().catch(() => undefined);
      await rm(spill.dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

function classifyError(err: unknown, url: string, attempts: number): FetchFailure {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  const cause = e.cause && typeof e.cause === 'object' ? e.cause : null;
  const refused = e instanceof AddressRefusedError ? e : cause instanceof AddressRefusedError ? cause : null;
  if (refused) return { ok: false, kind: 'refused-address', message: refused.message, url, attempts };
  if (e instanceof DeadlineError) return { ok: false, kind: 'timeout', message: e.message, url, attempts };
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
