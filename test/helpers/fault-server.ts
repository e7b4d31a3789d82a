/**
 * Loopback HTTP servers that misbehave on purpose. FaultServer: hand-written
 * routes (stalls, redirect loops, oversized bodies, transient 503s).
 * HostileSource: a CA's CRL and OCSP endpoints with a mode per remote fault
 * class, for the fault-injection suite (test/faults). Bound to 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { LocalCa } from '../../src/local-ca/ca.js';
import { writeOcspErrorResponse } from '../../src/local-ca/ocsp-writer.js';

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

export class FaultServer {
  readonly hits: { method: string; url: string }[] = [];
  private readonly routes = new Map<string, Handler>();
  private server!: Server;
  port = 0;

  route(path: string, handler: Handler): this {
    this.routes.set(path, handler);
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  reset(): void {
    this.hits.length = 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.hits.push({ method: req.method ?? '', url: req.url ?? '' });
        const path = (req.url ?? '/').split('?')[0]!;
        const handler =
          this.routes.get(path) ?? [...this.routes.entries()].find(([p]) => p.endsWith('*') && path.startsWith(p.slice(0, -1)))?.[1];
        if (!handler) {
          res.statusCode = 404;
          res.end('not found');
          return;
        }
        handler(req, res, Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------
// The hostile source: one loopback server with a mode per fault class
// ---------------------------------------------------------------------------

/** Every remote fault class the suite drives, in the order the table prints them. */
export const FAULT_CLASSES = [
  'refused',
  'reset',
  'accept-and-stall',
  'slow-drip',
  'http-500',
  'html',
  'empty',
  'truncated-der',
  'bad-signature',
  'crl-other-issuer',
  'ocsp-other-certid',
  'stale',
  'future',
  'ocsp-malformedRequest',
  'ocsp-internalError',
  'ocsp-tryLater',
  'ocsp-sigRequired',
  'ocsp-unauthorized',
  'redirect-loop',
  'redirect-private',
  'declared-oversize',
  'endless-body',
  'gzip',
  'broken-chunked',
] as const;
export type FaultClass = (typeof FAULT_CLASSES)[number];
export type SourceKind = 'crl' | 'ocsp';

/** Which of a certificate's sources a class concerns (content faults are specific to one format). */
export function sourcesOf(fault: FaultClass): SourceKind[] {
  if (fault === 'crl-other-issuer') return ['crl'];
  if (fault === 'ocsp-other-certid' || fault.startsWith('ocsp-')) return ['ocsp'];
  return ['crl', 'ocsp'];
}

const OCSP_ERROR_CODES: Record<string, 1 | 2 | 3 | 5 | 6> = {
  'ocsp-malformedRequest': 1,
  'ocsp-internalError': 2,
  'ocsp-tryLater': 3,
  'ocsp-sigRequired': 5,
  'ocsp-unauthorized': 6,
};

/** Where a redirect-private answer points: a metadata address, refused even with --allow-private-network. */
export const PRIVATE_REDIRECT_TARGET = 'http://169.254.169.254/latest/meta-data/';

interface Slot {
  mode: 'honest' | FaultClass;
  serial: string;
}

/**
 * A CA's CRL and OCSP endpoints gone bad. Each slot (one per fault class in
 * the suite) answers honestly until switched to its fault. Slot URLs:
 * /s/<slot>/crl and /s/<slot>/ocsp (POST, or GET with the request appended).
 * The `refused` class is served from a second listener that is closed when
 * the slot turns hostile, so the port then refuses connections. Loopback only.
 */
export class HostileSource {
  readonly hits: { slot: string; kind: SourceKind; method: string }[] = [];
  private readonly slots = new Map<string, Slot>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  private refusable: Server | null = null;
  port = 0;
  refusablePort = 0;

  /** `ca` signs the honest answers; `otherCa` signs the answers of another issuer. */
  constructor(
    private readonly ca: LocalCa,
    private readonly otherCa: LocalCa,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      req.on('data', () => undefined);
      req.on('end', () => this.handle(req, res));
    };
    this.server = createServer(handler);
    this.server.on('connection', (s) => this.track(s));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.refusable = createServer(handler);
    this.refusable.on('connection', (s) => this.track(s));
    await new Promise<void>((resolve) => this.refusable!.listen(0, '127.0.0.1', resolve));
    this.refusablePort = (this.refusable.address() as AddressInfo).port;
    return this;
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Registers a slot for a certificate serial; returns its CRL and OCSP URLs. */
  slot(name: string, serial: string, fault: FaultClass | null): { crl: string; ocsp: string } {
    this.slots.set(name, { mode: 'honest', serial });
    const port = fault === 'refused' ? this.refusablePort : this.port;
    return { crl: `http://127.0.0.1:${port}/s/${name}/crl`, ocsp: `http://127.0.0.1:${port}/s/${name}/ocsp` };
  }

  async setMode(name: string, mode: 'honest' | FaultClass): Promise<void> {
    this.slots.get(name)!.mode = mode;
    if (mode === 'refused' && this.refusable) {
      const server = this.refusable;
      this.refusable = null;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const s of this.sockets) s.destroy();
    for (const server of [this.server, this.refusable]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  honestCrl(): Buffer {
    const now = this.now();
    return this.ca.crl({
      entries: [{ serial: '7f0001', revocationDate: now - 86_400_000, reasonCode: 4 }],
      thisUpdate: now - 60_000,
      nextUpdate: now + 7 * 86_400_000,
      crlNumber: 1,
    });
  }

  honestOcsp(serial: string): Buffer {
    const now = this.now();
    return this.ca.ocspResponse({
      answers: [{ serial, status: 'good', thisUpdate: now - 60_000, nextUpdate: now + 4 * 86_400_000 }],
      producedAt: now - 60_000,
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/s\/([^/]+)\/(crl|ocsp)/.exec(req.url ?? '');
    const slot = m ? this.slots.get(m[1]!) : undefined;
    if (!m || !slot) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const kind = m[2] as SourceKind;
    this.hits.push({ slot: m[1]!, kind, method: req.method ?? '' });
    const honest = (): Buffer => (kind === 'crl' ? this.honestCrl() : this.honestOcsp(slot.serial));
    const type = kind === 'crl' ? 'application/pkix-crl' : 'application/ocsp-response';
    const send = (body: Buffer | string, headers: Record<string, string> = {}, status = 200): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...headers });
      res.end(body);
    };
    const now = this.now();
    switch (slot.mode) {
      case 'honest':
        return send(honest());
      case 'refused': // the listener is closed; a connection still open gets dropped
      case 'reset':
        req.socket.destroy();
        return;
      case 'accept-and-stall':
        return; // the request is read; no answer, ever
      case 'slow-drip': {
        // Under either cap, so only the deadline can end it.
        res.writeHead(200, { 'content-type': type, 'content-length': kind === 'crl' ? '100000' : '30000' });
        const t = setInterval(() => res.write('0'), 1_000);
        this.timers.add(t);
        res.on('close', () => clearInterval(t));
        return;
      }
      case 'http-500':
        return send('internal server error', { 'content-type': 'text/plain' }, 500);
      case 'html':
        return send('<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>', { 'content-type': 'text/html' });
      case 'empty':
        return send(Buffer.alloc(0));
      case 'truncated-der': {
        const full = honest();
        return send(full.subarray(0, Math.floor(full.length / 2)));
      }
      case 'bad-signature':
        return send(
          kind === 'crl'
            ? this.ca.crl({ entries: [], thisUpdate: now - 60_000, nextUpdate: now + 86_400_000, crlNumber: 2, corruptSignature: true })
            : this.ca.ocspResponse({
                answers: [
                  {
                    serial: slot.serial,
                    status: 'revoked',
                    revocationTime: now - 3_600_000,
                    reasonCode: 1,
                    thisUpdate: now - 60_000,
                    nextUpdate: now + 86_400_000,
                  },
                ],
                producedAt: now - 60_000,
                corruptSignature: true,
              }),
        );
      case 'crl-other-issuer':
        return send(
          this.otherCa.crl({
            entries: [{ serial: slot.serial, revocationDate: now - 3_600_000, reasonCode: 1 }],
            thisUpdate: now - 60_000,
            nextUpdate: now + 86_400_000,
            crlNumber: 3,
          }),
        );
      case 'ocsp-other-certid':
        return send(
          this.ca.ocspResponse({
            answers: [
              {
                serial: '0badc0de',
                status: 'revoked',
                revocationTime: now - 3_600_000,
                reasonCode: 1,
                thisUpdate: now - 60_000,
                nextUpdate: now + 86_400_000,
              },
            ],
            producedAt: now - 60_000,
          }),
        );
      case 'stale':
        return send(
          kind === 'crl'
            ? this.ca.crl({ entries: [], thisUpdate: now - 10 * 86_400_000, nextUpdate: now - 3 * 86_400_000, crlNumber: 4 })
            : this.ca.ocspResponse({
                answers: [{ serial: slot.serial, status: 'good', thisUpdate: now - 10 * 86_400_000, nextUpdate: now - 3 * 86_400_000 }],
                producedAt: now - 10 * 86_400_000,
              }),
        );
      case 'future':
        return send(
          kind === 'crl'
            ? this.ca.crl({
                entries: [{ serial: slot.serial, revocationDate: now + 86_400_000, reasonCode: 1 }],
                thisUpdate: now + 86_400_000,
                nextUpdate: now + 8 * 86_400_000,
                crlNumber: 5,
              })
            : this.ca.ocspResponse({
                answers: [
                  {
                    serial: slot.serial,
                    status: 'revoked',
                    revocationTime: now + 86_400_000,
                    reasonCode: 1,
                    thisUpdate: now + 86_400_000,
                    nextUpdate: now + 5 * 86_400_000,
                  },
                ],
                producedAt: now + 86_400_000,
              }),
        );
      case 'ocsp-malformedRequest':
      case 'ocsp-internalError':
      case 'ocsp-tryLater':
      case 'ocsp-sigRequired':
      case 'ocsp-unauthorized':
        return send(writeOcspErrorResponse(OCSP_ERROR_CODES[slot.mode]!));
      case 'redirect-loop':
        res.writeHead(302, { location: req.url ?? '/' });
        res.end();
        return;
      case 'redirect-private':
        res.writeHead(302, { location: PRIVATE_REDIRECT_TARGET });
        res.end();
        return;
      case 'declared-oversize':
        // Far past either cap (256 MiB CRL, 64 KiB OCSP), then a trickle.
        res.writeHead(200, { 'content-type': type, 'content-length': String(1024 * 1024 * 1024) });
        res.write(Buffer.alloc(1024));
        return;
      case 'endless-body': {
        res.writeHead(200, { 'content-type': type });
        const block = Buffer.alloc(1024 * 1024, 0x30);
        const pump = (): void => {
          while (!res.destroyed && res.write(block)) {
            /* until the socket pushes back */
          }
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      case 'gzip': {
        // Compressed though the client never sent Accept-Encoding.
        const body = gzipSync(honest());
        return send(body, { 'content-encoding': 'gzip' });
      }
      case 'broken-chunked': {
        const socket = req.socket;
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\nzz\r\nnot a chunk\r\n`,
        );
        socket.end();
        return;
      }
    }
  }
}
