/**
 * The evidence record and the evidence function, as properties (fast-check):
 * a record folded in any pieces equals the rebuild, loses nothing a verdict
 * needs, and nothing depends on the order answers arrived in.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Case, Observation, TrackedCertificate } from '../../../src/domain.js';
import { EMPTY_RECORD, canonicalRecordJson, evidenceOf, mergeEvidence, recordObservations } from '../../../src/rules/evidence.js';
import { judge, verdictOf } from '../../../src/rules/verdict.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REPORTED = Date.parse('2025-02-03T10:00:00Z');
const CRL = { kind: 'crl' as const, url: 'http://crl.example/1.crl' };
const CRL2 = { kind: 'crl' as const, url: 'http://crl.example/2.crl' };
const OCSP = { kind: 'ocsp' as const, url: 'http://ocsp.example' };

const kase = (over: Partial<Case> = {}): Case => ({
  id: 'c',
  title: 't',
  reportedAt: REPORTED,
  reason: 'misissuance',
  kind: 'tls-subscriber',
  ...over,
});
const cert = (over: Partial<TrackedCertificate> = {}): TrackedCertificate => ({
  sha256: 'cd'.repeat(32),
  serial: '01',
  subject: 'CN=x',
  issuer: 'CN=CA',
  notBefore: REPORTED - 30 * DAY,
  notAfter: REPORTED + 60 * DAY,
  precertificate: false,
  ocspUrls: [OCSP.url],
  crlUrls: [CRL.url, CRL2.url],
  ...over,
});
const answer = (source: Observation['source'], observedAt: number, over: Partial<Observation> = {}): Observation => ({
  observedAt,
  source,
  status: 'good',
  revocationTime: null,
  reasonCode: null,
  thisUpdate: observedAt - HOUR,
  nextUpdate: observedAt + 3 * DAY,
  producedAt: source.kind === 'ocsp' ? observedAt - HOUR : null,
  crlNumber: null,
  signer: null,
  sha256: null,
  error: null,
  ...over,
});

const arbTime = fc.integer({ min: -20 * 24, max: 20 * 24 }).map((h) => REPORTED + h * HOUR);
/** Answers as hostile sources give them: stale, old-dated, future-dated, reversed, unknown, failed. */
const arbObservation: fc.Arbitrary<Observation> = fc
  .record({
    source: fc.constantFrom(CRL, CRL2, OCSP),
    at: arbTime,
    vouchedAgo: fc.integer({ min: -2, max: 15 * 24 }),
    status: fc.constantFrom('good', 'revoked', 'unknown', 'error') as fc.Arbitrary<Observation['status']>,
    revokedAgo: fc.integer({ min: 0, max: 30 * 24 }),
    reason: fc.constantFrom(null, 1, 4, 5),
    error: fc.constantFrom('timeout', 'bad-signature'),
    hash: fc.constantFrom('aa', 'bb', null),
  })
  .map(({ source, at, vouchedAgo, status, revokedAgo, reason, error, hash }) => {
    const vouched = at - vouchedAgo * HOUR;
    const dated = { thisUpdate: vouched, producedAt: source.kind === 'ocsp' ? vouched : null, nextUpdate: vouched + 7 * DAY, sha256: hash };
    if (status === 'revoked') return answer(source, at, { ...dated, status, revocationTime: at - revokedAgo * HOUR, reasonCode: reason });
    if (status === 'error')
      return answer(source, at, {
        status,
        thisUpdate: null,
        nextUpdate: null,
        producedAt: null,
        error: { kind: error, message: `${error} at ${at}` },
      });
    return answer(source, at, { ...dated, status });
  });
const arbCert = fc.integer({ min: -10, max: 40 }).map((d) => cert({ notAfter: REPORTED + d * DAY }));
const arbNow = fc.integer({ min: 0, max: 45 * 24 }).map((h) => REPORTED + h * HOUR);
const arbCase = fc.constantFrom(
  kase(),
  kase({ reason: 'key-compromise' }),
  kase({ reason: 'subscriber-request' }),
  kase({ kind: 'tls-subca' }),
);

describe('evidence record', () => {
  it('folded in any pieces, in any order, it equals the rebuild from every observation', () => {
    fc.assert(
      fc.property(
        arbCert,
        fc.array(arbObservation, { maxLength: 25 }),
        fc.array(fc.nat({ max: 4 }), { minLength: 25, maxLength: 25 }),
        fc.infiniteStream(fc.nat()),
        (c, obs, cuts, seeds) => {
          const rebuilt = mergeEvidence(EMPTY_RECORD, obs, c.notAfter);
          const shuffled = obs
            .map((o) => [seeds.next().value, o] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, o]) => o);
          // Feed the shuffled observations in batches of random sizes, some twice (a retried write).
          let record = EMPTY_RECORD;
          for (let i = 0, k = 0; i < shuffled.length; k++) {
            const size = (cuts[k % cuts.length] ?? 0) + 1;
            const piece = shuffled.slice(i, i + size);
            record = mergeEvidence(record, piece, c.notAfter);
            if (k % 3 === 0) record = mergeEvidence(record, piece, c.notAfter);
            i += size;
          }
          expect(canonicalRecordJson(record)).toBe(canonicalRecordJson(rebuilt));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('loses nothing a verdict or finding needs: judging the record equals judging every observation', () => {
    fc.assert(
      fc.property(arbCase, arbCert, fc.array(arbObservation, { maxLength: 25 }), arbNow, (k, c, obs, now) => {
        const record = mergeEvidence(EMPTY_RECORD, obs, c.notAfter);
        expect(judge(k, c, recordObservations(record), now)).toEqual(judge(k, c, obs, now));
      }),
      { numRuns: 400 },
    );
  });

  it('stays small: at most one observation per selector and per claimed reason, whatever the history', () => {
    const many = Array.from({ length: 500 }, (_, i) => answer(CRL, REPORTED + i * HOUR));
    const record = mergeEvidence(EMPTY_RECORD, many, cert().notAfter);
    expect(recordObservations(record).length).toBeLessThanOrEqual(4);
  });
});

describe('evidence function', () => {
  it("a verified good answer vouched after the deadline (in the certificate's life) never yields revoked_on_time", () => {
    fc.assert(
      fc.property(
        arbCase,
        arbCert,
        fc.array(arbObservation, { maxLength: 15 }),
        arbNow,
        fc.integer({ min: 1, max: 20 * 24 }),
        (k, c, obs, now, afterH) => {
          const deadline = judge(k, c, [], now).deadline.deadline;
          fc.pre(deadline !== null && deadline + afterH * HOUR <= c.notAfter);
          const vouched = deadline! + afterH * HOUR;
          const late = answer(CRL, vouched + HOUR, { thisUpdate: vouched });
          expect(judge(k, c, [...obs, late], now).verdict).not.toBe('revoked_on_time');
        },
      ),
      { numRuns: 400 },
    );
  });

  it('adding a later verified good answer never moves the effective time earlier', () => {
    fc.assert(
      fc.property(arbCert, fc.array(arbObservation, { maxLength: 15 }), arbObservation, (c, obs, extra) => {
        fc.pre(extra.status === 'good');
        const before = evidenceOf(c, obs).effectiveRevocationTime;
        const after = evidenceOf(c, [...obs, extra]).effectiveRevocationTime;
        if (before !== null) expect(after).not.toBeNull();
        if (before !== null && after !== null) expect(after).toBeGreaterThanOrEqual(before);
      }),
      { numRuns: 400 },
    );
  });

  it('verdictOf, which run summaries count, is exactly judge().verdict', () => {
    fc.assert(
      fc.property(arbCase, arbCert, fc.array(arbObservation, { maxLength: 15 }), arbNow, (k, c, obs, now) => {
        expect(verdictOf(k, c, obs, now)).toBe(judge(k, c, obs, now).verdict);
      }),
      { numRuns: 300 },
    );
  });

  it('the verdict never depends on the order answers arrived in', () => {
    fc.assert(
      fc.property(arbCase, arbCert, fc.array(arbObservation, { maxLength: 15 }), arbNow, (k, c, obs, now) => {
        expect(judge(k, c, [...obs].reverse(), now)).toEqual(judge(k, c, obs, now));
      }),
      { numRuns: 300 },
    );
  });

  it('a stale, old-dated revoked CRL seen after a newer good one: backdated and reversed, counted from the good one', () => {
    // The story from the incident: a fresh CRL omits the serial at 23:16; three minutes later a validly
    // signed CRL dated ten days back (nextUpdate three days ago) lists it as revoked twenty days ago.
    const now = Date.parse('2025-02-10T23:19:00Z');
    const k = kase({ reportedAt: now - 6 * DAY, reason: 'misissuance' });
    const c = cert({ ocspUrls: [], crlUrls: [CRL.url] });
    const fresh = answer(CRL, now - 3 * 60_000, { thisUpdate: now - 4 * 60_000, nextUpdate: now + 7 * DAY });
    const old = answer(CRL, now, {
      status: 'revoked',
      revocationTime: now - 20 * DAY,
      reasonCode: 4,
      thisUpdate: now - 10 * DAY,
      nextUpdate: now - 3 * DAY,
    });
    for (const order of [
      [fresh, old],
      [old, fresh],
    ]) {
      const j = judge(k, c, order, now);
      expect(j.verdict).toBe('revoked_late');
      expect(j.claimedRevocationTime).toBe(now - 20 * DAY);
      expect(j.effectiveRevocationTime).toBe(fresh.thisUpdate);
      expect(j.lateBySeconds).toBe((fresh.thisUpdate! - (k.reportedAt + 5 * DAY)) / 1000);
      const codes = j.findings.map((f) => f.code);
      expect(codes).toEqual(expect.arrayContaining(['revocation_backdated', 'revocation_reversed', 'stale_response']));
      expect(j.findings.find((f) => f.code === 'revocation_backdated')!.severity).toBe('violation');
    }
  });
});

describe('reason codes across sources', () => {
  it('every claim is judged: a mismatching reason seen before a matching one is still reported', () => {
    const k = kase({ reason: 'key-compromise' });
    const c = cert();
    const wrong = answer(OCSP, REPORTED + HOUR, { status: 'revoked', revocationTime: REPORTED + 30 * 60_000, reasonCode: 4 });
    const right = answer(CRL, REPORTED + 2 * HOUR, { status: 'revoked', revocationTime: REPORTED + 30 * 60_000, reasonCode: 1 });
    const mismatches = judge(k, c, [right, wrong], REPORTED + 3 * HOUR).findings.filter((f) => f.code === 'reason_code_mismatch');
    expect(mismatches).toHaveLength(1);
    expect(mismatches[0]!.message).toContain(OCSP.url);
  });
});

describe('expired certificates', () => {
  const k = kase({ reason: 'misissuance' }); // deadline: reported + 5 days
  const deadline = REPORTED + 5 * DAY;

  it('expired before the deadline: moot, decided from the dates alone even with no answer', () => {
    const c = cert({ notAfter: deadline - HOUR });
    expect(judge(k, c, [], deadline + DAY)).toMatchObject({ verdict: 'expired', lateBySeconds: null });
  });

  it('expired after the deadline with OCSP still answering good: overdue until expiry', () => {
    const c = cert({ notAfter: deadline + 7 * HOUR });
    const ocspAfterExpiry = answer(OCSP, deadline + 3 * DAY);
    expect(judge(k, c, [ocspAfterExpiry], deadline + 3 * DAY)).toMatchObject({ verdict: 'expired_overdue', lateBySeconds: 7 * 3600 });
  });

  it('expired after the deadline with only a CRL read after expiry: undetermined, and says why', () => {
    const c = cert({ notAfter: deadline + 7 * HOUR, ocspUrls: [] });
    const j = judge(k, c, [answer(CRL, deadline + 3 * DAY)], deadline + 3 * DAY);
    expect(j.verdict).toBe('undetermined');
    expect(j.findings.find((f) => f.code === 'evidence_insufficient')?.message).toMatch(/may drop the entry \(BR 4\.10\.1\)/);
  });
});
