/**
 * Issue 30, the rest of items 10 and 11.
 *
 * Item 10, BR 4.9.5 (from BR 1.6.1): "Within 24 hours after receiving a
 * Certificate Problem Report, the CA SHALL investigate the facts and
 * circumstances related to a Certificate Problem Report and provide a
 * preliminary report on its findings to both the Subscriber and the entity who
 * filed the Certificate Problem Report." `track --preliminary-report-at none`
 * says none came: a violation once the 24 hours have passed.
 *
 * Item 11, S/MIME BR 7.2.2 (from 1.0.0): "The Repository SHALL NOT include CRL
 * entries that have a CRLreason of certificateHold (6) for Certificates that
 * include the Certificate Policy identifiers for the Strict Generation." The
 * Strict identifiers (7.1.6.1): 2.23.140.1.5.1.3, .2.3, .3.3, .4.3.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import type { Case, Observation, TrackedCertificate } from '../../../src/domain.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import { trackCertificates } from '../../../src/track/track.js';
import { runCheck } from '../../../src/check/run-check.js';
import { buildStatus } from '../../../src/status/status.js';
import { caseFromOptions } from '../../../src/cli/commands/track-case.js';
import { certificatePolicyOids } from '../../../src/pki/certificate-fields.js';
import { judge } from '../../../src/rules/verdict.js';
import { CannedCaFetcher } from '../../helpers/canned-ca.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const kase = (over: Partial<Case> = {}): Case => ({
  id: 'c1',
  title: 'test',
  reportedAt: t('2025-09-18T00:00:00Z'),
  reason: 'misissuance',
  kind: 'tls-subscriber',
  ...over,
});
const cert = (over: Partial<TrackedCertificate> = {}): TrackedCertificate => ({
  sha256: 'ef'.repeat(32),
  serial: '0e',
  subject: 'CN=someone@example.com',
  issuer: 'CN=S/MIME CA',
  notBefore: t('2023-01-01T00:00:00Z'),
  notAfter: t('2027-01-01T00:00:00Z'),
  precertificate: false,
  ocspUrls: [],
  crlUrls: ['http://crl.example/smime.crl'],
  ...over,
});

describe('item 10: `--preliminary-report-at none`', () => {
  const reportedAt = t('2025-09-18T00:00:00Z');
  const late = (now: number, over: Partial<Case> = {}) =>
    judge(kase({ noPreliminaryReport: true, ...over }), cert(), [], now).findings.filter((f) => f.code === 'preliminary_report_late');
  it('within the 24 hours nothing; past them a violation quoting BR 4.9.5 (Sectigo, bug 1994454)', () => {
    expect(late(reportedAt + DAY)).toEqual([]);
    const [f] = late(reportedAt + DAY + 1);
    expect(f).toMatchObject({ severity: 'violation', message: expect.stringContaining('no preliminary report was sent') });
    expect(f!.message).toContain('due by 2025-09-19T00:00:00Z');
    expect(f!.message).toContain('"Within 24 hours after receiving a Certificate Problem Report, the CA SHALL investigate');
    // Not given at all: still nothing, whenever.
    expect(judge(kase(), cert(), [], reportedAt + 30 * DAY).findings.filter((f) => f.code === 'preliminary_report_late')).toEqual([]);
    // Only where BR 4.9.5 applies.
    expect(late(reportedAt + 30 * DAY, { kind: 'smime-subscriber' })).toEqual([]);
  });
  it('track reads `none` (any case) as no report sent; a time stays a time; anything else is one clear error', () => {
    const now = t('2025-10-20T00:00:00Z');
    const base = { reportedAt: '2025-09-18T00:00:00Z', reason: 'misissuance', crtshUrl: 'https://crt.sh' };
    const none = caseFromOptions({ ...base, preliminaryReportAt: 'None' }, now);
    expect(none.noPreliminaryReport).toBe(true);
    expect(none.preliminaryReportAt).toBeUndefined();
    const given = caseFromOptions({ ...base, preliminaryReportAt: '2025-09-18T12:00:00Z' }, now);
    expect(given).toMatchObject({ preliminaryReportAt: t('2025-09-18T12:00:00Z') });
    expect(given.noPreliminaryReport).toBeUndefined();
    expect(() => caseFromOptions({ ...base, preliminaryReportAt: 'never' }, now)).toThrow(/--preliminary-report-at/);
  });
});

describe('item 11: certificateHold on an S/MIME subscriber certificate of the Strict generation', () => {
  const STRICT = ['2.23.140.1.5.1.3', '2.23.140.1.5.2.3', '2.23.140.1.5.3.3', '2.23.140.1.5.4.3'];
  const held = (revocationTime: number, policyOids?: string[]) => {
    const o: Observation = {
      observedAt: revocationTime + HOUR,
      source: { kind: 'crl', url: 'http://crl.example/smime.crl' },
      status: 'revoked',
      revocationTime,
      reasonCode: 6,
      thisUpdate: revocationTime + HOUR,
      nextUpdate: revocationTime + DAY,
      producedAt: null,
    };
    const k = kase({ kind: 'smime-subscriber', reason: 'misuse', reportedAt: revocationTime - HOUR });
    return judge(k, cert(policyOids ? { policyOids } : {}), [o], revocationTime + DAY).findings.filter(
      (f) => f.code === 'reason_code_invalid',
    );
  };
  it.each(STRICT)('%s: a violation from 2023-09-01 (S/MIME BR 1.0.0), quoting 7.2.2', (oid) => {
    const [f] = held(t('2023-09-01T00:00:00Z'), ['2.23.140.1.5.1.2', oid]);
    expect(f!.severity).toBe('violation');
    expect(f!.message).toContain(
      '"The Repository SHALL NOT include CRL entries that have a CRLreason of certificateHold (6) for Certificates that include the Certificate Policy identifiers for the Strict Generation"',
    );
    expect(f!.message).toContain('not counted as revoked');
  });
  it('Legacy and Multipurpose ("The Repository MAY include"), an unknown generation, and a Strict hold before 2023-09-01: a warning', () => {
    const at = t('2025-01-01T00:00:00Z');
    expect(held(at, ['2.23.140.1.5.4.1']).map((f) => f.severity)).toEqual(['warning']);
    expect(held(at, ['2.23.140.1.5.4.2']).map((f) => f.severity)).toEqual(['warning']);
    expect(held(at).map((f) => f.severity)).toEqual(['warning']);
    expect(held(t('2023-08-31T23:59:59.999Z'), ['2.23.140.1.5.1.3']).map((f) => f.severity)).toEqual(['warning']);
  });

  describe('end to end: a Strict mailbox-validated certificate tracked, held on the CRL, check and status', () => {
    let status: Awaited<ReturnType<typeof buildStatus>>;
    let stored: TrackedCertificate;
    let policies: string[];
    beforeAll(async () => {
      const T = t('2025-03-01T00:00:00Z');
      const clock = new FakeClock(T);
      const store = memoryStore();
      const ca = await LocalCa.create({ name: 'S/MIME CA', notBefore: T - 400 * DAY, notAfter: T + 800 * DAY });
      const fetcher = new CannedCaFetcher(ca, () => clock.now().getTime());
      const leaf = await ca.issue({
        subject: 'CN=someone@example.com',
        notBefore: T - 10 * DAY,
        notAfter: T + 300 * DAY,
        crlUrls: [fetcher.crlUrl],
        extendedKeyUsages: ['1.3.6.1.5.5.7.3.4'],
        policies: ['2.23.140.1.5.1.3'],
      });
      policies = certificatePolicyOids(leaf.info.raw);
      fetcher.issued(leaf.info.serial);
      const k = kase({ id: 'strict', kind: 'smime-subscriber', reason: 'misuse', reportedAt: T });
      await trackCertificates({ store, clock }, k, [{ certificate: leaf.info, bundle: [], source: 'test' }], [ca.info]);
      fetcher.revoke(leaf.info.serial, T + HOUR, 6);
      clock.set(T + 2 * HOUR);
      await runCheck({ store, fetcher, clock });
      status = await buildStatus(store, T + 2 * HOUR);
      stored = (await store.loadCase('strict'))[0]!.cert;
    });
    it('reads the policy from the certificate and keeps it', () => {
      expect(policies).toEqual(['2.23.140.1.5.1.3']);
      expect(stored.policyOids).toEqual(['2.23.140.1.5.1.3']);
    });
    it('the hold is a violation and the certificate is not revoked', () => {
      const [c] = status.cases[0]!.certificates;
      expect(c!.findings.filter((f) => f.code === 'reason_code_invalid').map((f) => f.severity)).toEqual(['violation']);
      expect(c!.verdict).toBe('pending');
      expect(c!.revocationTime).toBeNull();
    });
  });
});
