/**
 * The shortcuts status takes for every certificate of a case give what the plain computations give:
 * compareObservations against comparing the canonical keys, caseDeadlines against computeDeadline per certificate, revocationSources' search against a set of seen
 * sources, and iso's direct-mapped cache against formatting each time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CERT_KINDS, type Case, type Observation } from '../../../src/domain.js';
import { compareObservations, observationKey } from '../../../src/rules/evidence.js';
import { FIXED_DATE_RULES } from '../../../src/rules/fixed-date.js';
import { MAX_URLS_PER_ROUTE, refusedSources, revocationSources, type SourcedCertificate } from '../../../src/rules/revocation-sources.js';
import { caseDeadlines, computeDeadline, reasonsFor } from '../../../src/rules/rules.js';
import { iso } from '../../../src/time.js';

const t = (s: string): number => Date.parse(s);
const DAY = 86_400_000;

describe('caseDeadlines', () => {
  // Around both short-lived limits (BR 1.6.1): issued either side of 2024-03-15 and 2026-03-15, valid 6 to 11 days.
  const certificates = [t('2023-06-01T00:00:00Z'), t('2024-03-15T00:00:00Z'), t('2026-03-14T12:00:00Z'), t('2026-03-15T00:00:00Z')].flatMap(
    (notBefore) =>
      [6, 7, 8, 10, 11, 90].flatMap((days) => [0, -1000, 1000].map((ms) => ({ notBefore, notAfter: notBefore + days * DAY + ms }))),
  );
  const cases: Case[] = CERT_KINDS.flatMap((kind) =>
    reasonsFor(kind).flatMap((reason) =>
      [t('2024-01-10T00:00:00Z'), t('2025-06-01T00:00:00Z')].map((reportedAt) => ({ id: 'c', title: 'c', reportedAt, reason, kind })),
    ),
  );
  const fixed: Case[] = FIXED_DATE_RULES.map((r) => ({
    id: 'f',
    title: 'f',
    reportedAt: t('2025-06-01T00:00:00Z'),
    reason: reasonsFor(r.kind)[0]!,
    kind: r.kind,
    rule: r.id,
  }));

  it('gives every certificate of a case the deadline computeDeadline gives it, in any order', () => {
    for (const kase of [...cases, ...fixed])
      for (const rulesAsOf of [undefined, t('2026-06-01T00:00:00Z')]) {
        const options = rulesAsOf === undefined ? {} : { rulesAsOf };
        const deadlineOf = caseDeadlines(kase, options);
        for (const cert of [...certificates, ...certificates.reverse()])
          expect(deadlineOf(cert), `${kase.kind}/${kase.reason}/${kase.rule ?? ''}`).toEqual(computeDeadline(kase, cert, options));
      }
  });
});

describe('revocationSources', () => {
  /** The sources as they were collected before: a set of the (kind, URL) pairs seen. */
  function reference(cert: SourcedCertificate): { sources: unknown[]; refused: unknown[] } {
    const sources: { kind: string; url: string; route: string }[] = [];
    const refused: unknown[] = [];
    const seen = new Set<string>();
    const add = (kind: 'crl' | 'ocsp', route: string, urls: readonly string[] | undefined): void => {
      let taken = 0;
      let over: Set<string> | null = null;
      for (const url of urls ?? []) {
        if (seen.has(`${kind} ${url}`)) continue;
        if (route !== 'ccadb' && taken >= MAX_URLS_PER_ROUTE) {
          over ??= new Set();
          over.add(url);
          continue;
        }
        seen.add(`${kind} ${url}`);
        taken++;
        sources.push({ kind, url, route });
      }
      if (over) refused.push({ kind, route, named: taken + over.size, refused: [...over] });
    };
    add('crl', 'cdp', cert.crlUrls);
    add('ocsp', 'aia', cert.ocspUrls);
    add('crl', 'given', cert.givenCrlUrls);
    add('ocsp', 'given', cert.givenOcspUrls);
    add('crl', 'ccadb', cert.disclosedCrlUrls);
    return { sources, refused };
  }

  // Few URLs, so routes name the same ones; lists long enough to pass the cap and the search's set.
  const urls = fc.array(fc.constantFrom(...Array.from({ length: 14 }, (_, i) => `http://h/${i}`)), { maxLength: 24 });

  it('lists each source once, in route order, with the same refusals as a set of seen sources', () => {
    fc.assert(
      fc.property(
        urls,
        urls,
        fc.option(urls, { nil: undefined }),
        fc.option(urls, { nil: undefined }),
        fc.option(urls),
        (crl, ocsp, given, givenOcsp, disclosed) => {
          const cert: SourcedCertificate = {
            crlUrls: crl,
            ocspUrls: ocsp,
            givenCrlUrls: given,
            givenOcspUrls: givenOcsp,
            ...(disclosed ? { disclosedCrlUrls: disclosed } : {}),
          };
          const want = reference(cert);
          expect(revocationSources(cert)).toEqual(want.sources);
          expect(refusedSources(cert)).toEqual(want.refused);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('iso', () => {
  it('formats each instant as toISOString does, whichever instants shared its cache slot before', () => {
    // Seconds 4,096 apart share a slot of the cache; each is formatted again after the other took the slot.
    const base = t('2026-12-07T23:39:53Z');
    const instants = [0, 4096_000, 0, 2 * 4096_000, 4096_000, 999, -1, -4096_000, 1].map((d) => base + d);
    for (const ms of [...instants, ...instants])
      expect(iso(ms)).toBe(new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
    expect(iso(-1)).toBe('1969-12-31T23:59:59Z');
  });
});

describe('compareObservations', () => {
  const observation = (observedAt: number, status: Observation['status'], thisUpdate: number | null): Observation => ({
    observedAt,
    source: { kind: 'crl', url: 'http://h/0' },
    status,
    revocationTime: null,
    reasonCode: null,
    thisUpdate,
    nextUpdate: null,
    producedAt: null,
    error: null,
  });
  // Instants of 12, 13 and 14 digits, negative and fractional ones, and equal ones that leave the rest to decide.
  const instant = fc.oneof(
    fc.constantFrom(999_999_999_999, 1e12, 1_765_000_000_000, 9_999_999_999_999, 1e13, -1_765_000_000_000, 1_765_000_000_000.5),
    fc.integer({ min: 1e12 - 1000, max: 1e12 + 1000 }),
    fc.integer({ min: 0, max: 2e13 }),
  );
  const arb = fc
    .tuple(instant, fc.constantFrom('good', 'revoked') as fc.Arbitrary<Observation['status']>, fc.option(instant))
    .map(([at, status, thisUpdate]) => observation(at, status, thisUpdate));

  it('orders two observations as their canonical keys do', () => {
    fc.assert(
      fc.property(arb, arb, (a, b) => {
        const ka = observationKey(a);
        const kb = observationKey(b);
        expect(compareObservations(a, b)).toBe(ka < kb ? -1 : ka > kb ? 1 : 0);
      }),
      { numRuns: 5000 },
    );
  });
});
