import { describe, expect, it } from 'vitest';
import { CERT_KINDS, type CertKind, type ReasonSlug } from '../../../src/domain.js';
import { RULES, computeDeadline, isShortLived, reasonsFor, ruleInForce } from '../../../src/rules/rules.js';
import { deadlineReport } from '../../../src/rules/deadline-report.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the rule table', () => {
  // Every boundary in the table, one millisecond either side, and far past and future.
  const instants = [
    t('2000-01-01T00:00:00Z'),
    t('2099-01-01T00:00:00Z'),
    ...RULES.flatMap((r) => [r.effectiveFrom, r.effectiveUntil])
      .filter((x): x is string => x !== null)
      .flatMap((x) => [t(x) - 1, t(x), t(x) + 1]),
  ];

  it.each(CERT_KINDS)('gives exactly one rule for every %s reason at every boundary', (kind) => {
    for (const reason of reasonsFor(kind)) {
      for (const at of instants)
        expect(() => ruleInForce(kind, reason, at), `${kind}/${reason}@${new Date(at).toISOString()}`).not.toThrow();
    }
  });

  it('cites a section, version and source for every rule', () => {
    for (const r of RULES) {
      expect(r.section).toMatch(/\d/);
      expect(r.version.length).toBeGreaterThan(0);
      expect(r.source).toMatch(/@[0-9a-f]{7,}/);
    }
  });

  it.each<[string, CertKind, ReasonSlug, string, string | null, string | null, string]>([
    // Before SC6 every TLS reason was 24 hours.
    ['misissuance before SC6', 'tls-subscriber', 'misissuance', '2018-10-13T23:59:59Z', '2018-10-14T23:59:59Z', null, 'tls-pre-sc6'],
    [
      'misissuance from SC6',
      'tls-subscriber',
      'misissuance',
      '2018-10-14T00:00:00Z',
      '2018-10-19T00:00:00Z',
      '2018-10-15T00:00:00Z',
      'tls-sc6-5d',
    ],
    ['key compromise', 'tls-subscriber', 'key-compromise', '2019-05-01T12:00:00Z', '2019-05-02T12:00:00Z', null, 'tls-sc6-24h'],
    [
      'weak key before SC35',
      'tls-subscriber',
      'weak-key',
      '2020-10-18T23:59:59Z',
      '2020-10-23T23:59:59Z',
      '2020-10-19T23:59:59Z',
      'tls-sc6-weak-key-5d',
    ],
    ['weak key from SC35', 'tls-subscriber', 'weak-key', '2020-10-19T00:00:00Z', '2020-10-20T00:00:00Z', null, 'tls-sc35-weak-key'],
    [
      'CAA before SC095',
      'tls-subscriber',
      'caa-failure',
      '2026-03-30T23:59:59Z',
      '2026-04-04T23:59:59Z',
      '2026-03-31T23:59:59Z',
      'tls-caa-as-misissuance',
    ],
    ['CAA from SC095', 'tls-subscriber', 'caa-failure', '2026-03-31T00:00:00Z', '2026-04-01T00:00:00Z', null, 'tls-sc095-caa'],
    ['sub-CA, any reason', 'tls-subca', 'misuse', '2016-01-01T00:00:00Z', '2016-01-08T00:00:00Z', null, 'tls-subca'],
    ['S/MIME before the S/MIME BR', 'smime-subscriber', 'key-compromise', '2023-08-31T23:59:59Z', null, null, 'smime-no-timeline'],
    ['S/MIME 24 h', 'smime-subscriber', 'key-compromise', '2023-09-01T00:00:00Z', '2023-09-02T00:00:00Z', null, 'smime-sbr-24h'],
    [
      'S/MIME 5 days',
      'smime-subscriber',
      'misissuance',
      '2023-09-01T00:00:00Z',
      '2023-09-06T00:00:00Z',
      '2023-09-02T00:00:00Z',
      'smime-sbr-5d',
    ],
    ['S/MIME sub-CA before', 'smime-subca', 'misuse', '2023-08-31T00:00:00Z', null, null, 'smime-subca-no-timeline'],
    ['S/MIME sub-CA', 'smime-subca', 'misuse', '2023-09-01T00:00:00Z', '2023-09-08T00:00:00Z', null, 'smime-subca'],
    ['code signing before CSC-18 sole law', 'codesigning-subscriber', 'suspect-code', '2024-04-14T23:59:59Z', null, null, 'cs-pre-csc18'],
    [
      'code signing, Suspect Code',
      'codesigning-subscriber',
      'suspect-code',
      '2024-04-15T00:00:00Z',
      '2024-04-16T00:00:00Z',
      null,
      'cs-csc18-24h',
    ],
    [
      'code signing, misuse',
      'codesigning-subscriber',
      'misuse',
      '2024-04-15T00:00:00Z',
      '2024-04-20T00:00:00Z',
      '2024-04-16T00:00:00Z',
      'cs-csc18-5d',
    ],
    // Real incidents (rules.md)
    [
      "Let's Encrypt CAA 2020 (5 days)",
      'tls-subscriber',
      'caa-failure',
      '2020-02-29T03:08:00Z',
      '2020-03-05T03:08:00Z',
      '2020-03-01T03:08:00Z',
      'tls-caa-as-misissuance',
    ],
    [
      'DigiCert DCV 2024 (24 h)',
      'tls-subscriber',
      'domain-validation',
      '2024-07-30T19:30:00Z',
      '2024-07-31T19:30:00Z',
      null,
      'tls-sc6-24h',
    ],
    [
      'VikingCloud 2024 (5 days)',
      'tls-subscriber',
      'misissuance',
      '2024-03-11T14:53:00Z',
      '2024-03-16T14:53:00Z',
      '2024-03-12T14:53:00Z',
      'tls-sc6-5d',
    ],
  ])('%s', (_name, kind, reason, reportedAt, deadline, should, ruleId) => {
    const r = deadlineReport(kind, reason, t(reportedAt));
    expect(r.rule.id).toBe(ruleId);
    expect(r.deadline).toBe(deadline);
    expect(r.shouldDeadline).toBe(should);
    expect(r.hours).toBe(deadline === null ? null : (t(deadline) - t(reportedAt)) / HOUR);
  });

  it('refuses a reason that does not apply to the kind', () => {
    expect(() => deadlineReport('smime-subscriber', 'caa-failure', t('2024-01-01T00:00:00Z'))).toThrow(/accepted: /);
    expect(() => deadlineReport('tls-subscriber', 'suspect-code', t('2024-01-01T00:00:00Z'))).toThrow(/does not apply|accepted/);
  });
});

describe('short-lived certificates (BR 2.0.1, SC063)', () => {
  const issued = t('2025-06-01T00:00:00Z');
  it.each([
    ['10 days exactly (inclusive validity) is short-lived', issued, issued + 10 * DAY - 1000, true],
    ['10 days and 1 second is not', issued, issued + 10 * DAY, false],
    ['8 days issued before 2026-03-15 is', t('2026-03-01T00:00:00Z'), t('2026-03-09T00:00:00Z'), true],
    ['8 days issued from 2026-03-15 is not (7-day limit)', t('2026-04-01T00:00:00Z'), t('2026-04-09T00:00:00Z'), false],
  ])('%s', (_n, notBefore, notAfter, expected) => {
    expect(isShortLived(notBefore, notAfter)).toBe(expected);
  });

  it('has no deadline when reported from 2024-03-15, and the usual one before', () => {
    const cert = { notBefore: issued, notAfter: issued + 6 * DAY };
    expect(
      computeDeadline({ kind: 'tls-subscriber', reason: 'key-compromise', reportedAt: t('2025-06-02T00:00:00Z') }, cert),
    ).toMatchObject({ deadline: null, rule: { id: 'tls-short-lived-exempt' } });
    const early = { notBefore: t('2024-03-10T00:00:00Z'), notAfter: t('2024-03-16T00:00:00Z') };
    expect(
      computeDeadline({ kind: 'tls-subscriber', reason: 'key-compromise', reportedAt: t('2024-03-14T00:00:00Z') }, early).deadline,
    ).toBe(t('2024-03-15T00:00:00Z'));
    expect(computeDeadline({ kind: 'tls-subca', reason: 'key-compromise', reportedAt: t('2025-06-02T00:00:00Z') }, cert).rule.id).toBe(
      'tls-subca',
    );
  });
});
