/**
 * A Fetcher that answers like a CA without any network: its CRL and its OCSP
 * responses are real, signed by an in-process LocalCa, built when asked.
 * Unit tests run the whole check pipeline on it with the store over a MemoryTable and a
 * FakeClock, so they need no sockets, no dynalite and no openssl.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { serialHex } from '../../src/pki/der.js';
import type { LocalCa } from '../../src/local-ca/ca.js';
import type { CrlEntryInput } from '../../src/local-ca/crl-writer.js';
import { writeOcspErrorResponse } from '../../src/local-ca/ocsp-writer.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../src/ports/index.js';
import { servedWhole } from './pki-fixtures.js';

const DAY = 86_400_000;

export class CannedCaFetcher implements Fetcher {
  /** URLs a certificate can name; nothing is ever sent to them. */
  readonly crlUrl = 'http://127.0.0.1:9/ca.crl';
  readonly ocspUrl = 'http://127.0.0.1:9/ocsp';
  readonly requests: { url: string; method: string }[] = [];
  /** Set to make every request to that URL fail as a timeout would. */
  readonly down = new Set<string>();
  private readonly statuses = new Map<
    string,
    { status: 'good' } | { status: 'revoked'; revocationTime: number; reasonCode: number | null }
  >();
  private crlNumber = 1n;
  /** One CRL per CRL number, as a CA publishes it (re-signing would change its hash). */
  private crlCache: Buffer | null = null;

  constructor(
    readonly ca: LocalCa,
    private readonly now: () => number,
  ) {}

  issued(serial: string): void {
    if (!this.statuses.has(serial)) this.statuses.set(serial, { status: 'good' });
  }

  revoke(serial: string, revocationTime: number, reasonCode: number | null): void {
    this.statuses.set(serial, { status: 'revoked', revocationTime, reasonCode });
    this.crlNumber++;
    this.crlCache = null;
  }

  /** The CA reverses a revocation (BR 4.10.1 forbids it): its next CRL omits the serial and its responder says good. */
  unrevoke(serial: string): void {
    this.statuses.set(serial, { status: 'good' });
    this.crlNumber++;
    this.crlCache = null;
  }

  /** Serials the next CRLs leave off though they stay revoked (the responder still says so). */
  readonly crlOmits = new Set<string>();

  /** Makes the next CRL a new one (a new CRL number and thisUpdate). */
  reissueCrl(): void {
    this.crlNumber++;
    this.crlCache = null;
  }

  get crlRequests(): number {
    return this.requests.filter((r) => r.url === this.crlUrl).length;
  }

  get ocspRequests(): number {
    return this.requests.filter((r) => r.url === this.ocspUrl).length;
  }

  crl(): Buffer {
    if (!this.crlCache) {
      const entries: CrlEntryInput[] = [];
      for (const [serial, s] of this.statuses)
        if (s.status === 'revoked' && !this.crlOmits.has(serial))
          entries.push({ serial, revocationDate: s.revocationTime, reasonCode: s.reasonCode });
      const thisUpdate = Math.floor(this.now() / 1000) * 1000;
      this.crlCache = this.ca.crl({ entries, thisUpdate, nextUpdate: thisUpdate + 4 * DAY, crlNumber: this.crlNumber });
    }
    return this.crlCache;
  }

  async fetch(request: FetchRequest): Promise<FetchResult> {
    this.requests.push({ url: request.url, method: request.method ?? 'GET' });
    if (this.down.has(request.url))
      return { ok: false, kind: 'timeout', message: `no answer from ${request.url}`, url: request.url, attempts: 1 };
    let body: Buffer;
    let contentType: string;
    if (request.url === this.crlUrl) {
      body = this.crl();
      contentType = 'application/pkix-crl';
    } else if (request.url === this.ocspUrl && request.method === 'POST' && request.body) {
      body = this.answer(request.body);
      contentType = 'application/ocsp-response';
    } else {
      return { ok: false, kind: 'http-status', status: 404, message: `404 from ${request.url}`, url: request.url, attempts: 1 };
    }
    return servedWhole(request.url, body, contentType);
  }

  private answer(requestDer: Uint8Array): Buffer {
    let serial: string;
    try {
      serial = serialHex(new Uint8Array(AsnConvert.parse(requestDer, OCSPRequest).tbsRequest.requestList[0]!.reqCert.serialNumber));
    } catch {
      return writeOcspErrorResponse(1); // malformedRequest (RFC 6960 4.2.1)
    }
    const thisUpdate = Math.floor(this.now() / 1000) * 1000;
    const s = this.statuses.get(serial);
    const nextUpdate = thisUpdate + 4 * DAY;
    const answer = !s
      ? { serial, status: 'unknown' as const, thisUpdate, nextUpdate }
      : s.status === 'revoked'
        ? { serial, status: 'revoked' as const, revocationTime: s.revocationTime, reasonCode: s.reasonCode, thisUpdate, nextUpdate }
        : { serial, status: 'good' as const, thisUpdate, nextUpdate };
    return this.ca.ocspResponse({ answers: [answer], producedAt: thisUpdate });
  }
}
