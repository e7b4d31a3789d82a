import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Case, Observation, TrackedCertificate } from '../../../src/domain.js';
import { certificateStatus, judge, type Judgement, type Verdict } from '../../../src/rules/verdict.js';
import { computeDeadline } from '../../../src/rules/rules.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const REPORTED = t('2024-07-30T19:30:00Z');
const kase = (over: Partial<Case> = {}): Case => ({
  id: 'c1',
  title: 'test',
  reportedAt: REPORTED,
  reason: 'key-compromise',
  kind: 'tls-subscriber',
  ...over,
});
const cert = (over: Partial<TrackedCertificate> = {}): TrackedCertificate => ({
  sha256: 'ab'.repeat(32),
  serial: '0a1b',
  subject: 'CN=leaf.example',
  issuer: 'CN=Test CA',
  notBefore: REPORTED - 30 * DAY,
  notAfter: REPORTED + 60 * DAY,
  precertificate: false,
  ocspUrls: ['http://ocsp.example'],
  crlUrls: ['http://crl.example/1.crl'],
  ...over,
});
const CRL = { kind: 'crl' as const, url: 'http://crl.example/1.crl' };
const OCSP = { kind: 'ocsp' as const, url: 'http://ocsp.example' };
const good = (source: Observation['source'], at: number, over: Partial<Observation> = {}): Observation => ({
  observedAt: at,
  source,
  status: 'good',
  revocationTime: null,
  reasonCode: null,
  thisUpdate: at - HOUR,
  nextUpdate: at + DAY,
  producedAt: source.kind === 'ocsp' ? at - HOUR : null,
  ...over,
});
const revoked = (
  source: Observation['source'],
  at: number,
  revocationTime: number,
  reasonCode: number | null = 1,
  over: Partial<Observation> = {},
): Observation => good(source, at, { status: 'revoked', revocationTime, reasonCode, ...over });

const codes = (j: Judgement) => j.findings.map((f) => f.code);

describe('verdicts', () => {
  const deadline = REPORTED + DAY;

  it.each<[string, Observation[], number, Verdict, number | null]>([
    ['pending: good, deadline ahead', [good(CRL, REPORTED + HOUR)], REPORTED + 2 * HOUR, 'pending', null],
    ['overdue: good, deadline passed', [good(CRL, REPORTED + 30 * HOUR)], deadline + 5 * HOUR, 'overdue', 5 * 3600],
    ['revoked on time', [revoked(CRL, REPORTED + 20 * HOUR, REPORTED + 10 * HOUR)], deadline + DAY, 'revoked_on_time', null],
    ['revoked exactly at the deadline is on time', [revoked(CRL, deadline + HOUR, deadline)], deadline + DAY, 'revoked_on_time', null],
    ['revoked one second late', [revoked(CRL, deadline + HOUR, deadline + 1000)], deadline + DAY, 'revoked_late', 1],
    [
      'revoked before the report counts as on time',
      [revoked(CRL, REPORTED + HOUR, REPORTED - 10 * DAY)],
      REPORTED + 2 * HOUR,
      'revoked_on_time',
      null,
    ],
    ['revoked late by three days', [revoked(OCSP, deadline + 4 * DAY, deadline + 3 * DAY)], deadline + 5 * DAY, 'revoked_late', 3 * 86400],
    [
      'undetermined: only errors',
      [{ ...good(OCSP, REPORTED + HOUR), status: 'error', error: { kind: 'timeout', message: 'timed out' } }],
      REPORTED + 2 * HOUR,
      'undetermined',
      null,
    ],
  ])('%s', (_name, observations, now, verdict, late) => {
    const j = judge(kase(), cert(), observations, now);
    expect(j.verdict).toBe(verdict);
    expect(j.lateBySeconds).toBe(late);
  });

  it('expired before the deadline, unrevoked: moot', () => {
    const c = cert({ notAfter: REPORTED + 10 * HOUR });
    expect(judge(kase(), c, [good(CRL, REPORTED + HOUR)], REPORTED + 3 * DAY)).toMatchObject({ verdict: 'expired', lateBySeconds: null });
  });

  it('expired after the deadline, unrevoked: late until expiry', () => {
    const c = cert({ notAfter: deadline + 7 * HOUR });
    expect(judge(kase(), c, [good(CRL, REPORTED + HOUR)], deadline + 3 * DAY)).toMatchObject({
      verdict: 'expired_overdue',
      lateBySeconds: 7 * 3600,
    });
  });

  it('a revocation published only after expiry does not count', () => {
    const c = cert({ notAfter: deadline + 7 * HOUR });
    const j = judge(kase(), c, [revoked(CRL, deadline + 2 * DAY, deadline + DAY)], deadline + 3 * DAY);
    expect(j).toMatchObject({ verdict: 'expired_overdue', lateBySeconds: 7 * 3600 });
  });

  it('no deadline: S/MIME reported before the S/MIME BR', () => {
    const k = kase({ kind: 'smime-subscriber', reportedAt: t('2023-06-01T00:00:00Z') });
    expect(judge(k, cert(), [good(CRL, t('2023-06-02T00:00:00Z'))], t('2023-07-01T00:00:00Z')).verdict).toBe('no_deadline');
  });

  describe('the evidence bound (backdating)', () => {
    it('moves the effective time to a signed "good" produced after the claimed time: a violation when not keyCompromise', () => {
      const k = kase({ reason: 'misissuance' });
      const claimed = REPORTED + 2 * HOUR;
      const goodAt = REPORTED + 8 * DAY; // OCSP still said good long after the claimed time
      const obs = [
        good(OCSP, goodAt + HOUR, { producedAt: goodAt }),
        revoked(OCSP, goodAt + 3 * HOUR, claimed, 4, { producedAt: goodAt + 2 * HOUR }),
      ];
      const j = judge(k, cert(), obs, goodAt + DAY);
      expect(j.claimedRevocationTime).toBe(claimed);
      expect(j.effectiveRevocationTime).toBe(goodAt);
      expect(j.verdict).toBe('revoked_late');
      expect(j.lateBySeconds).toBe((goodAt - (REPORTED + 5 * DAY)) / 1000);
      expect(j.findings.find((f) => f.code === 'revocation_backdated')?.severity).toBe('violation');
    });

    it('is only a warning for keyCompromise (BR 7.2.2 allows backdating)', () => {
      const claimed = REPORTED - 5 * DAY;
      const obs = [
        good(CRL, REPORTED + HOUR, { thisUpdate: REPORTED }),
        revoked(CRL, REPORTED + 5 * HOUR, claimed, 1, { thisUpdate: REPORTED + 4 * HOUR }),
      ];
      const j = judge(kase(), cert(), obs, REPORTED + DAY);
      expect(j.effectiveRevocationTime).toBe(REPORTED);
      expect(j.verdict).toBe('revoked_on_time');
      expect(j.findings.find((f) => f.code === 'revocation_backdated')?.severity).toBe('warning');
    });

    it('ignores "good" answers vouched for before the claimed time', () => {
      const obs = [
        good(CRL, REPORTED - 2 * DAY, { thisUpdate: REPORTED - 2 * DAY }),
        revoked(CRL, REPORTED + 2 * HOUR, REPORTED + HOUR, 1, { thisUpdate: REPORTED + HOUR }),
      ];
      const j = judge(kase(), cert(), obs, REPORTED + 3 * HOUR);
      expect(j.effectiveRevocationTime).toBe(REPORTED + HOUR);
      expect(codes(j)).not.toContain('revocation_backdated');
    });
  });

  describe('findings', () => {
    it('OCSP unknown for an issued certificate or precertificate (BR 4.9.10)', () => {
      const j = judge(
        kase(),
        cert({ precertificate: true }),
        [good(OCSP, REPORTED + HOUR, { status: 'unknown' }), good(CRL, REPORTED + HOUR)],
        REPORTED + 2 * HOUR,
      );
      const f = j.findings.find((x) => x.code === 'ocsp_unknown_for_issued');
      expect(f?.severity).toBe('violation');
      expect(f?.message).toContain('precertificate');
    });

    it('OCSP and CRL disagree', () => {
      const j = judge(
        kase(),
        cert(),
        [good(OCSP, REPORTED + 5 * HOUR), revoked(CRL, REPORTED + 5 * HOUR, REPORTED + 2 * HOUR)],
        REPORTED + 6 * HOUR,
      );
      expect(codes(j)).toContain('ocsp_crl_disagree');
    });

    it('reason code mismatch, judged from 2022-10-01 (MRSP 2.8) by revocation date', () => {
      const k = kase({ reason: 'key-compromise' });
      expect(codes(judge(k, cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, 4)], REPORTED + 2 * HOUR))).toContain('reason_code_mismatch');
      expect(codes(judge(k, cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, 1)], REPORTED + 2 * HOUR))).not.toContain(
        'reason_code_mismatch',
      );
      const before = kase({ reportedAt: t('2022-09-30T00:00:00Z') });
      const c = cert({ notBefore: t('2022-09-01T00:00:00Z'), notAfter: t('2022-12-01T00:00:00Z') });
      expect(
        codes(judge(before, c, [revoked(CRL, t('2022-09-30T05:00:00Z'), t('2022-09-30T04:00:00Z'), 4)], t('2022-10-02T00:00:00Z'))),
      ).not.toContain('reason_code_mismatch');
      // Subscriber request calls for no reasonCode at all.
      const req = kase({ reason: 'subscriber-request' });
      expect(codes(judge(req, cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, null)], REPORTED + 2 * HOUR))).toEqual([]);
    });

    it("certificateHold is a violation (BR 4.9.13); a code outside BR 7.2.2's set is a warning; codes RFC 5280 does not define are violations", () => {
      const hold = judge(kase(), cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, 6)], REPORTED + 2 * HOUR);
      expect(hold.findings.find((f) => f.code === 'reason_code_invalid')?.severity).toBe('violation');
      const caCompromise = judge(kase(), cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, 2)], REPORTED + 2 * HOUR);
      expect(caCompromise.findings.find((f) => f.code === 'reason_code_invalid')?.severity).toBe('warning');
      const seven = judge(kase(), cert(), [revoked(CRL, REPORTED + HOUR, REPORTED, 7)], REPORTED + 2 * HOUR);
      expect(seven.findings.find((f) => f.code === 'reason_code_invalid')?.severity).toBe('violation');
    });

    it('stale responses, bad signatures, no revocation source', () => {
      const stale = judge(kase(), cert(), [good(CRL, REPORTED + 2 * DAY, { nextUpdate: REPORTED + DAY })], REPORTED + 2 * DAY);
      expect(codes(stale)).toContain('stale_response');
      const bad = judge(
        kase(),
        cert(),
        [
          {
            ...good(OCSP, REPORTED + HOUR),
            status: 'error',
            error: { kind: 'bad-signature', message: 'the response signature does not verify' },
          },
        ],
        REPORTED + 2 * HOUR,
      );
      expect(codes(bad)).toContain('bad_signature');
      expect(codes(judge(kase(), cert({ ocspUrls: [], crlUrls: [] }), [], REPORTED))).toContain('no_revocation_source');
    });

    it('an older cached "good" served after a revoked answer is not a reversal: the dates decide, not the arrival', () => {
      const revokedAnswer = revoked(OCSP, REPORTED + 5 * HOUR, REPORTED + 4 * HOUR); // produced at +4 h
      const cachedGood = good(OCSP, REPORTED + 6 * HOUR, { producedAt: REPORTED + 2 * HOUR, thisUpdate: REPORTED + 2 * HOUR });
      const j = judge(kase(), cert(), [revokedAnswer, cachedGood], REPORTED + 7 * HOUR);
      expect(codes(j)).not.toContain('revocation_reversed');
      expect(j.verdict).toBe('revoked_on_time');
    });

    it('revocation reversed: revoked, then dropped from the CRL before expiry', () => {
      const j = judge(
        kase(),
        cert(),
        [revoked(CRL, REPORTED + 5 * HOUR, REPORTED + 4 * HOUR), good(CRL, REPORTED + 3 * DAY)],
        REPORTED + 3 * DAY,
      );
      expect(j.findings.find((f) => f.code === 'revocation_reversed')?.severity).toBe('violation');
      // The CRL vouched "not revoked" at REPORTED + 3 days - 1 hour, after the deadline: whatever came first,
      // the revocation did not stand by the deadline (docs/evidence.md, "Effective revocation time"), so it cannot be on time.
      expect(j.verdict).toBe('revoked_late');
      expect(j.effectiveRevocationTime).toBe(REPORTED + 3 * DAY - HOUR);
    });

    it('SHOULD deadline of a 5-day reason', () => {
      const k = kase({ reason: 'misissuance' });
      expect(codes(judge(k, cert(), [revoked(CRL, REPORTED + 3 * DAY, REPORTED + 2 * DAY, 4)], REPORTED + 4 * DAY))).toContain(
        'should_deadline_missed',
      );
      expect(codes(judge(k, cert(), [revoked(CRL, REPORTED + 13 * HOUR, REPORTED + 12 * HOUR, 4)], REPORTED + 4 * DAY))).not.toContain(
        'should_deadline_missed',
      );
      expect(codes(judge(k, cert(), [good(CRL, REPORTED + 30 * HOUR)], REPORTED + 30 * HOUR))).toContain('should_deadline_missed');
    });

    it('confirmation later than the report is noted; the clock still starts at the report', () => {
      const j = judge(kase({ confirmedAt: REPORTED + 3 * HOUR }), cert(), [good(CRL, REPORTED + HOUR)], REPORTED + 2 * HOUR);
      expect(j.findings.find((f) => f.code === 'confirmed_after_report')?.severity).toBe('info');
      expect(j.deadline.deadline).toBe(REPORTED + DAY);
    });
  });

  it('produces the status --json certificate entry', () => {
    const s = certificateStatus(
      kase(),
      cert(),
      [good(OCSP, REPORTED + HOUR), revoked(CRL, REPORTED + 2 * DAY, REPORTED + 30 * HOUR, 1)],
      REPORTED + 3 * DAY,
    );
    expect(Object.keys(s).sort()).toEqual(
      [
        'sha256',
        'serial',
        'subject',
        'issuer',
        'notBefore',
        'notAfter',
        'deadline',
        'shouldDeadline',
        'verdict',
        'revocationTime',
        'effectiveRevocationTime',
        'reasonCode',
        'firstSeenRevokedAt',
        'lastSeenGoodAt',
        'lateBySeconds',
        'sources',
        'findings',
      ].sort(),
    );
    expect(s).toMatchObject({
      deadline: '2024-07-31T19:30:00Z',
      shouldDeadline: null,
      verdict: 'revoked_late',
      revocationTime: '2024-08-01T01:30:00Z',
      effectiveRevocationTime: '2024-08-01T01:30:00Z',
      reasonCode: 'keyCompromise',
      firstSeenRevokedAt: '2024-08-01T19:30:00Z',
      lastSeenGoodAt: '2024-07-30T20:30:00Z',
      lateBySeconds: 6 * 3600,
    });
    expect(s.sources.map((x) => [x.kind, x.status])).toEqual([
      ['crl', 'revoked'],
      ['ocsp', 'good'],
    ]);
  });
});

describe('verdict properties', () => {
  const base = REPORTED;
  const arbSource = fc.constantFrom(CRL, OCSP, { kind: 'ocsp' as const, url: 'http://ocsp2.example' });
  const arbTime = fc.integer({ min: -3 * 24, max: 15 * 24 }).map((h) => base + h * HOUR);
  const arbObservation: fc.Arbitrary<Observation> = fc
    .record({
      source: arbSource,
      at: arbTime,
      status: fc.constantFrom('good', 'revoked', 'unknown', 'error') as fc.Arbitrary<Observation['status']>,
      revokedAgo: fc.integer({ min: 0, max: 10 * 24 }),
      reason: fc.constantFrom(null, 1, 4, 5, 6, 9),
    })
    .map(({ source, at, status, revokedAgo, reason }) =>
      status === 'revoked'
        ? revoked(source, at, at - revokedAgo * HOUR, reason)
        : status === 'error'
          ? { ...good(source, at), status: 'error', error: { kind: 'timeout', message: 'timed out' } }
          : good(source, at, { status }),
    );
  const arbNow = fc.integer({ min: 0, max: 20 * 24 }).map((h) => base + h * HOUR);
  const arbCase = fc.constantFrom<Case>(kase(), kase({ reason: 'misissuance' }), kase({ kind: 'tls-subca' }));
  const arbCert = fc.integer({ min: 1, max: 40 }).map((d) => cert({ notAfter: base + d * DAY }));

  it('shuffled or duplicated observations give the same result', () => {
    fc.assert(
      fc.property(
        arbCase,
        arbCert,
        fc.array(arbObservation, { maxLength: 12 }),
        arbNow,
        fc.infiniteStream(fc.nat()),
        (k, c, obs, now, seeds) => {
          const expected = judge(k, c, obs, now);
          const dup = [...obs, ...obs.filter((_, i) => i % 2 === 0)];
          const shuffled = dup
            .map((o) => [seeds.next().value, o] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, o]) => o);
          expect(judge(k, c, shuffled, now)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  const badness = (j: Judgement): number =>
    j.verdict === 'revoked_late' || j.verdict === 'overdue' || j.verdict === 'expired_overdue' ? 1 : 0;

  it('a later effective revocation never gives a better verdict', () => {
    fc.assert(
      fc.property(arbCase, arbCert, fc.integer({ min: -48, max: 300 }), fc.integer({ min: 0, max: 300 }), (k, c, h1, extra) => {
        const r1 = base + h1 * HOUR;
        const r2 = r1 + extra * HOUR;
        const now = base + 400 * HOUR;
        const a = judge(k, c, [revoked(CRL, now - HOUR, r1)], now);
        const b = judge(k, c, [revoked(CRL, now - HOUR, r2)], now);
        expect(badness(b)).toBeGreaterThanOrEqual(badness(a));
        expect(b.lateBySeconds ?? 0).toBeGreaterThanOrEqual(a.lateBySeconds ?? 0);
      }),
      { numRuns: 300 },
    );
  });

  it('a longer deadline never gives a worse verdict, and lateBySeconds is never negative', () => {
    fc.assert(
      fc.property(
        arbCase,
        arbCert,
        fc.array(arbObservation, { maxLength: 8 }),
        arbNow,
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        (k, c, obs, now, h1, extra) => {
          const rule = computeDeadline(k).rule;
          const short = judge(k, c, obs, now, { rule, deadline: base + h1 * HOUR, shouldDeadline: null });
          const long = judge(k, c, obs, now, { rule, deadline: base + (h1 + extra) * HOUR, shouldDeadline: null });
          expect(badness(long)).toBeLessThanOrEqual(badness(short));
          expect(long.lateBySeconds ?? 0).toBeLessThanOrEqual(short.lateBySeconds ?? 0);
          for (const j of [short, long, judge(k, c, obs, now)]) expect(j.lateBySeconds === null || j.lateBySeconds >= 0).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
