/**
 * The OCSP exchange path: GET/POST chosen and remembered per responder,
 * keep-alive reuse, responders that close after each answer, the address
 * guard, size caps, the deadline, and the hand-off to the general fetcher.
 * Loopback only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_GET_REQUEST_BYTES, OcspClient } from '../../../src/adapters/net/ocsp-client.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../../src/ports/index.js';

/** An OCSPResponse envelope with responseStatus tryLater (3): enough for the transport. */
const TRY_LATER = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]);
const MALFORMED_REQUEST = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);

type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

class Responder {
  readonly hits: { method: string; url: string; socket: number }[] = [];
  connections = 0;
  route: Route = (_req, res) => res.end(TRY_LATER);
  private server!: Server;
  private readonly socketIds = new WeakMap<object, number>();

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits.push({ method: req.method ?? '', url: req.url ?? '', socket: this.socketIds.get(req.socket) ?? -1 });
        this.route(req, res, Buffer.concat(chunks));
      });
    });
    this.server.on('connection', (s) => this.socketIds.set(s, ++this.connections));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/ocsp'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  reset(): void {
    this.hits.length = 0;
    this.route = (_req, res) => res.end(TRY_LATER);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

class RecordingFallback implements Fetcher {
  readonly calls: FetchRequest[] = [];
  async fetch(req: FetchRequest): Promise<FetchResult> {
    this.calls.push(req);
    return { ok: false, kind: 'network', message: 'fallback reached', url: req.url, attempts: 1 };
  }
}

const post = (url: string, body: Uint8Array, maxBytes = 64 * 1024): FetchRequest => ({
  url,
  method: 'POST',
  body,
  headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
  maxBytes,
});

describe('OcspClient', () => {
  const responder = new Responder();
  const small = Buffer.alloc(80, 0x41);
  const large = Buffer.alloc(400, 0x42);
  let client: OcspClient;
  let fallback: RecordingFallback;

  beforeAll(async () => {
    await responder.start();
  });
  afterAll(async () => {
    await responder.stop();
  });
  const fresh = (options: { allowPrivateNetwork?: boolean; timeoutMs?: number } = {}): OcspClient => {
    fallback = new RecordingFallback();
    client = new OcspClient({ fallback, allowPrivateNetwork: options.allowPrivateNetwork ?? true, timeoutMs: options.timeoutMs });
    return client;
  };
  afterEach(async () => {
    await client?.close();
    responder.reset();
  });

  it('asks by GET (RFC 5019) when the encoded request fits in 255 bytes, and returns body and hash', async () => {
    fresh();
    const r = await client.fetch(post(responder.url(), small));
    expect(r).toMatchObject({ ok: true, status: 200, attempts: 1 });
    if (!r.ok) return;
    expect(r.body.equals(TRY_LATER)).toBe(true);
    expect(r.sha256).toBe(createHash('sha256').update(TRY_LATER).digest('hex'));
    expect(responder.hits).toEqual([
      { method: 'GET', url: `/ocsp/${encodeURIComponent(small.toString('base64'))}`, socket: expect.any(Number) },
    ]);
    expect(client.methodFor(responder.url())).toBe('GET');
  });

  it('asks by POST when the encoded request is longer than 255 bytes', async () => {
    fresh();
    expect(encodeURIComponent(large.toString('base64')).length).toBeGreaterThan(MAX_GET_REQUEST_BYTES);
    await client.fetch(post(responder.url(), large));
    expect(responder.hits.map((h) => h.method)).toEqual(['POST']);
  });

  it('switches a responder that refuses GET (405, or malformedRequest) to POST and remembers it', async () => {
    for (const refuse of [
      (res: ServerResponse) => {
        res.statusCode = 405;
        res.end();
      },
      (res: ServerResponse) => res.end(MALFORMED_REQUEST),
    ]) {
      fresh();
      responder.reset();
      responder.route = (req, res) => (req.method === 'GET' ? refuse(res) : res.end(TRY_LATER));
      const first = await client.fetch(post(responder.url(), small));
      expect(first.ok).toBe(true);
      await client.fetch(post(responder.url(), small));
      expect(responder.hits.map((h) => h.method)).toEqual(['GET', 'POST', 'POST']);
      expect(client.methodFor(responder.url())).toBe('POST');
      await client.close();
    }
  });

  it('switches a responder that refuses POST to GET and remembers it', async () => {
    fresh();
    responder.route = (req, res) => {
      if (req.method !== 'POST') return void res.end(TRY_LATER);
      res.statusCode = 405;
      res.end();
    };
    const other = responder.url('/other');
    // First ask with a large request (POST, refused, too big for GET): the failure is returned as is.
    expect(await client.fetch(post(other, large))).toMatchObject({ ok: false, kind: 'http-status', status: 405 });
    expect(await client.fetch(post(other, small))).toMatchObject({ ok: true });
    expect(responder.hits.map((h) => h.method)).toEqual(['POST', 'GET']);
  });

  it('reuses one keep-alive socket when the responder keeps it open', async () => {
    fresh();
    for (let i = 0; i < 5; i++) expect((await client.fetch(post(responder.url(), small))).ok).toBe(true);
    expect(new Set(responder.hits.map((h) => h.socket)).size).toBe(1);
  });

  it('answers normally when the responder closes after every answer (no error, no fallback)', async () => {
    fresh();
    responder.route = (_req, res) => {
      res.setHeader('connection', 'close');
      res.end(TRY_LATER);
    };
    for (let i = 0; i < 5; i++) expect((await client.fetch(post(responder.url(), small))).ok).toBe(true);
    expect(new Set(responder.hits.map((h) => h.socket)).size).toBe(5);
    expect(fallback.calls).toHaveLength(0);
  });

  it('enforces the size cap on Content-Length and while streaming', async () => {
    fresh();
    responder.route = (_req, res) => res.end(Buffer.alloc(2000));
    expect(await client.fetch(post(responder.url(), small, 1000))).toMatchObject({ ok: false, kind: 'too-large' });
    responder.route = (_req, res) => {
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    };
    expect(await client.fetch(post(responder.url(), small, 1000))).toMatchObject({ ok: false, kind: 'too-large' });
  });

  it('refuses loopback without --allow-private-network, by IP literal and by name, before any request', async () => {
    fresh({ allowPrivateNetwork: false });
    expect(await client.fetch(post(responder.url(), small))).toMatchObject({ ok: false, kind: 'refused-address' });
    const byName = responder.url().replace('127.0.0.1', 'localhost');
    expect(await client.fetch(post(byName, small))).toMatchObject({ ok: false, kind: 'refused-address' });
    expect(responder.hits).toHaveLength(0);
    expect(fallback.calls).toHaveLength(0);
  });

  it('hands redirects and non-OCSP requests to the general fetcher; a stall ends at the one overall deadline', async () => {
    fresh({ timeoutMs: 300 });
    responder.route = (_req, res) => {
      res.statusCode = 302;
      res.setHeader('location', '/elsewhere');
      res.end();
    };
    expect(await client.fetch(post(responder.url(), small))).toMatchObject({ ok: false, message: 'fallback reached', attempts: 2 });
    responder.route = () => undefined; // never answers
    const stalled = await client.fetch(post(responder.url('/stall'), small));
    // The stall used the whole deadline: nothing is left for a retry through the general fetcher (issue 11).
    expect(stalled).toMatchObject({ ok: false, kind: 'timeout' });
    await client.fetch({ url: responder.url('/ca.crl'), maxBytes: 1000 });
    expect(fallback.calls.map((c) => c.url)).toEqual([responder.url(), responder.url('/ca.crl')]);
  });

  it('returns HTTP errors as failures, not exceptions', async () => {
    fresh();
    responder.route = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    expect(await client.fetch(post(responder.url(), small))).toMatchObject({ ok: false, kind: 'http-status', status: 500 });
  });
});
