/**
 * The OCSP exchange path: a Fetcher that sends OCSP requests to plain-http
 * responders over a lean node:net transport (ocsp-transport.ts) and to https
 * ones over node:https with keep-alive sockets, and hands everything else
 * (CRLs, caIssuers, redirects, retries) to the general fetcher it wraps.
 *
 * Why a second client: a check run is thousands of tiny request/response
 * pairs to a few hosts, and the cost per exchange inside revwatch, not the
 * responder, was the limit. Many responders (openssl's among them) close the
 * connection after every answer; undici treats each close as a socket error
 * and builds an error object with a stack trace for it, and node:http spends
 * most of an exchange's CPU on ClientRequest, agent and header machinery.
 * The lean transport writes each request as one Buffer, parses the answer
 * incrementally, takes a close as the normal end of an exchange, and reuses
 * the socket when the responder keeps it open (HTTP/1.1 keep-alive, one
 * request at a time: no pipelining).
 *
 * GET or POST (RFC 5019 section 5, RFC 6960 A.1): GET when the URL-encoded
 * base64 request is at most 255 bytes, which lets CDN-fronted responders
 * answer from cache; POST otherwise. A responder that refuses GET (or answers
 * it with malformedRequest) is asked by POST from then on, and one that
 * refuses POST is asked by GET: the choice is remembered per responder URL.
 *
 * Same guarantees as the general fetcher: the address guard (IP literals
 * refused before connecting, DNS answers filtered, and the address actually
 * connected to checked again), the caller's size cap on Content-Length and
 * while streaming, an overall deadline, and remote faults returned as
 * FetchFailure, never thrown.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { FetchFailure, FetchFailureKind, FetchRequest, FetchResult, Fetcher } from '../../ports/index.js';
import { AddressRefusedError, guardDecision, guardedLookup, literalRefusal, refusalMessage, type GuardOptions } from './address-guard.js';
import { LeanHttpTransport, requestBytes, requestHead, type LeanExchange } from './ocsp-transport.js';

export interface OcspClientOptions extends GuardOptions {
  /** Takes every request that is not an OCSP request, and OCSP requests that need redirects or retries. */
  readonly fallback: Fetcher;
  /** Deadline for one exchange, connection set-up to last body byte. */
  readonly timeoutMs?: number;
  /** Sockets per host the agent may hold; the per-host politeness limit is applied by the caller. */
  readonly maxSocketsPerHost?: number;
  readonly userAgent?: string;
  /**
   * Plain-http responders over the lean node:net transport (the default), or
   * over node:http as before (false): kept as a switch for diagnosis.
   */
  readonly leanHttp?: boolean;
}

type Method = 'GET' | 'POST';

/** RFC 5019 section 5: GET when the encoded request is at most 255 bytes. */
export const MAX_GET_REQUEST_BYTES = 255;

const OCSP_REQUEST_TYPE = 'application/ocsp-request';
/** A GET to a responder that only takes POST commonly comes back as one of these. */
const GET_REFUSED_STATUS = new Set([400, 404, 405, 414, 501]);
const POST_REFUSED_STATUS = new Set([405, 501]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

interface Target {
  readonly https: boolean;
  readonly host: string;
  readonly port: number;
  /** Path and query of the responder URL (GET appends the request to it). */
  readonly path: string;
}

/** What one request to a responder gave, over either transport. */
type Exchange = LeanExchange;

export class OcspClient implements Fetcher {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly methods = new Map<string, Method>();
  private readonly targets = new Map<string, Target | string>();
  private readonly lookup: ReturnType<typeof guardedLookup>;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly lean: LeanHttpTransport | null;

  constructor(private readonly options: OcspClientOptions) {
    const agentOptions = {
      keepAlive: true,
      maxSockets: options.maxSocketsPerHost ?? 16,
      maxFreeSockets: options.maxSocketsPerHost ?? 16,
      scheduling: 'lifo' as const,
    };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    // Always filtered: --allow-private-network opens loopback and private ranges, never link-local or
    // cloud-metadata addresses (address-guard.ts decides, with the same options as the general fetcher).
    this.lookup = guardedLookup(options);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.userAgent = options.userAgent ?? 'revwatch (+https://github.com/revwatch/revwatch)';
    this.lean =
      options.leanHttp === false
        ? null
        : new LeanHttpTransport({ allowPrivateNetwork: options.allowPrivateNetwork, maxIdlePerHost: options.maxSocketsPerHost ?? 16 });
  }

  async close(): Promise<void> {
    this.lean?.close();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** The method this client will try first for a responder, once it has learnt one (tests, diagnostics). */
  methodFor(responderUrl: string): Method | null {
    return this.methods.get(responderUrl) ?? null;
  }

  async fetch(req: FetchRequest): Promise<FetchResult> {
    const contentType = headerValue(req.headers, 'content-type');
    if (req.method !== 'POST' || !req.body || contentType !== OCSP_REQUEST_TYPE || req.etag || req.lastModified)
      return this.options.fallback.fetch(req);
    const target = this.target(req.url);
    if (typeof target === 'string') return this.options.fallback.fetch(req);
    const fail = (kind: FetchFailureKind, message: string, status?: number): FetchFailure => ({
      ok: false,
      kind,
      message,
      url: req.url,
      status,
      attempts: 1,
    });
    const literal = literalRefusal(target.host, this.options);
    if (literal) return fail('refused-address', refusalMessage(target.host, literal, this.options));
    // One overall deadline for the whole fetch (the request's own, else this client's), the fallback included.
    const deadlineMs = req.deadlineMs ?? this.timeoutMs;
    const started = performance.now();
    const remaining = (): number => Math.max(0, deadlineMs - (performance.now() - started));

    const encoded = encodeURIComponent(Buffer.from(req.body).toString('base64'));
    const fitsGet = encoded.length <= MAX_GET_REQUEST_BYTES;
    const learnt = this.methods.get(req.url);
    let method: Method = learnt ?? (fitsGet ? 'GET' : 'POST');
    if (method === 'GET' && !fitsGet) method = 'POST';

    let result = await this.exchange(target, method, encoded, req, remaining());
    if (method === 'GET' && getRefused(result)) {
      this.methods.set(req.url, 'POST');
      result = await this.exchange(target, 'POST', encoded, req, remaining());
    } else if (method === 'POST' && !result.ok && result.status !== undefined && POST_REFUSED_STATUS.has(result.status) && fitsGet) {
      const viaGet = await this.exchange(target, 'GET', encoded, req, remaining());
      if (!getRefused(viaGet)) {
        this.methods.set(req.url, 'GET');
        result = viaGet;
      }
    } else if (result.ok && learnt === undefined) {
      this.methods.set(req.url, method);
    }

    if (!result.ok) {
      // Redirects, resets and timeouts: the general fetcher follows and
      // retries with backoff, re-checking every hop against the guard.
      if (result.redirect || result.kind === 'network' || result.kind === 'timeout') {
        const left = remaining();
        if (left < 100) return fail('timeout', `no complete answer within the ${deadlineMs / 1000} s fetch deadline`);
        const retried = await this.options.fallback.fetch({ ...req, deadlineMs: left });
        return { ...retried, attempts: retried.attempts + 1 };
      }
      return fail(result.kind, result.message, result.status);
    }
    return {
      ok: true,
      status: result.status,
      url: req.url,
      body: result.body,
      sha256: createHash('sha256').update(result.body).digest('hex'),
      notModified: false,
      etag: null,
      lastModified: null,
      contentType: result.contentType,
      redirects: 0,
      attempts: 1,
    };
  }

  private target(url: string): Target | string {
    let t = this.targets.get(url);
    if (t === undefined) {
      try {
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') t = 'unsupported scheme';
        else
          t = {
            https: u.protocol === 'https:',
            host: u.hostname.replace(/^\[|\]$/g, ''),
            port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
            path: `${u.pathname}${u.search}`,
          };
      } catch {
        t = 'not a URL';
      }
      // Bounded: responder URLs come from certificates, and a run meets few of them.
      if (this.targets.size >= 4096) this.targets.clear();
      this.targets.set(url, t);
    }
    return t;
  }

  private exchange(target: Target, method: Method, encoded: string, req: FetchRequest, timeoutMs: number): Promise<Exchange> {
    if (this.lean && !target.https) {
      const path = method === 'GET' ? getPath(target.path, encoded) : target.path;
      const body = method === 'POST' ? req.body! : null;
      const bytes = requestBytes(requestHead(method, path, target.host, target.port, this.userAgent, body ? body.length : 0), body);
      return this.lean.exchange(target, bytes, req.maxBytes, timeoutMs);
    }
    return this.exchangeViaNodeHttp(target, method, encoded, req, timeoutMs);
  }

  private exchangeViaNodeHttp(target: Target, method: Method, encoded: string, req: FetchRequest, timeoutMs: number): Promise<Exchange> {
    const headers: http.OutgoingHttpHeaders = { 'user-agent': this.userAgent, accept: 'application/ocsp-response' };
    let path = target.path;
    if (method === 'GET') path = getPath(path, encoded);
    else {
      headers['content-type'] = OCSP_REQUEST_TYPE;
      headers['content-length'] = req.body!.length;
    }
    return new Promise<Exchange>((resolve) => {
      let settled = false;
      const done = (e: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(e);
      };
      const request = (target.https ? https : http).request({
        agent: target.https ? this.httpsAgent : this.httpAgent,
        host: target.host,
        port: target.port,
        path,
        method,
        headers,
        lookup: this.lookup,
      });
      // Each fault settles the exchange first and then tears the socket down,
      // so the outcome never depends on which events a destroyed request emits.
      const abort = (e: Exchange): void => {
        done(e);
        request.destroy();
      };
      const timer = setTimeout(
        () => abort({ ok: false, kind: 'timeout', message: `no complete answer within the ${timeoutMs / 1000} s fetch deadline` }),
        timeoutMs,
      );
      request.on('socket', (socket: Socket) => {
        // A reused socket was checked when it connected; a new one is checked
        // on the address it actually reached, whatever resolved the name.
        if (!socket.connecting) return;
        socket.once('connect', () => {
          const refusal = socket.remoteAddress ? guardDecision(socket.remoteAddress, this.options) : null;
          if (refusal)
            abort({
              ok: false,
              kind: 'refused-address',
              message: new AddressRefusedError(refusalMessage(target.host, refusal, this.options)).message,
            });
        });
      });
      request.on('error', (err: Error & { code?: string }) => {
        // Refusals by the guarded DNS lookup arrive here.
        if (err instanceof AddressRefusedError) done({ ok: false, kind: 'refused-address', message: err.message });
        else done({ ok: false, kind: 'network', message: err.code ? `${err.code}: ${err.message}` : err.message });
      });
      request.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (REDIRECT_STATUS.has(status)) {
          res.resume();
          return done({ ok: false, kind: 'http-status', message: `HTTP ${status}`, status, redirect: true });
        }
        if (status < 200 || status > 299) {
          res.resume();
          return done({ ok: false, kind: 'http-status', message: `HTTP ${status}`, status });
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (Number.isFinite(declared) && declared > req.maxBytes) {
          return abort({ ok: false, kind: 'too-large', message: `body of ${declared} bytes exceeds the ${req.maxBytes}-byte cap` });
        }
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > req.maxBytes) {
            return abort({ ok: false, kind: 'too-large', message: `body exceeds the ${req.maxBytes}-byte cap` });
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const type = res.headers['content-type'];
          done({
            ok: true,
            status,
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length),
            contentType: typeof type === 'string' ? type : null,
          });
        });
        // A body cut short by the responder ends here without 'end'.
        res.on('close', () => {
          if (!res.complete) done({ ok: false, kind: 'network', message: 'the responder closed the connection mid-body' });
        });
        res.on('error', () => undefined);
      });
      if (method === 'POST') request.end(req.body);
      else request.end();
    });
  }
}

/** RFC 5019 section 5: the URL-encoded base64 request appended to the responder's path. */
function getPath(path: string, encoded: string): string {
  return path.endsWith('/') ? `${path}${encoded}` : `${path}/${encoded}`;
}

/** True when a GET came back in a way that says "ask me by POST" rather than a remote fault. */
function getRefused(e: Exchange): boolean {
  if (!e.ok) return e.status !== undefined && GET_REFUSED_STATUS.has(e.status);
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... }: malformedRequest (1)
  // is how some responders answer a GET they cannot decode (RFC 6960 4.2.1).
  const b = e.body;
  if (b.length < 5 || b[0] !== 0x30) return false;
  const off = b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2;
  return b[off] === 0x0a && b[off + 1] === 0x01 && b[off + 2] === 0x01;
}

function headerValue(headers: Readonly<Record<string, string>> | undefined, name: string): string | null {
  if (!headers) return null;
  for (const key in headers) if (key.toLowerCase() === name) return headers[key]!.split(';')[0]!.trim().toLowerCase();
  return null;
}
