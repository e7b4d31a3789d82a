/**
 * The lean OCSP transport: the incremental HTTP/1.1 response parser fed in
 * every shape a responder can produce, and exchanges against raw net.Server
 * responders on 127.0.0.1 (answers split across many TCP packets, chunked,
 * keep-alive reuse counted in connections, `Connection: close`, a close
 * mid-body, a stale idle socket, a stall, the address guard). Loopback only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { LeanHttpTransport, ResponseParser, requestBytes, requestHead } from '../../../src/adapters/net/ocsp-transport.js';
import { OcspClient } from '../../../src/adapters/net/ocsp-client.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../../src/ports/index.js';

const BODY = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]);

/** Feeds `wire` to a fresh parser in pieces of `step` bytes; returns the first decided outcome, or end()'s. */
function parse(wire: string | Buffer, step: number, maxBytes = 1000, closeAtEnd = false) {
  const parser = new ResponseParser(maxBytes);
  const bytes = typeof wire === 'string' ? Buffer.from(wire, 'latin1') : wire;
  for (let i = 0; i < bytes.length; i += step) {
    const r = parser.push(Buffer.from(bytes.subarray(i, i + step)));
    if (r.state !== 'more') return r;
  }
  return closeAtEnd ? parser.end() : { state: 'more' as const };
}

describe('ResponseParser', () => {
  const withLength = `HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: 5\r\n\r\n${BODY.toString('latin1')}`;

  it('reads a Content-Length body whole and byte by byte (headers split anywhere), reusable under HTTP/1.1', () => {
    for (const step of [withLength.length, 1, 3, 7]) {
      const r = parse(withLength, step);
      expect(r, `step ${step}`).toMatchObject({ state: 'done', status: 200, contentType: 'application/ocsp-response', reusable: true });
      if (r.state === 'done') expect(r.body.equals(BODY)).toBe(true);
    }
  });

  it('reads a chunked body with chunk extensions and trailers, in any split', () => {
    const wire = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=1\r\n${BODY.subarray(0, 2).toString('latin1')}\r\n3\r\n${BODY.subarray(2).toString('latin1')}\r\n0\r\nX-Trailer: y\r\n\r\n`;
    for (const step of [wire.length, 1, 2, 5]) {
      const r = parse(wire, step);
      expect(r, `step ${step}`).toMatchObject({ state: 'done', status: 200, reusable: true });
      if (r.state === 'done') expect(r.body.equals(BODY)).toBe(true);
    }
  });

  it('reads a body delimited by the close of the connection, and never reuses that connection', () => {
    const r = parse(`HTTP/1.0 200 OK\r\n\r\n${BODY.toString('latin1')}`, 2, 1000, true);
    expect(r).toMatchObject({ state: 'done', status: 200, reusable: false });
    if (r.state === 'done') expect(r.body.equals(BODY)).toBe(true);
  });

  it('does not reuse a connection the responder closes, or an HTTP/1.0 one', () => {
    expect(parse(withLength.replace('Content-Length', 'Connection: close\r\nContent-Length'), 4)).toMatchObject({
      state: 'done',
      reusable: false,
    });
    expect(parse(withLength.replace('HTTP/1.1', 'HTTP/1.0'), 4)).toMatchObject({ state: 'done', reusable: false });
  });

  it('enforces the size cap on Content-Length, on chunk sizes and while reading to close', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n', 5)).toMatchObject({ state: 'fail', kind: 'too-large' });
    expect(parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'a'.repeat(1024)}\r\n0\r\n\r\n`, 64)).toMatchObject({
      state: 'fail',
      kind: 'too-large',
    });
    expect(
      parse(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${'a'.repeat(600)}\r\n258\r\n${'a'.repeat(600)}\r\n0\r\n\r\n`, 64),
    ).toMatchObject({ state: 'fail', kind: 'too-large' });
    expect(parse(`HTTP/1.0 200 OK\r\n\r\n${'a'.repeat(1500)}`, 100)).toMatchObject({ state: 'fail', kind: 'too-large' });
  });

  it('reports a close mid-body, mid-chunk or mid-header as a network outcome', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\x30\x03', 3, 1000, true)).toMatchObject({
      state: 'fail',
      kind: 'network',
      message: 'the responder closed the connection mid-body',
    });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\x30', 3, 1000, true)).toMatchObject({
      state: 'fail',
      kind: 'network',
      message: 'the responder closed the connection mid-body',
    });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Le', 3, 1000, true)).toMatchObject({
      state: 'fail',
      kind: 'network',
      message: 'the responder closed the connection mid-header',
    });
  });

  it('skips interim 1xx answers; returns redirects and other statuses as outcomes, never followed', () => {
    expect(parse(`HTTP/1.1 100 Continue\r\n\r\n${withLength}`, 6)).toMatchObject({ state: 'done', status: 200 });
    expect(parse('HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1/x\r\nContent-Length: 0\r\n\r\n', 9)).toMatchObject({
      state: 'fail',
      kind: 'http-status',
      status: 302,
      redirect: true,
    });
    expect(parse('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n', 9)).toMatchObject({
      state: 'fail',
      kind: 'http-status',
      status: 405,
      message: 'HTTP 405',
    });
  });

  it('refuses what is not HTTP/1.x, malformed chunk sizes and conflicting lengths', () => {
    expect(parse('SSH-2.0-OpenSSH\r\n\r\n', 50)).toMatchObject({ state: 'fail', kind: 'network' });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 50)).toMatchObject({ state: 'fail', kind: 'network' });
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 50)).toMatchObject({
      state: 'fail',
      kind: 'network',
    });
    expect(parse(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}`, 4096)).toMatchObject({ state: 'fail', kind: 'network' });
  });

  it('does not reuse a connection with bytes left over after the answer (no pipelining)', () => {
    expect(parse(`${withLength}HTTP/1.1 200 OK\r\n`, withLength.length + 20)).toMatchObject({ state: 'done', reusable: false });
  });
});

describe('requestHead', () => {
  it('writes one request: GET without a body, POST with type and length, Host with a non-default port', () => {
    expect(requestHead('GET', '/ocsp/MEQ%3D', '127.0.0.1', 8080, 'ua', 0)).toBe(
      'GET /ocsp/MEQ%3D HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ua\r\nAccept: application/ocsp-response\r\n\r\n',
    );
    const post = requestBytes(requestHead('POST', '/', '::1', 80, 'ua', 3), Uint8Array.from([1, 2, 3]));
    expect(post.toString('latin1')).toBe(
      'POST / HTTP/1.1\r\nHost: [::1]\r\nUser-Agent: ua\r\nAccept: application/ocsp-response\r\nContent-Type: application/ocsp-request\r\nContent-Length: 3\r\n\r\n\x01\x02\x03',
    );
  });
});

/** A raw responder on 127.0.0.1: `answer` gets each complete request (head + Content-Length body) and its connection number. */
class RawResponder {
  connections = 0;
  requests: string[] = [];
  readonly sockets = new Set<Socket>();
  answer: (socket: Socket, request: string, connection: number) => void = (s) =>
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n${BODY.toString('latin1')}`, 'latin1');
  private server!: Server;

  async start(): Promise<this> {
    this.server = createServer((socket) => {
      const connection = ++this.connections;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.toString('latin1', 0, end);
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          this.requests.push(head.split('\r\n')[0]!);
          buffered = buffered.subarray(end + 4 + length);
          this.answer(socket, head, connection);
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Writes `text` in pieces of `step` bytes, each in its own TCP packet (Nagle off, a timer between writes). */
function dribble(socket: Socket, text: string, step: number, then?: () => void): void {
  socket.setNoDelay(true);
  const bytes = Buffer.from(text, 'latin1');
  let at = 0;
  const next = (): void => {
    if (socket.destroyed) return;
    if (at >= bytes.length) return then?.();
    socket.write(bytes.subarray(at, at + step));
    at += step;
    setTimeout(next, 1);
  };
  next();
}

describe('LeanHttpTransport against raw responders on 127.0.0.1', () => {
  let responder: RawResponder;
  let transport: LeanHttpTransport;
  const request = requestBytes(requestHead('GET', '/ocsp/AA%3D%3D', '127.0.0.1', 80, 'test', 0), null);
  const target = (): { host: string; port: number } => ({ host: '127.0.0.1', port: responder.port });
  const open = async (allowPrivateNetwork = true): Promise<void> => {
    responder = await new RawResponder().start();
    transport = new LeanHttpTransport({ allowPrivateNetwork });
  };
  afterEach(async () => {
    transport?.close();
    await responder?.stop();
  });

  it('reuses one connection for sequential exchanges while the responder keeps it open', async () => {
    await open();
    for (let i = 0; i < 6; i++) {
      const r = await transport.exchange(target(), request, 1000, 5_000);
      expect(r).toMatchObject({ ok: true, status: 200 });
      if (r.ok) expect(r.body.equals(BODY)).toBe(true);
    }
    expect(responder.requests).toHaveLength(6);
    expect(responder.connections).toBe(1);
    expect(transport.connectionsOpened).toBe(1);
  });

  it('opens a new connection per exchange, without error, when the responder answers `Connection: close`', async () => {
    await open();
    responder.answer = (s) =>
      s.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n${BODY.toString('latin1')}`, 'latin1');
    for (let i = 0; i < 4; i++) expect(await transport.exchange(target(), request, 1000, 5_000)).toMatchObject({ ok: true, status: 200 });
    expect(responder.connections).toBe(4);
  });

  it('reads answers split across many TCP packets: chunked, headers split, and read-to-close', async () => {
    await open();
    responder.answer = (s) =>
      dribble(
        s,
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n${BODY.subarray(0, 3).toString('latin1')}\r\n2\r\n${BODY.subarray(3).toString('latin1')}\r\n0\r\n\r\n`,
        3,
      );
    const chunked = await transport.exchange(target(), request, 1000, 10_000);
    expect(chunked).toMatchObject({ ok: true, status: 200 });
    if (chunked.ok) expect(chunked.body.equals(BODY)).toBe(true);
    // The chunked answer left the connection reusable.
    responder.answer = (s) =>
      dribble(s, `HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n${BODY.toString('latin1')}`, 2, () => s.end());
    const toClose = await transport.exchange(target(), request, 1000, 10_000);
    expect(toClose).toMatchObject({ ok: true, status: 200, contentType: 'application/ocsp-response' });
    if (toClose.ok) expect(toClose.body.equals(BODY)).toBe(true);
    expect(responder.connections).toBe(1);
  });

  it('returns a close mid-body as a network outcome, and an oversize streamed body as too-large', async () => {
    await open();
    responder.answer = (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n\x30\x30\x30', 'latin1');
    expect(await transport.exchange(target(), request, 1000, 5_000)).toMatchObject({
      ok: false,
      kind: 'network',
      message: 'the responder closed the connection mid-body',
    });
    responder.answer = (s) =>
      dribble(
        s,
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'100\r\n'.concat('a'.repeat(256), '\r\n').repeat(8)}0\r\n\r\n`,
        200,
      );
    expect(await transport.exchange(target(), request, 1000, 10_000)).toMatchObject({ ok: false, kind: 'too-large' });
  });

  it('asks again on a fresh connection when the responder had closed the idle one', async () => {
    await open();
    expect(await transport.exchange(target(), request, 1000, 5_000)).toMatchObject({ ok: true });
    // The responder kept the socket (HTTP/1.1, no close), then drops it on the next request without answering.
    responder.answer = (s, _head, connection) => {
      if (connection === 1) s.destroy();
      else s.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n${BODY.toString('latin1')}`, 'latin1');
    };
    expect(await transport.exchange(target(), request, 1000, 5_000)).toMatchObject({ ok: true, status: 200 });
    expect(responder.connections).toBe(2);
  });

  it('ends a stall at the deadline with a timeout outcome', async () => {
    await open();
    responder.answer = () => undefined;
    const started = performance.now();
    expect(await transport.exchange(target(), request, 1000, 300)).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: 'no complete answer within the 0.3 s fetch deadline',
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('refuses loopback without --allow-private-network: by name before connecting, by literal on the address reached', async () => {
    await open(false);
    expect(await transport.exchange({ host: 'localhost', port: responder.port }, request, 1000, 5_000)).toMatchObject({
      ok: false,
      kind: 'refused-address',
      message: expect.stringContaining('use --allow-private-network'),
    });
    // An IP literal is not looked up; the connected-address check refuses it before a byte is written.
    expect(await transport.exchange(target(), request, 1000, 5_000)).toMatchObject({
      ok: false,
      kind: 'refused-address',
      message: expect.stringMatching(/^refused to connect to 127\.0\.0\.1: .*rule: loopback/),
    });
    expect(responder.requests).toHaveLength(0);
  });
});

class NoFallback implements Fetcher {
  calls = 0;
  async fetch(req: FetchRequest): Promise<FetchResult> {
    this.calls++;
    return { ok: false, kind: 'network', message: 'fallback reached', url: req.url, attempts: 1 };
  }
}

describe('OcspClient over the lean transport', () => {
  let responder: RawResponder;
  let client: OcspClient;
  afterEach(async () => {
    await client?.close();
    await responder?.stop();
  });

  it('takes read-to-close answers from a responder that closes after each (as openssl ocsp does), with no fallback', async () => {
    responder = await new RawResponder().start();
    responder.answer = (s) =>
      s.end(`HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n\r\n${BODY.toString('latin1')}`, 'latin1');
    const fallback = new NoFallback();
    client = new OcspClient({ fallback, allowPrivateNetwork: true });
    const body = Buffer.alloc(300, 0x41); // too long for GET: POST
    for (let i = 0; i < 3; i++) {
      const r = await client.fetch({
        url: `http://127.0.0.1:${responder.port}/`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/ocsp-request' },
        maxBytes: 1000,
      });
      expect(r).toMatchObject({ ok: true, status: 200, contentType: 'application/ocsp-response', attempts: 1 });
    }
    expect(responder.requests).toEqual(['POST / HTTP/1.1', 'POST / HTTP/1.1', 'POST / HTTP/1.1']);
    expect(responder.connections).toBe(3);
    expect(fallback.calls).toBe(0);
  });
});
