/**
 * A lean HTTP/1.1 exchange over node:net, for OCSP requests to plain-http
 * responders only (RFC 6960 A.1, RFC 5019 section 5).
 *
 * Why not node:http: a check run is thousands of ~100-byte requests and
 * ~500-byte answers, and per exchange node:http builds a ClientRequest, an
 * IncomingMessage, header objects and a dozen event listeners, and opens a
 * new agent socket each time a responder closes (openssl's does after every
 * answer). Here one exchange is one Buffer written, one incremental parser
 * fed from 'data', and one promise; a close by the responder is the normal
 * end of a read-to-close body or a network outcome, never a thrown error.
 *
 * What it reads (RFC 9112): the status line, header fields, and a body
 * delimited by Content-Length, by chunked transfer coding, or by the close of
 * the connection; 1xx interim answers are skipped. The caller's size cap is
 * enforced on Content-Length and while reading. Redirects (3xx) are not
 * followed: an OCSP responder must answer directly, and the client turns
 * them into the same outcome as before (handed to the general fetcher).
 *
 * Connections: a socket is kept for reuse only when the responder said it
 * may be (HTTP/1.1 without `Connection: close`, a delimited body, nothing
 * left over), in a small per-host idle pool; one request at a time per
 * socket, no pipelining (RFC 9112 9.3.2). A request on a reused socket that
 * the responder had already closed (no byte of an answer received) is sent
 * once more on a fresh connection: OCSP requests are safe to repeat.
 *
 * The address guard applies to every connection: the name is resolved
 * through guardedLookup (refused addresses are never tried), and the address
 * actually connected to is checked again before a byte is written.
 */
import { connect, type Socket } from 'node:net';
import type { FetchFailureKind } from '../../ports/index.js';
import { AddressRefusedError, guardDecision, guardedLookup, refusalMessage, type GuardOptions } from './address-guard.js';

export type LeanExchange =
  | { readonly ok: true; readonly status: number; readonly body: Buffer; readonly contentType: string | null }
  | {
      readonly ok: false;
      readonly kind: FetchFailureKind;
      readonly message: string;
      readonly status?: number;
      readonly redirect?: boolean;
    };

export interface LeanTarget {
  readonly host: string;
  readonly port: number;
}

export interface LeanTransportOptions extends GuardOptions {
  /** Idle keep-alive sockets kept per host:port. */
  readonly maxIdlePerHost?: number;
  /** How long an idle socket is kept before it is closed. */
  readonly idleTimeoutMs?: number;
}

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** A status line and header section longer than this is not an OCSP responder's answer. */
const MAX_HEAD_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** The request line and header section, latin1, ending with the blank line. */
export function requestHead(
  method: 'GET' | 'POST',
  path: string,
  host: string,
  port: number,
  userAgent: string,
  bodyLength: number,
): string {
  // RFC 9112 3.2: Host carries the port unless it is the scheme's default; an IPv6 literal is bracketed.
  const hostName = host.includes(':') ? `[${host}]` : host;
  const hostHeader = port === 80 ? hostName : `${hostName}:${port}`;
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: ${userAgent}\r\nAccept: application/ocsp-response\r\n`;
  if (method === 'POST') head += `Content-Type: application/ocsp-request\r\nContent-Length: ${bodyLength}\r\n`;
  return `${head}\r\n`;
}

/** One request as a single Buffer: head and body written together. */
export function requestBytes(head: string, body: Uint8Array | null): Buffer {
  const headLength = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headLength + (body ? body.length : 0));
  out.write(head, 0, 'latin1');
  if (body) out.set(body, headLength);
  return out;
}

type ParseResult =
  | { readonly state: 'more' }
  | {
      readonly state: 'done';
      readonly status: number;
      readonly body: Buffer;
      readonly contentType: string | null;
      readonly reusable: boolean;
    }
  | {
      readonly state: 'fail';
      readonly kind: FetchFailureKind;
      readonly message: string;
      readonly status?: number;
      readonly redirect?: boolean;
    };

const MORE: ParseResult = { state: 'more' };

/**
 * An incremental HTTP/1.1 response parser for one response. Feed it the
 * bytes as they arrive with push(), and end() when the peer closes.
 */
export class ResponseParser {
  private pending: Buffer | null = null;
  private phase: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'close' = 'head';
  private status = 0;
  private keepAlive = false;
  private contentType: string | null = null;
  private remaining = 0;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  /** True once any byte of the answer has arrived (a reused socket closed before that may be retried). */
  sawBytes = false;

  constructor(private readonly maxBytes: number) {}

  push(data: Buffer): ParseResult {
    this.sawBytes = true;
    let buf = this.pending ? Buffer.concat([this.pending, data]) : data;
    this.pending = null;
    for (;;) {
      switch (this.phase) {
        case 'head': {
          const end = buf.indexOf(HEAD_END);
          if (end < 0) {
            if (buf.length > MAX_HEAD_BYTES) return fail('network', `response header section exceeds ${MAX_HEAD_BYTES} bytes`);
            this.pending = buf;
            return MORE;
          }
          const outcome = this.readHead(buf.toString('latin1', 0, end));
          buf = buf.subarray(end + 4);
          if (outcome) return outcome;
          break;
        }
        case 'length': {
          const take = Math.min(this.remaining, buf.length);
          if (take > 0) this.keep(buf.subarray(0, take));
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining > 0) return MORE;
          return this.finish(buf.length === 0);
        }
        case 'close': {
          if (buf.length > 0 && !this.keep(buf)) return fail('too-large', `body exceeds the ${this.maxBytes}-byte cap`);
          return MORE;
        }
        case 'chunk-size': {
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > 1024) return fail('network', 'malformed chunked body (chunk-size line too long)');
            this.pending = buf;
            return MORE;
          }
          // RFC 9112 7.1: chunk-size in hex, optionally followed by chunk extensions after ';'.
          const line = buf.toString('latin1', 0, eol);
          const sizeText = line.split(';', 1)[0]!.trim();
          if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return fail('network', `malformed chunked body (chunk size "${line.slice(0, 20)}")`);
          const size = parseInt(sizeText, 16);
          buf = buf.subarray(eol + 2);
          if (size === 0) {
            this.phase = 'trailers';
          } else {
            if (this.received + size > this.maxBytes) return fail('too-large', `body exceeds the ${this.maxBytes}-byte cap`);
            this.remaining = size;
            this.phase = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.remaining, buf.length);
          if (take > 0) this.keep(buf.subarray(0, take));
          this.remaining -= take;
          buf = buf.subarray(take);
          if (this.remaining > 0) return MORE;
          this.phase = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          if (buf.length < 2) {
            if (buf.length > 0) this.pending = buf;
            return MORE;
          }
          if (buf[0] !== 0x0d || buf[1] !== 0x0a) return fail('network', 'malformed chunked body (no CRLF after chunk data)');
          buf = buf.subarray(2);
          this.phase = 'chunk-size';
          break;
        }
        case 'trailers': {
          // Trailer fields (ignored) end with an empty line.
          const eol = buf.indexOf(CRLF);
          if (eol < 0) {
            if (buf.length > MAX_HEAD_BYTES) return fail('network', 'malformed chunked body (trailer section too long)');
            this.pending = buf;
            return MORE;
          }
          const rest = buf.subarray(eol + 2);
          if (eol === 0) return this.finish(rest.length === 0);
          buf = rest;
          break;
        }
      }
    }
  }

  /** The peer closed the connection: the end of a read-to-close body, otherwise an incomplete answer. */
  end(): ParseResult {
    if (this.phase === 'close') return this.finish(false);
    if (this.phase === 'head')
      return fail(
        'network',
        this.sawBytes ? 'the responder closed the connection mid-header' : 'the responder closed the connection without answering',
      );
    return fail('network', 'the responder closed the connection mid-body');
  }

  /** Parses the status line and header fields; returns an outcome when the answer is decided already. */
  private readHead(head: string): ParseResult | null {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!m) return fail('network', `not an HTTP/1.x answer: "${lines[0]!.slice(0, 40)}"`);
    const minor = m[1]!;
    const status = Number(m[2]);
    if (status >= 100 && status < 200) {
      // RFC 9112 / RFC 9110 15.2: interim answers precede the final one.
      return null;
    }
    let contentLength: number | null = null;
    let chunked = false;
    let transferEncoding = false;
    let connectionClose = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) return fail('network', 'malformed response header field');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        // RFC 9110 8.6: a list of identical values is one value; different values are a fault.
        const values = new Set(value.split(',').map((v) => v.trim()));
        const only = values.size === 1 ? [...values][0]! : '';
        if (!/^\d{1,15}$/.test(only) || (contentLength !== null && contentLength !== Number(only)))
          return fail('network', 'invalid Content-Length in the response');
        contentLength = Number(only);
      } else if (name === 'transfer-encoding') {
        transferEncoding = true;
        const codings = value
          .toLowerCase()
          .split(',')
          .map((v) => v.trim());
        chunked = codings[codings.length - 1] === 'chunked';
      } else if (name === 'connection') {
        const options = value
          .toLowerCase()
          .split(',')
          .map((v) => v.trim());
        if (options.includes('close')) connectionClose = true;
      } else if (name === 'content-type') {
        this.contentType = value;
      }
    }
    this.status = status;
    // Reuse only what HTTP/1.1 says persists (RFC 9112 9.3); an HTTP/1.0 answer is treated as closing.
    this.keepAlive = minor === '1' && !connectionClose;
    if (REDIRECT_STATUS.has(status)) return fail('http-status', `HTTP ${status}`, status, true);
    if (status < 200 || status > 299) return fail('http-status', `HTTP ${status}`, status);
    if (contentLength !== null && !transferEncoding && contentLength > this.maxBytes) {
      return fail('too-large', `body of ${contentLength} bytes exceeds the ${this.maxBytes}-byte cap`);
    }
    // RFC 9112 6.3: chunked wins over Content-Length (and such an answer is not reused); a
    // transfer coding that does not end in chunked, or no length at all, is read until close.
    if (status === 204) {
      this.remaining = 0;
      this.phase = 'length';
    } else if (transferEncoding) {
      if (contentLength !== null) this.keepAlive = false;
      if (chunked) this.phase = 'chunk-size';
      else {
        this.keepAlive = false;
        this.phase = 'close';
      }
    } else if (contentLength !== null) {
      this.remaining = contentLength;
      this.phase = 'length';
    } else {
      this.keepAlive = false;
      this.phase = 'close';
    }
    return null;
  }

  /** Appends body bytes; false when the cap is exceeded. */
  private keep(part: Buffer): boolean {
    this.received += part.length;
    if (this.received > this.maxBytes) return false;
    // The socket may reuse its read buffer only after 'data' returns; the slice is ours to keep.
    this.chunks.push(part);
    return true;
  }

  private finish(nothingLeftOver: boolean): ParseResult {
    if (this.received > this.maxBytes) return fail('too-large', `body exceeds the ${this.maxBytes}-byte cap`);
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received);
    return { state: 'done', status: this.status, body, contentType: this.contentType, reusable: this.keepAlive && nothingLeftOver };
  }
}

function fail(kind: FetchFailureKind, message: string, status?: number, redirect?: boolean): ParseResult {
  return { state: 'fail', kind, message, status, redirect };
}

/**
 * Plain-http exchanges with a per-host idle pool. One instance per client;
 * close() ends every idle socket.
 */
export class LeanHttpTransport {
  private readonly idle = new Map<string, Socket[]>();
  private readonly lookup: ReturnType<typeof guardedLookup>;
  private readonly maxIdlePerHost: number;
  private readonly idleTimeoutMs: number;
  private closed = false;
  /** Connections opened so far (tests, diagnostics). */
  connectionsOpened = 0;

  constructor(private readonly options: LeanTransportOptions) {
    this.lookup = guardedLookup(options);
    this.maxIdlePerHost = options.maxIdlePerHost ?? 16;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 4_000;
  }

  close(): void {
    this.closed = true;
    for (const sockets of this.idle.values()) for (const s of sockets) s.destroy();
    this.idle.clear();
  }

  /** Sends `request` and reads one answer, within `timeoutMs` overall; never throws. */
  async exchange(target: LeanTarget, request: Buffer, maxBytes: number, timeoutMs: number): Promise<LeanExchange> {
    const started = performance.now();
    const key = `${target.host}|${target.port}`;
    const reused = this.takeIdle(key);
    if (reused) {
      const first = await this.run(reused, true, key, request, maxBytes, timeoutMs);
      // The responder had closed the idle socket before our request reached it: ask once more on a new one.
      if (first !== 'stale') return first;
    }
    const left = reused ? Math.max(0, timeoutMs - (performance.now() - started)) : timeoutMs;
    const socket = connect({ host: target.host, port: target.port, lookup: this.lookup, noDelay: true });
    this.connectionsOpened++;
    const outcome = await this.run(socket, false, key, request, maxBytes, left, target.host);
    return outcome === 'stale' ? { ok: false, kind: 'network', message: 'the responder closed the connection without answering' } : outcome;
  }

  private takeIdle(key: string): Socket | null {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const s = list.pop()!;
      detachIdle(s);
      if (!s.destroyed && s.readyState === 'open') return s;
      s.destroy();
    }
    return null;
  }

  private run(
    socket: Socket,
    reused: boolean,
    key: string,
    request: Buffer,
    maxBytes: number,
    timeoutMs: number,
    host?: string,
  ): Promise<LeanExchange | 'stale'> {
    return new Promise((resolve) => {
      const parser = new ResponseParser(maxBytes);
      let settled = false;
      const cleanup = (): void => {
        clearTimeout(timer);
        socket.removeListener('connect', onConnect);
        socket.removeListener('data', onData);
        socket.removeListener('end', onEnd);
        socket.removeListener('error', onError);
        socket.removeListener('close', onClose);
      };
      const settle = (outcome: LeanExchange | 'stale', keep: boolean): void => {
        if (settled) return;
        settled = true;
        cleanup();
        if (keep) this.release(key, socket);
        else socket.destroy();
        resolve(outcome);
      };
      const onParse = (r: ParseResult): void => {
        if (r.state === 'more') return;
        if (r.state === 'fail')
          return settle({ ok: false, kind: r.kind, message: r.message, status: r.status, redirect: r.redirect }, false);
        settle({ ok: true, status: r.status, body: r.body, contentType: r.contentType }, r.reusable);
      };
      const onConnect = (): void => {
        // The address actually reached, whatever resolved the name (address-guard.ts).
        const refusal = socket.remoteAddress ? guardDecision(socket.remoteAddress, this.options) : null;
        if (refusal)
          return settle(
            { ok: false, kind: 'refused-address', message: refusalMessage(host ?? socket.remoteAddress!, refusal, this.options) },
            false,
          );
        socket.write(request);
      };
      const onData = (chunk: Buffer): void => onParse(parser.push(chunk));
      const onEnd = (): void => {
        if (reused && !parser.sawBytes) return settle('stale', false);
        onParse(parser.end());
      };
      const onError = (err: Error & { code?: string }): void => {
        // Refusals by the guarded DNS lookup arrive here, as AddressRefusedError.
        if (err instanceof AddressRefusedError) return settle({ ok: false, kind: 'refused-address', message: err.message }, false);
        if (reused && !parser.sawBytes) return settle('stale', false);
        settle({ ok: false, kind: 'network', message: err.code ? `${err.code}: ${err.message}` : err.message }, false);
      };
      const onClose = (): void => {
        if (reused && !parser.sawBytes) return settle('stale', false);
        onParse(parser.end());
      };
      const timer = setTimeout(
        () =>
          settle(
            { ok: false, kind: 'timeout', message: `no complete answer within the ${Math.round(timeoutMs) / 1000} s fetch deadline` },
            false,
          ),
        timeoutMs,
      );
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('error', onError);
      socket.on('close', onClose);
      if (reused) {
        socket.ref();
        socket.write(request);
      } else socket.once('connect', onConnect);
    });
  }

  /** Puts a socket whose answer was complete back in the idle pool, or closes it. */
  private release(key: string, socket: Socket): void {
    let list = this.idle.get(key);
    if (this.closed || socket.destroyed || (list && list.length >= this.maxIdlePerHost)) {
      socket.destroy();
      return;
    }
    if (!list) {
      list = [];
      this.idle.set(key, list);
    }
    list.push(socket);
    // An idle socket keeps no process alive, and is dropped when the responder closes it, sends
    // anything unasked (no pipelining), or it sits unused too long.
    socket.unref();
    const drop = (): void => {
      detachIdle(socket);
      const at = list!.indexOf(socket);
      if (at >= 0) list!.splice(at, 1);
      socket.destroy();
    };
    socket.on('data', drop);
    socket.on('end', drop);
    socket.on('error', drop);
    socket.on('close', drop);
    socket.on('timeout', drop);
    socket.setTimeout(this.idleTimeoutMs);
    idleDrops.set(socket, drop);
  }
}

const idleDrops = new WeakMap<Socket, () => void>();

/** Detaches the idle-pool listeners before a socket is used again. */
function detachIdle(socket: Socket): void {
  const drop = idleDrops.get(socket);
  if (!drop) return;
  idleDrops.delete(socket);
  socket.removeListener('data', drop);
  socket.removeListener('end', drop);
  socket.removeListener('error', drop);
  socket.removeListener('close', drop);
  socket.removeListener('timeout', drop);
  socket.setTimeout(0);
}
