/**
 * One stored certificate and the answers about it, for the tests of what a certificate item keeps
 * (store/layout.ts): the packed item and the polling summary projected from it are read from the same
 * fixtures, so a change to the certificate's shape shows up in both at once.
 */
import fc from 'fast-check';
import type { Observation } from '../../src/domain.js';
import type { StoredCertificate } from '../../src/ports/store.js';

export const T0 = Date.parse('2026-05-01T00:00:00Z');
export const HOUR = 3_600_000;
export const CRL_URL = 'http://crl.example/1.crl';
export const OCSP_URL = 'http://ocsp.example';

/** A subscriber certificate with one CRL and one OCSP responder, tracked at T0 in `caseId`. */
export function storedCertificate(caseId: string, more: Partial<StoredCertificate> = {}): StoredCertificate {
  return {
    caseId,
    sha256: 'ab'.repeat(32),
    serial: '1000000000000000000000fd34',
    subject: 'CN=leaf.example',
    issuer: 'CN=Example CA, O=Example',
    notBefore: T0 - 10 * 24 * HOUR,
    notAfter: T0 + 80 * 24 * HOUR,
    precertificate: false,
    ocspUrls: [OCSP_URL],
    crlUrls: [CRL_URL],
    issuerSha256: 'cd'.repeat(32),
    isCA: false,
    trackedAt: T0,
    ...more,
  };
}

/** A good, verified answer from `url` an hour after T0. */
export function goodAnswer(kind: 'crl' | 'ocsp', url: string): Observation {
  return {
    observedAt: T0 + HOUR,
    source: { kind, url },
    status: 'good',
    revocationTime: null,
    reasonCode: null,
    thisUpdate: T0,
    nextUpdate: T0 + 7 * 24 * HOUR,
    producedAt: null,
    crlNumber: '65',
    signer: 'crl-issuer',
    sha256: 'ee'.repeat(32),
    error: null,
  };
}

const time = (from: number, to: number): fc.Arbitrary<number | null> =>
  fc.option(fc.integer({ min: T0 + from * HOUR, max: T0 + to * HOUR }), { nil: null });

/**
 * Any answer from one of `sources`. `every field`: each optional field varies on its own (what packing must
 * keep, even for combinations no checker writes); otherwise an answer as the checker records it (an error
 * exactly when the status is error, no OCSP producedAt), which is what a polling summary is resolved from.
 */
export function arbAnswer(
  sources: readonly { kind: 'crl' | 'ocsp'; url: string }[],
  shape: 'every field' | 'as recorded',
): fc.Arbitrary<Observation> {
  const every = shape === 'every field';
  return fc
    .record({
      observedAt: fc.integer({ min: T0, max: T0 + 1000 * HOUR }),
      source: fc.constantFrom(...sources),
      status: fc.constantFrom('good', 'revoked', 'unknown', 'error') as fc.Arbitrary<Observation['status']>,
      revocationTime: time(-100, 1000),
      reasonCode: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
      thisUpdate: time(-100, 1000),
      nextUpdate: every ? time(0, 2000) : time(-100, 1000),
      producedAt: every ? time(-100, 1000) : fc.constant(null),
      crlNumber: every ? fc.option(fc.bigInt({ min: 0n, max: 1n << 159n }).map(String), { nil: null }) : fc.constant(null),
      signer: every ? fc.option(fc.constantFrom('crl-issuer', 'issuer', 'delegated'), { nil: null }) : fc.constant('ca'),
      sha256: every ? fc.option(fc.constantFrom('ee'.repeat(32), '0f'.repeat(32)), { nil: null }) : fc.constant(null),
      error: every
        ? fc.option(fc.record({ kind: fc.constantFrom('timeout', 'signature', 'http'), message: fc.string() }), { nil: null })
        : fc.constant(null),
    })
    .map((o) => (!every && o.status === 'error' ? { ...o, error: { kind: 'http', message: 'HTTP 503' } } : o));
}
