/**
 * The overall fetch deadline and the bounded body reader (issue: a slow drip
 * never ended; an endless body grew memory past twice the cap).
 * Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { HttpFetcher } from '../../../src/adapters/net/http-fetcher.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { FaultServer } from '../../helpers/fault-server.js';

const spillDirs = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('revwatch-body-'));

describe('HttpFetcher deadline and body bounds', () => {
  const server = new FaultServer();
  const clock = new FakeClock('2025-01-01T00:00:00Z');
  const timers = new Set<NodeJS.Timeout>();
  const threeMb = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < threeMb.length; i++) threeMb[i] = (i * 31) & 0xff;

  beforeAll(async () => {
    await server
      // Content-Length 100000, then one byte every 100 ms: never idle long
      // enough for the per-chunk body timeout.
      .route('/drip', (_req, res) => {
        res.writeHead(200, { 'content-length': '100000' });
        const t = setInterval(() => res.write('x'), 100);
        timers.add(t);
        res.on('close', () => clearInterval(t));
      })
      // Accepts, reads the request, never answers.
      .route('/stall', () => undefined)
      // Chunked, no Content-Length, never ends.
      .route('/endless', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        const block = Buffer.alloc(256 * 1024, 0x42);
        const pump = (): void => {
          while (res.write(block)) {
            /* fill the socket buffer */
          }
          res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
      })
      .route('/three-mb', (_req, res) => {
        res.writeHead(200, {});
        for (let off = 0; off < threeMb.length; off += 100_000) res.write(threeMb.subarray(off, off + 100_000));
        res.end();
      })
      .route('/three-mb-declared', (_req, res) => {
        res.writeHead(200, { 'content-length': String(threeMb.length) });
        res.end(threeMb);
      })
      .route('/busy', (_req, res) => {
        res.statusCode = 503;
        res.end('busy');
      })
      .start();
  });
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await server.stop();
  });

  const make = (extra: Partial<ConstructorParameters<typeof HttpFetcher>[0]> = {}) =>
    new HttpFetcher({
      clock,
      allowPrivateNetwork: true,
      bodyTimeoutMs: 5_000,
      headersTimeoutMs: 20_000,
      backoffBaseMs: 100,
      random: () => 0.5,
      ...extra,
    });

  it('ends a slow drip at the overall deadline as a timeout, without retrying past it', async () => {
    const f = make({ crlDeadlineMs: 1_500 });
    try {
      const started = Date.now();
      const r = await f.fetch({ url: server.url('/drip'), maxBytes: 1_000_000, purpose: 'crl' });
      const took = Date.now() - started;
      expect(r).toMatchObject({ ok: false, kind: 'timeout' });
      expect(!r.ok && r.message).toMatch(/1\.5 s fetch deadline/);
      expect(took).toBeGreaterThanOrEqual(1_400);
      expect(took).toBeLessThan(1_500 + 5_000);
    } finally {
      await f.close();
    }
  });

  it("ends a server that accepts and never answers at the deadline of the request's purpose", async () => {
    const f = make({ ocspDeadlineMs: 800, crlDeadlineMs: 60_000, otherDeadlineMs: 60_000 });
    try {
      const started = Date.now();
      const r = await f.fetch({ url: server.url('/stall'), method: 'POST', body: Buffer.alloc(10), maxBytes: 1000, purpose: 'ocsp' });
      expect(r).toMatchObject({ ok: false, kind: 'timeout' });
      expect(Date.now() - started).toBeLessThan(800 + 5_000);
      // An explicit deadline on the request wins over the purpose's.
      const again = Date.now();
      expect(await f.fetch({ url: server.url('/stall'), maxBytes: 1000, purpose: 'crl', deadlineMs: 600 })).toMatchObject({
        ok: false,
        kind: 'timeout',
      });
      expect(Date.now() - again).toBeLessThan(600 + 5_000);
    } finally {
      await f.close();
    }
  });

  it('uses 60 s for CRLs and 15 s for OCSP by default', () => {
    const f = make();
    expect(f.deadlineFor({ url: 'http://x/', maxBytes: 1, purpose: 'crl' })).toBe(60_000);
    expect(f.deadlineFor({ url: 'http://x/', maxBytes: 1, purpose: 'ocsp' })).toBe(15_000);
    void f.close();
  });

  it('does not start a retry that could not finish before the deadline', async () => {
    // Backoff 2 s > deadline 1 s: the first 503 stands, after one attempt.
    const f = make({ otherDeadlineMs: 1_000, backoffBaseMs: 4_000 });
    try {
      clock.sleeps.length = 0;
      expect(await f.fetch({ url: server.url('/busy'), maxBytes: 1000 })).toMatchObject({
        ok: false,
        kind: 'http-status',
        status: 503,
        attempts: 1,
      });
      expect(clock.sleeps).toEqual([]);
    } finally {
      await f.close();
    }
  });

  it('cuts an endless chunked body at the cap, spilling past the memory threshold, and leaves no temporary file', async () => {
    const before = spillDirs();
    const spilled: string[] = [];
    const f = make({ spillToDiskAfterBytes: 1024 * 1024, onSpill: (path) => spilled.push(path) });
    try {
      const r = await f.fetch({ url: server.url('/endless'), maxBytes: 8 * 1024 * 1024, purpose: 'crl' });
      expect(r).toMatchObject({ ok: false, kind: 'too-large' });
      expect(spilled).toHaveLength(1);
      expect(existsSync(spilled[0]!)).toBe(false);
    } finally {
      await f.close();
    }
    expect(spillDirs()).toEqual(before);
  });

  it('returns a body that spilled to disk byte for byte, with its SHA-256, and removes the file', async () => {
    const before = spillDirs();
    const spilled: string[] = [];
    const f = make({ spillToDiskAfterBytes: 1024 * 1024, onSpill: (path) => spilled.push(path) });
    try {
      for (const path of ['/three-mb', '/three-mb-declared']) {
        const r = await f.fetch({ url: server.url(path), maxBytes: 4 * 1024 * 1024, purpose: 'crl' });
        expect(r.ok, path).toBe(true);
        if (r.ok) {
          expect(r.body.length).toBe(threeMb.length);
          expect(r.body.equals(threeMb), path).toBe(true);
          expect(r.sha256).toBe(createHash('sha256').update(threeMb).digest('hex'));
        }
        // Only the body without a Content-Length goes through a temporary file.
        expect(spilled, path).toHaveLength(1);
      }
    } finally {
      await f.close();
    }
    expect(spillDirs()).toEqual(before);
  });
});
