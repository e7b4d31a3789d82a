/**
 * The local CA on the wire: an OCSP responder (POST and GET, RFC 6960 A.1),
 * its CRL and its certificate, served on 127.0.0.1. Revocations take any
 * time and reason, so demos and tests can stage late and backdated cases.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { serialHex } from '../pki/der.js';
import type { LocalCa } from './ca.js';
import type { CrlEntryInput } from './crl-writer.js';
import { writeOcspErrorResponse } from './ocsp-writer.js';

export interface StagedStatus {
  readonly status: 'good' | 'revoked';
  readonly revocationTime?: number;
  readonly reasonCode?: number | null;
}

export class LocalCaServer {
  private server: Server | null = null;
  private readonly statuses = new Map<string, StagedStatus>();
  private readonly files = new Map<string, { body: Uint8Array; type: string }>();
  private crlNumber = 1n;
  private crlCache: Buffer | null = null;
  requests = 0;
  baseUrl = '';

  constructor(
    readonly ca: LocalCa,
    private readonly now: () => number,
    private readonly validityMs = 4 * 86_400_000,
  ) {}

  get ocspUrl(): string {
    return `${this.baseUrl}/ocsp`;
  }

  get crlUrl(): string {
    return `${this.baseUrl}/ca.crl`;
  }

  get caIssuersUrl(): string {
    return `${this.baseUrl}/ca.der`;
  }

  /** Registers an issued serial as good. Serials never registered are answered `unknown`. */
  issued(serial: string): void {
    if (!this.statuses.has(serial)) this.statuses.set(serial, { status: 'good' });
    this.crlCache = null;
  }

  revoke(serial: string, revocationTime: number, reasonCode: number | null): void {
    this.statuses.set(serial, { status: 'revoked', revocationTime, reasonCode });
    this.crlNumber++;
    this.crlCache = null;
  }

  /** Issues a fresh CRL (new number and thisUpdate), as CAs do on a schedule. */
  refreshCrl(): void {
    this.crlNumber++;
    this.crlCache = null;
  }

  /** Takes a revocation back, as a misbehaving CA might (BR 4.10.1 forbids it before expiry). */
  unrevoke(serial: string): void {
    this.statuses.set(serial, { status: 'good' });
    this.crlNumber++;
    this.crlCache = null;
  }

  /** Serves fixed bytes at a path (extra CRLs for benchmarks). */
  serve(path: string, body: Uint8Array, type = 'application/pkix-crl'): void {
    this.files.set(path, { body, type });
  }

  crl(): Buffer {
    if (!this.crlCache) {
      const entries: CrlEntryInput[] = [];
      for (const [serial, s] of this.statuses) {
        if (s.status === 'revoked')
          entries.push({ serial, revocationDate: s.revocationTime ?? this.now(), reasonCode: s.reasonCode ?? null });
      }
      const thisUpdate = Math.floor(this.now() / 1000) * 1000;
      this.crlCache = this.ca.crl({ entries, thisUpdate, nextUpdate: thisUpdate + this.validityMs, crlNumber: this.crlNumber });
    }
    return this.crlCache;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    this.requests++;
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, type: string, data: Uint8Array): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': data.length });
      res.end(data);
    };
    const file = this.files.get(path);
    if (file) return send(200, file.type, file.body);
    if (path === '/ca.crl') return send(200, 'application/pkix-crl', this.crl());
    if (path === '/ca.der') return send(200, 'application/pkix-cert', this.ca.info.der);
    if (path === '/ocsp' || path.startsWith('/ocsp/')) {
      let der: Uint8Array;
      if (req.method === 'POST') der = body;
      else der = Buffer.from(decodeURIComponent(path.slice('/ocsp/'.length)), 'base64');
      return send(200, 'application/ocsp-response', this.answer(der));
    }
    send(404, 'text/plain', Buffer.from('not found'));
  }

  private answer(requestDer: Uint8Array): Buffer {
    let serial: string;
    try {
      const request = AsnConvert.parse(requestDer, OCSPRequest);
      serial = serialHex(new Uint8Array(request.tbsRequest.requestList[0]!.reqCert.serialNumber));
    } catch {
      return writeOcspErrorResponse(1); // malformedRequest
    }
    const now = this.now();
    const s = this.statuses.get(serial);
    const thisUpdate = Math.floor(now / 1000) * 1000;
    const answer = !s
      ? { serial, status: 'unknown' as const, thisUpdate, nextUpdate: thisUpdate + this.validityMs }
      : s.status === 'revoked'
        ? {
            serial,
            status: 'revoked' as const,
            revocationTime: s.revocationTime,
            reasonCode: s.reasonCode ?? null,
            thisUpdate,
            nextUpdate: thisUpdate + this.validityMs,
          }
        : { serial, status: 'good' as const, thisUpdate, nextUpdate: thisUpdate + this.validityMs };
    return this.ca.ocspResponse({ answers: [answer], producedAt: thisUpdate });
  }
}
