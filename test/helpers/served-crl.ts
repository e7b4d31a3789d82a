/** A fetcher that answers every request with a CRL (200, whole, hashed as the real fetcher hashes it): sweeps in unit tests. */
import { createHash } from 'node:crypto';
import type { FetchRequest, FetchResult, Fetcher } from '../../src/ports/index.js';

/** `crl` is asked at each fetch, so a test can serve a new CRL between sweeps. */
export function servingCrl(crl: () => Buffer): Fetcher {
  return {
    fetch: async (request: FetchRequest): Promise<FetchResult> => {
      const body = crl();
      return {
        ok: true,
        status: 200,
        url: request.url,
        body,
        sha256: createHash('sha256').update(body).digest('hex'),
        notModified: false,
        etag: null,
        lastModified: null,
        contentType: 'application/pkix-crl',
        redirects: 0,
        attempts: 1,
      };
    },
  };
}
