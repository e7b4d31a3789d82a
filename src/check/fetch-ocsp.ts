/**
 * One OCSP exchange over HTTP, shared by the probes and `revwatch inspect
 * ocsp <url>`: POST first (RFC 6960 A.1.1), and the GET form (base64 of the
 * DER request in the path, RFC 6960 A.1.1 / RFC 5019 5) when the responder
 * refuses POST with 405 Method Not Allowed or 501 Not Implemented.
 */
import { ocspGetUrl } from '../pki/ocsp.js';
import type { FetchResult, Fetcher } from '../ports/index.js';

export async function fetchOcsp(fetcher: Fetcher, url: string, request: Uint8Array, maxBytes: number): Promise<FetchResult> {
  const accept = { accept: 'application/ocsp-response' };
  const posted = await fetcher.fetch({
    url,
    method: 'POST',
    body: request,
    headers: { 'content-type': 'application/ocsp-request', ...accept },
    maxBytes,
    purpose: 'ocsp',
  });
  if (posted.ok || posted.kind !== 'http-status' || (posted.status !== 405 && posted.status !== 501)) return posted;
  return fetcher.fetch({ url: ocspGetUrl(url, request), headers: accept, maxBytes, purpose: 'ocsp' });
}
