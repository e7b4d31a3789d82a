/**
 * Fixtures generated at test time with fixed dates: a root, an issuing CA,
 * leaves, a delegated OCSP responder. Values are computed, never hard-coded.
 */
import { createHash } from 'node:crypto';
import { LocalCa } from '../../src/local-ca/ca.js';
import type { FetchResult, Fetcher } from '../../src/ports/index.js';
import type { KeyType } from '../../src/local-ca/keys.js';

export const T0 = Date.parse('2025-01-01T00:00:00Z');
export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export async function makeHierarchy(keyType: KeyType = 'ec-p256') {
  const root = await LocalCa.create({ name: `Test Root ${keyType}`, keyType, notBefore: T0 - 365 * DAY, notAfter: T0 + 3650 * DAY });
  const ca = await LocalCa.create({
    name: `Test Issuing CA ${keyType}`,
    keyType,
    notBefore: T0 - 300 * DAY,
    notAfter: T0 + 1000 * DAY,
    parent: root,
  });
  const leaf = await ca.issue({
    subject: 'CN=leaf.example',
    notBefore: T0 - 10 * DAY,
    notAfter: T0 + 80 * DAY,
    ocspUrls: ['http://127.0.0.1:1/ocsp'],
    crlUrls: ['http://127.0.0.1:1/ca.crl'],
  });
  return { root, ca, leaf };
}

/** A whole 200 answer of `body` from `url`, hashed as the fetcher hashes it, with no validators. */
export const servedWhole = (url: string, body: Buffer, contentType: string | null = null): FetchResult => ({
  ok: true,
  status: 200,
  url,
  body,
  sha256: createHash('sha256').update(body).digest('hex'),
  notModified: false,
  etag: null,
  lastModified: null,
  contentType,
  redirects: 0,
  attempts: 1,
});

/**
 * A Fetcher that answers every request with `body`, 200, and no validators: a probe's view of one served file.
 * Given a function, it is asked at each fetch, so a test can serve a new CRL between two sweeps.
 */
export const serving = (body: Buffer | (() => Buffer)): Fetcher => ({
  fetch: async (r) => servedWhole(r.url, typeof body === 'function' ? body() : body),
});
