/**
 * A loopback HTTP server whose routes misbehave on purpose: stalls, redirect
 * loops, oversized bodies, transient 503s. Bound to 127.0.0.1 only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

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
        const handler = this.routes.get(path) ?? [...this.routes.entries()].find(([p]) => p.endsWith('*') && path.startsWith(p.slice(0, -1)))?.[1];
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
