/**
 * The fetch stack as a check uses it: OCSP exchanges over the keep-alive
 * client (adapters/net/ocsp-client.ts), everything else (CRLs, caIssuers,
 * crt.sh, the CCADB report) through the general fetcher it wraps. One place
 * builds it, for the CLI and the worker alike.
 */
import { HttpFetcher } from '../adapters/net/http-fetcher.js';
import { OcspClient } from '../adapters/net/ocsp-client.js';
import type { Clock, Fetcher } from '../ports/index.js';

export interface FetchStackOptions {
  readonly clock: Clock;
  /** False in AWS: the address guard refuses private and loopback addresses (adapters/net/address-guard.ts). */
  readonly allowPrivateNetwork: boolean;
  /** Overall deadlines per fetch (the CLI's REVWATCH_CRL_DEADLINE_MS / REVWATCH_OCSP_DEADLINE_MS); the fetcher's defaults when absent. */
  readonly crlDeadlineMs?: number;
  readonly ocspDeadlineMs?: number;
}

export interface FetchStack {
  /** What a check fetches with: OCSP over the lean client, the rest through `http`. */
  readonly fetcher: Fetcher;
  /** The general fetcher alone. */
  readonly http: HttpFetcher;
  close(): Promise<void>;
}

/** The general fetcher alone (the planner's CCADB download needs no OCSP client). */
export function openHttpFetcher(options: FetchStackOptions): HttpFetcher {
  return new HttpFetcher({
    clock: options.clock,
    allowPrivateNetwork: options.allowPrivateNetwork,
    ...(options.crlDeadlineMs !== undefined ? { crlDeadlineMs: options.crlDeadlineMs } : {}),
    ...(options.ocspDeadlineMs !== undefined ? { ocspDeadlineMs: options.ocspDeadlineMs } : {}),
  });
}

export function openFetchStack(options: FetchStackOptions): FetchStack {
  const http = openHttpFetcher(options);
  const ocsp = new OcspClient({
    fallback: http,
    allowPrivateNetwork: options.allowPrivateNetwork,
    ...(options.ocspDeadlineMs !== undefined ? { timeoutMs: options.ocspDeadlineMs } : {}),
  });
  return {
    fetcher: ocsp,
    http,
    async close() {
      await ocsp.close();
      await http.close();
    },
  };
}
