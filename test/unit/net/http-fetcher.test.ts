import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { HttpFetcher } from '../../../src/adapters/net/http-fetcher.js';
import { refusalReason } from '../../../src/adapters/net/address-guard.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { FaultServer } from '../../helpers/fault-server.js';

describe('address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'cloud-metadata'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['ff02::1', 'multicast'],
  ])('refuses %s (%s)', (ip, range) => {
    expect(refusalReason(ip)).toContain(range);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111'])('allows public %s', (ip) => {
    expect(refusalReason(ip)).toBeNull();
  });
});

describe('HttpFetcher', () => {
  const server = new FaultServer();
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  let fetcher: HttpFetcher;
  let flaky = 0;
  const big = Buffer.alloc(300_000, 7);

  beforeAll(async () => {
    await server
      .route('/ok', (_req, res) => res.end('hello'))
      .route('/echo', (req, res, body) => res.end(`${req.method} ${req.headers['content-type']} ${body.length}`))
      .route('/big', (_req, res) => res.end(big))
      .route('/big-chunked', (_req, res) => {
        res.write(big.subarray(0, 100_000));
        res.write(big.subarray(100_000));
        res.end();
      })
      .route('/stall', (_req, res) => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
      })
      .route('/loop', (_req, res) => {
        res.writeHead(302, { location: '/loop' });
        res.end();
      })
      .route('/hop', (_req, res) => {
        res.writeHead(301, { location: '/ok' });
        res.end();
      })
      .route('/flaky', (_req, res) => {
        flaky++;
        res.statusCode = flaky < 3 ? 503 : 200;
        res.end(flaky < 3 ? 'busy' : 'recovered');
      })
      .route('/gone', (_req, res) => {
        res.statusCode = 404;
        res.end();
      })
      .route('/cached', (req, res) => {
        if (req.headers['if-none-match'] === '"v1"') {
          res.statusCode = 304;
          res.end();
          return;
        }
        res.writeHead(200, { etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT' });
        res.end('crl bytes');
      })
      .route('/reset', (req) => req.socket.destroy())
      .route('/always-304', (_req, res) => {
        res.statusCode = 304;
        res.end();
      })
      .route('/continue-first', (_req, res) => {
        // RFC 9110 15.2: an interim answer nobody asked for (no Expect: 100-continue was sent).
        res.writeContinue();
        setTimeout(() => res.end('crl after 100'), 20);
      })
      .route('/hints-then-continue', (_req, res) => {
        res.writeEarlyHints({ link: '</x>; rel=preload' });
        res.writeContinue();
        res.writeContinue();
        res.end('crl after interim answers');
      })
      .route('/continue-then-hop', (_req, res) => {
        res.writeContinue();
        res.writeHead(302, { location: '/ok' });
        res.end();
      })
      .route('/endless-continue', (_req, res) => {
        const t = setInterval(() => res.writeContinue(), 50);
        res.on('close', () => clearInterval(t));
      })
      .start();
    fetcher = new HttpFetcher({
      clock,
      allowPrivateNetwork: true,
      bodyTimeoutMs: 300,
      headersTimeoutMs: 1000,
      backoffBaseMs: 100,
      random: () => 0.5,
    });
  });
  afterAll(async () => {
    await fetcher.close();
    await server.stop();
  });
  beforeEach(() => {
    server.reset();
    clock.sleeps.length = 0;
  });

  it('fetches a body with its SHA-256', async () => {
    const r = await fetcher.fetch({ url: server.url('/ok'), maxBytes: 1000 });
    expect(r).toMatchObject({ ok: true, status: 200, notModified: false, redirects: 0 });
    if (r.ok) {
      expect(r.body.toString()).toBe('hello');
      expect(r.sha256).toBe(createHash('sha256').update('hello').digest('hex'));
    }
  });

  it('POSTs a body with its content type', async () => {
    const r = await fetcher.fetch({
      url: server.url('/echo'),
      method: 'POST',
      body: Buffer.alloc(83),
      headers: { 'content-type': 'application/ocsp-request' },
      maxBytes: 1000,
    });
    expect(r.ok && r.body.toString()).toBe('POST application/ocsp-request 83');
  });

  it('refuses bodies over the cap, whether declared or streamed', async () => {
    expect(await fetcher.fetch({ url: server.url('/big'), maxBytes: 200_000 })).toMatchObject({ ok: false, kind: 'too-large' });
    expect(await fetcher.fetch({ url: server.url('/big-chunked'), maxBytes: 200_000 })).toMatchObject({ ok: false, kind: 'too-large' });
    const fits = await fetcher.fetch({ url: server.url('/big-chunked'), maxBytes: 300_000 });
    expect(fits.ok && fits.body.equals(big)).toBe(true);
  });

  it('times out a body that stalls, after retrying it', async () => {
    const r = await fetcher.fetch({ url: server.url('/stall'), maxBytes: 1000 });
    expect(r).toMatchObject({ ok: false, kind: 'timeout', attempts: 3 });
    expect(clock.sleeps).toEqual([75, 150]);
  });

  it('stops a redirect loop after 5 redirects and follows a single hop', async () => {
    expect(await fetcher.fetch({ url: server.url('/loop'), maxBytes: 1000 })).toMatchObject({ ok: false, kind: 'redirect-limit' });
    expect(server.hits).toHaveLength(6);
    expect(await fetcher.fetch({ url: server.url('/hop'), maxBytes: 1000 })).toMatchObject({
      ok: true,
      redirects: 1,
      url: server.url('/ok'),
    });
  });

  it('retries transient 503s with backoff, but not a 404', async () => {
    flaky = 0;
    expect(await fetcher.fetch({ url: server.url('/flaky'), maxBytes: 1000 })).toMatchObject({ ok: true, attempts: 3 });
    expect(clock.sleeps).toEqual([75, 150]);
    clock.sleeps.length = 0;
    expect(await fetcher.fetch({ url: server.url('/gone'), maxBytes: 1000 })).toMatchObject({
      ok: false,
      kind: 'http-status',
      status: 404,
      attempts: 1,
    });
    expect(clock.sleeps).toEqual([]);
  });

  it('makes conditional requests and reports 304 Not Modified', async () => {
    const first = await fetcher.fetch({ url: server.url('/cached'), maxBytes: 1000 });
    expect(first).toMatchObject({ ok: true, etag: '"v1"', notModified: false });
    const second = await fetcher.fetch({ url: server.url('/cached'), maxBytes: 1000, etag: '"v1"' });
    expect(second).toMatchObject({ ok: true, status: 304, notModified: true });
  });

  it('takes a 304 to a request that sent no validator as an error of the source, not as "unchanged"', async () => {
    const r = await fetcher.fetch({ url: server.url('/always-304'), maxBytes: 1000 });
    expect(r).toMatchObject({ ok: false, kind: 'http-status', status: 304, attempts: 1 });
    expect(!r.ok && r.message).toMatch(/304 Not Modified to a request that sent no validator/);
    // With a validator sent, the same answer is the ordinary "unchanged".
    expect(
      await fetcher.fetch({ url: server.url('/always-304'), maxBytes: 1000, lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT' }),
    ).toMatchObject({ ok: true, status: 304, notModified: true });
  });

  it('reads the body after interim answers nobody asked for (100 Continue, 103 Early Hints)', async () => {
    const r = await fetcher.fetch({ url: server.url('/continue-first'), maxBytes: 1000 });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.ok && r.body.toString()).toBe('crl after 100');
    expect(r.ok && r.sha256).toBe(createHash('sha256').update('crl after 100').digest('hex'));
    const interim = await fetcher.fetch({ url: server.url('/hints-then-continue'), maxBytes: 1000 });
    expect(interim.ok && interim.body.toString()).toBe('crl after interim answers');
    const hop = await fetcher.fetch({ url: server.url('/continue-then-hop'), maxBytes: 1000 });
    expect(hop).toMatchObject({ ok: true, redirects: 1, url: server.url('/ok') });
    expect(hop.ok && hop.body.toString()).toBe('hello');
    // The size cap holds on that path too.
    expect(await fetcher.fetch({ url: server.url('/continue-first'), maxBytes: 5 })).toMatchObject({ ok: false, kind: 'too-large' });
  });

  it('ends an endless stream of interim answers at the fetch deadline', async () => {
    const started = performance.now();
    const r = await fetcher.fetch({ url: server.url('/endless-continue'), maxBytes: 1000, deadlineMs: 1_500 });
    expect(r).toMatchObject({ ok: false, kind: 'timeout' });
    expect(!r.ok && r.message).toMatch(/1\.5 s fetch deadline/);
    // Generous: the point is that it ends, on a loaded machine.
    expect(performance.now() - started).toBeLessThan(15_000);
  });

  it('reports a responder that is down or resets the connection as a network failure', async () => {
    const down = await fetcher.fetch({ url: 'http://127.0.0.1:1/ocsp', maxBytes: 1000 });
    expect(down).toMatchObject({ ok: false, kind: 'network', attempts: 1 });
    expect(!down.ok && down.message).toMatch(/ECONNREFUSED/);
    expect(await fetcher.fetch({ url: server.url('/reset'), maxBytes: 1000 })).toMatchObject({ ok: false, kind: 'network', attempts: 3 });
  });

  it('refuses non-http schemes and bad URLs without connecting', async () => {
    expect(await fetcher.fetch({ url: 'ldap://ldap.example/cn=CA?certificateRevocationList', maxBytes: 1 })).toMatchObject({
      ok: false,
      kind: 'unsupported-scheme',
    });
    expect(await fetcher.fetch({ url: 'not a url', maxBytes: 1 })).toMatchObject({ ok: false, kind: 'bad-url' });
  });

  it('without --allow-private-network, refuses loopback by literal and by name, before any request', async () => {
    const guarded = new HttpFetcher({ clock, allowPrivateNetwork: false });
    try {
      const literal = await guarded.fetch({ url: server.url('/ok'), maxBytes: 1000 });
      expect(literal).toMatchObject({ ok: false, kind: 'refused-address' });
      const byName = await guarded.fetch({ url: `http://localhost:${server.port}/ok`, maxBytes: 1000 });
      expect(byName).toMatchObject({ ok: false, kind: 'refused-address' });
      expect(!byName.ok && byName.message).toMatch(/loopback/);
      const redirectedInto = await guarded.fetch({ url: `http://[::ffff:7f00:1]:${server.port}/ok`, maxBytes: 1000 });
      expect(redirectedInto).toMatchObject({ ok: false, kind: 'refused-address' });
      expect(server.hits).toEqual([]);
    } finally {
      await guarded.close();
    }
  });
});
