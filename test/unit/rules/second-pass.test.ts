/**
 * Rule fidelity, second pass (issue 12): every new rule at its boundary (one
 * millisecond either side), the findings that must not accuse a CA wrongly,
 * and the incidents the rules were checked against, with their exact UTC times.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Case, CertKind, Observation, ReasonSlug, TrackedCertificate } from '../../../src/domain.js';
import { certificateStatus, judge, type Judgement } from '../../../src/rules/verdict.js';
import { computeDeadline, isShortLived, ruleInForce } from '../../../src/rules/rules.js';
import { deadlineReport } from '../../../src/rules/deadline-report.js';
import { parseNotifiedBy, PROGRAM_RULES } from '../../../src/rules/programs.js';
import { RULE_VERSIONS, SERVERCERT_PR_622, ruleVersionAt, type RuleVersion } from '../../../src/rules/rule-versions.js';
import { delayedReportDuties, delayedReportSentence } from '../../../src/rules/incident-duties.js';
import { dueNotices } from '../../../src/notify/notices.js';
import { formatStatus, type CaseStatus } from '../../../src/status/status.js';

const t = (iso: string): number => Date.parse(iso);
const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const kase = (over: Partial<Case> = {}): Case => ({
  id: 'c1',
  title: 'test',
  reportedAt: t('2024-07-30T19:30:00Z'),
  reason: 'key-compromise',
  kind: 'tls-subscriber',
  ...over,
});
const cert = (over: Partial<TrackedCertificate> = {}): TrackedCertificate => ({
  sha256: 'ab'.repeat(32),
  serial: '0a1b',
  subject: 'CN=leaf.example',
  issuer: 'CN=Test CA',
  notBefore: t('2024-01-01T00:00:00Z'),
  notAfter: t('2027-01-01T00:00:00Z'),
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
  reasonCode: number | null,
  over: Partial<Observation> = {},
): Observation => good(source, at, { status: 'revoked', revocationTime, reasonCode, ...over });

const finding = (j: Judgement, code: string) => j.findings.filter((f) => f.code === code);
const violations = (j: Judgement) => j.findings.filter((f) => f.severity === 'violation').map((f) => f.code);
/** A case revoked on time via the CRL at `at` with `code`, judged a day later. */
const revokedWith = (k: Case, code: number | null, at = k.reportedAt + HOUR, c = cert()): Judgement =>
  judge(k, c, [revoked(CRL, at + HOUR, at, code)], at + DAY);

describe('1. subscriber requests may name a reason (BR 4.9.1.1 #1, 7.2.2)', () => {
  const req = kase({ reason: 'subscriber-request' });
  it.each([null, 1, 3, 4, 5])('reasonCode %s: no finding', (code) => {
    expect(revokedWith(req, code).findings).toEqual([]);
  });
  it('privilegeWithdrawn is not a subscriber choice: a violation', () => {
    expect(finding(revokedWith(req, 9), 'reason_code_mismatch').map((f) => f.severity)).toEqual(['violation']);
  });
});

describe('2. a later keyCompromise is at most info (BR 7.2.2)', () => {
  it.each<[CertKind, ReasonSlug]>([
    ['tls-subscriber', 'misissuance'],
    ['tls-subscriber', 'domain-validation'],
    ['tls-subscriber', 'misuse'],
    ['tls-subscriber', 'cps-required'],
    ['tls-subca', 'misuse'],
    ['smime-subca', 'misuse'],
    ['codesigning-subca', 'misuse'],
    ['codesigning-subscriber', 'misuse'],
  ])('%s / %s revoked with keyCompromise gives no violation or warning', (kind, reason) => {
    const j = revokedWith(kase({ kind, reason, reportedAt: t('2026-06-01T00:00:00Z') }), 1);
    expect(j.findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });
  it('the info finding says why', () => {
    const [f] = finding(revokedWith(kase({ reason: 'misissuance' }), 1), 'reason_code_mismatch');
    expect(f).toMatchObject({ severity: 'info', message: expect.stringMatching(/BR 7\.2\.2/) });
  });
});

describe('3. code signing backdates on purpose (CSBR 4.9.1)', () => {
  // Reported 2024-06-01 (CSC-18 in force): 24 hours for key compromise and Suspect Code.
  const reportedAt = t('2024-06-01T00:00:00Z');
  const backdated = (k: Case, code: number | null): Judgement => {
    const goodAt = reportedAt + 30 * HOUR; // a signed good after the deadline
    return judge(
      k,
      cert(),
      [
        good(OCSP, goodAt + HOUR, { producedAt: goodAt }),
        revoked(OCSP, goodAt + 3 * HOUR, reportedAt - 10 * DAY, code, { producedAt: goodAt + 2 * HOUR }),
      ],
      goodAt + DAY,
    );
  };
  it.each<[ReasonSlug, number | null]>([
    ['key-compromise', 1],
    ['suspect-code', null],
    ['misuse', 1],
  ])('%s with reasonCode %s: revocation_backdated is info, and lateness still counts from the evidence bound', (reason, code) => {
    const j = backdated(kase({ kind: 'codesigning-subscriber', reason, reportedAt }), code);
    expect(finding(j, 'revocation_backdated').map((f) => f.severity)).toEqual(['info']);
    expect(j.effectiveRevocationTime).toBe(reportedAt + 30 * HOUR);
    if (reason !== 'misuse') expect(j).toMatchObject({ verdict: 'revoked_late', lateBySeconds: 6 * 3600 });
  });
  it('code signing for any reason is info (third pass, CSBR 4.9.6); TLS keyCompromise stays a warning', () => {
    expect(
      finding(backdated(kase({ kind: 'codesigning-subscriber', reason: 'misuse', reportedAt }), 9), 'revocation_backdated')[0]?.severity,
    ).toBe('info');
    expect(finding(backdated(kase({ reason: 'key-compromise', reportedAt }), 1), 'revocation_backdated')[0]?.severity).toBe('warning');
    expect(finding(backdated(kase({ reason: 'misissuance', reportedAt }), 4), 'revocation_backdated')[0]?.severity).toBe('violation');
  });
});

describe('4. CAA failures before SC095: 5 days, contested', () => {
  it.each([
    ['2018-10-13T23:59:59.999Z', 'tls-pre-sc6', null],
    ['2018-10-14T00:00:00.000Z', 'tls-caa-as-misissuance', 'contested'],
    ['2026-03-30T23:59:59.999Z', 'tls-caa-as-misissuance', 'contested'],
    ['2026-03-31T00:00:00.000Z', 'tls-sc095-caa', null],
  ])('reported %s: %s, interpretation %s', (at, id, interpretation) => {
    const r = deadlineReport('tls-subscriber', 'caa-failure', t(at));
    expect(r.rule.id).toBe(id);
    expect(r.interpretation).toBe(interpretation);
    if (interpretation) expect(r.note).toMatch(/#5.*24 hours.*servercert issue 580/);
  });
  it('status carries it per certificate, with the note; other deadlines carry nothing', () => {
    const s = certificateStatus(
      kase({ reason: 'caa-failure', reportedAt: t('2020-02-29T03:08:00Z') }),
      cert({ notBefore: t('2020-01-01T00:00:00Z') }),
      [],
      t('2020-03-01T00:00:00Z'),
    );
    expect(s).toMatchObject({
      deadline: '2020-03-05T03:08:00Z',
      interpretation: 'contested',
      interpretationNote: expect.stringMatching(/servercert issue 580/),
    });
    expect(certificateStatus(kase(), cert(), [], t('2024-08-01T00:00:00Z'))).not.toHaveProperty('interpretation');
  });
  it('the human status says so once per case, and names the date of the rules it judged under', () => {
    const k = kase({ reason: 'caa-failure', reportedAt: t('2020-02-29T03:08:00Z') });
    const s = certificateStatus(k, cert({ notBefore: t('2020-01-01T00:00:00Z') }), [], t('2020-03-01T00:00:00Z'));
    const text = formatStatus({
      cases: [
        { id: 'le', title: 'CAA', reportedAt: '2020-02-29T03:08:00Z', reason: 'caa-failure', kind: 'tls-subscriber', certificates: [s, s] },
      ],
      rulesAsOf: '2020-03-01T00:00:00Z',
    });
    expect(text.split('\n')[0]).toBe('judged under the rules in force at 2020-03-01T00:00:00Z');
    expect(text.match(/ {2}note: Contested: /g)).toHaveLength(1);
  });
  it('the SC095 row keeps the EVG note', () => {
    expect(ruleInForce('tls-subscriber', 'caa-failure', t('2026-04-01T00:00:00Z')).note).toMatch(/2026-05-04.*2026-03-31/);
  });
});

describe('5. Microsoft Trusted Root Program Requirements v1.1 2.1.13 (2025-11-21)', () => {
  const from = t('2025-11-21T00:00:00Z');
  it.each<[CertKind, ReasonSlug]>([
    ['tls-subscriber', 'misissuance'],
    ['tls-subca', 'misuse'],
    ['smime-subscriber', 'misissuance'],
    ['codesigning-subscriber', 'misuse'],
    ['codesigning-subca', 'misuse'],
  ])('%s / %s: 24 hours from the notice, not before v1.1', (kind, reason) => {
    const on = computeDeadline({ kind, reason, reportedAt: from, notifiedBy: 'microsoft' });
    expect(on).toMatchObject({ deadline: from + DAY, shouldDeadline: null, rule: { id: 'microsoft-2.1.13' } });
    const before = computeDeadline({ kind, reason, reportedAt: from - 1, notifiedBy: 'microsoft' });
    expect(before.rule.id).not.toBe('microsoft-2.1.13');
    expect(before.deadline).toBe(computeDeadline({ kind, reason, reportedAt: from - 1 }).deadline);
    expect(computeDeadline({ kind, reason, reportedAt: from }).rule.id).not.toBe('microsoft-2.1.13');
  });
  it('a tie with the BR deadline cites the program: its notice is what the CA was given', () => {
    expect(computeDeadline({ kind: 'tls-subscriber', reason: 'key-compromise', reportedAt: from, notifiedBy: 'microsoft' })).toMatchObject({
      deadline: from + DAY,
      rule: { id: 'microsoft-2.1.13' },
    });
  });
  it('applies to a short-lived certificate too (any certificate, no exceptions: 2.1.15)', () => {
    const c = { notBefore: from - DAY, notAfter: from + 5 * DAY };
    expect(computeDeadline({ kind: 'tls-subscriber', reason: 'misissuance', reportedAt: from }, c).rule.id).toBe('tls-short-lived-exempt');
    expect(computeDeadline({ kind: 'tls-subscriber', reason: 'misissuance', reportedAt: from, notifiedBy: 'microsoft' }, c).deadline).toBe(
      from + DAY,
    );
  });
  it('is a table row per program; --notified-by accepts exactly the dated rows (third pass: a pending Mozilla row)', () => {
    expect(PROGRAM_RULES.map((r) => r.party)).toEqual(['microsoft', 'mozilla']);
    expect(parseNotifiedBy('Microsoft')).toBe('microsoft');
    expect(parseNotifiedBy(undefined)).toBeNull();
    expect(() => parseNotifiedBy('mozilla')).toThrow(/accepted: microsoft/);
  });
});

describe('6. code-signing sub-CAs: 7 days (CSBR 4.9.1.2)', () => {
  it.each([
    // Third pass (issue 30 item 5): CSBR 3.0.0-3.2.0 4.9.1.4 "As specified in BR Section 4.9.1.2".
    ['2024-04-14T23:59:00.000Z', '2024-04-21T23:59:00Z', 'cs-subca-3.0'],
    ['2024-04-15T00:00:00.000Z', '2024-04-22T00:00:00Z', 'cs-subca'],
  ])('reported %s', (at, deadline, id) => {
    const r = deadlineReport('codesigning-subca', 'misuse', t(at));
    expect(r).toMatchObject({ deadline, rule: { id } });
  });
});

describe('7. reason_code_missing for revoked subordinate CAs', () => {
  it.each<[CertKind, string]>([
    ['tls-subca', '2020-09-30T00:00:00.000Z'],
    // S/MIME BR 1.0.0 7.2.2 and CCADB Policy 2.0 section 3.2 (third pass, issue 30 item 4).
    ['smime-subca', '2023-09-01T00:00:00.000Z'],
    ['codesigning-subca', '2025-07-15T00:00:00.000Z'],
  ])('%s: a violation for no reasonCode or unspecified from %s, nothing a millisecond before', (kind, from) => {
    const k = kase({ kind, reason: 'misuse', reportedAt: t(from) - DAY });
    const at = (ms: number, code: number | null): Judgement =>
      judge(k, cert(), [revoked(CRL, ms + HOUR, ms, code), revoked(OCSP, ms + HOUR, ms, code)], ms + DAY);
    expect(finding(at(t(from), null), 'reason_code_missing').map((f) => [f.severity, f.message.slice(0, 3)])).toEqual([
      ['violation', 'CRL'],
      ['violation', 'OCS'],
    ]);
    expect(finding(at(t(from), 0), 'reason_code_missing')).toHaveLength(2);
    expect(finding(at(t(from) - 1, null), 'reason_code_missing')).toEqual([]);
    expect(finding(at(t(from), 4), 'reason_code_missing')).toEqual([]);
  });
  it('is never raised for subscriber certificates', () => {
    expect(finding(revokedWith(kase({ reason: 'subscriber-request' }), null), 'reason_code_missing')).toEqual([]);
    expect(
      finding(
        revokedWith(kase({ kind: 'smime-subscriber', reason: 'misuse', reportedAt: t('2026-06-01T00:00:00Z') }), null),
        'reason_code_missing',
      ),
    ).toEqual([]);
  });
});

describe('8. TLS reason codes from 2022-10-01 (MRSP 2.8 section 6.1.1), from 2023-07-15 under the BR', () => {
  const k = (reason: ReasonSlug, at: number): Case => kase({ reason, reportedAt: at - HOUR });
  const mismatch = (reason: ReasonSlug, at: number, code: number | null) =>
    finding(revokedWith(k(reason, at), code, at), 'reason_code_mismatch');
  it.each([
    ['2022-09-30T23:59:59.999Z', []],
    ['2022-10-01T00:00:00.000Z', [['violation', 'MRSP 2.8']]],
    ['2023-07-14T23:59:59.999Z', [['violation', 'MRSP 2.8']]],
    ['2023-07-15T00:00:00.000Z', [['violation', 'BR 1.8.7']]],
  ])('key compromise revoked as superseded at %s', (at, expected) => {
    expect(mismatch('key-compromise', t(at), 4).map((f) => [f.severity, f.message.includes('MRSP 2.8') ? 'MRSP 2.8' : 'BR 1.8.7'])).toEqual(
      expected,
    );
  });
  it('a reason MRSP 2.8 names no code for is a warning before 2023-07-15, a violation after', () => {
    expect(mismatch('cps-required', t('2023-07-14T23:59:59.999Z'), 9).map((f) => f.severity)).toEqual(['warning']);
    expect(mismatch('cps-required', t('2023-07-15T00:00:00Z'), 9).map((f) => f.severity)).toEqual(['violation']);
  });
});

describe('9. the short-lived exemption keys on issuance (notBefore)', () => {
  it.each([
    ['issued 2024-03-14T23:59:59Z, 6 days: before the definition', '2024-03-14T23:59:59Z', 6 * DAY, false],
    ['issued 2024-03-15T00:00:00Z, 6 days', '2024-03-15T00:00:00Z', 6 * DAY, true],
    ['864,000 s inclusive', '2025-01-01T00:00:00Z', 864_000 * SECOND - SECOND, true],
    ['864,001 s inclusive', '2025-01-01T00:00:00Z', 864_000 * SECOND, false],
    ['issued 2026-03-14T23:59:59Z, 8 days: still the 10-day limit', '2026-03-14T23:59:59Z', 8 * DAY, true],
    ['issued 2026-03-15T00:00:00Z, 8 days: the 7-day limit', '2026-03-15T00:00:00Z', 8 * DAY, false],
    ['604,800 s inclusive from 2026-03-15', '2026-03-15T00:00:00Z', 604_800 * SECOND - SECOND, true],
    ['604,801 s inclusive from 2026-03-15', '2026-03-15T00:00:00Z', 604_800 * SECOND, false],
  ])('%s', (_name, notBefore, length, expected) => {
    expect(isShortLived(t(notBefore), t(notBefore) + length)).toBe(expected);
  });
  it('a 6-day certificate issued before 2024-03-15 keeps its deadline when reported after', () => {
    const c = { notBefore: t('2024-03-10T00:00:00Z'), notAfter: t('2024-03-16T00:00:00Z') };
    expect(computeDeadline({ kind: 'tls-subscriber', reason: 'key-compromise', reportedAt: t('2024-03-15T12:00:00Z') }, c).deadline).toBe(
      t('2024-03-16T12:00:00Z'),
    );
  });
});

describe('10. delayed-revocation incident reports: notices, not verdicts', () => {
  it.each([
    ['2023-02-14T23:59:59.999Z', []],
    ['2023-02-15T00:00:00.000Z', ['ccadb-irg-1']],
    // Third pass (issue 30 item 7): Chrome 1.4/1.5's SHOULD, MRSP 3.0 6.1.3, Microsoft v1.2 2.1.18.
    ['2023-03-03T00:00:00.000Z', ['ccadb-irg-1', 'chrome-1.4']],
    ['2025-02-14T23:59:59.999Z', ['ccadb-irg-1', 'chrome-1.4']],
    ['2025-02-15T00:00:00.000Z', ['ccadb-irg-1', 'chrome-1.6']],
    ['2025-03-01T00:00:00.000Z', ['ccadb-irg-3', 'chrome-1.6']],
    ['2025-03-15T00:00:00.000Z', ['ccadb-irg-3', 'chrome-1.6', 'mrsp-3.0']],
    ['2026-05-20T00:00:00.000Z', ['ccadb-irg-3', 'chrome-1.6', 'mrsp-3.0', 'microsoft-2.1.18']],
  ])('a deadline that passed at %s', (at, ids) => {
    expect(delayedReportDuties(t(at)).map((d) => d.id)).toEqual(ids);
  });

  const statusOf = (verdicts: string[]): CaseStatus => ({
    id: 'c1',
    title: 'test',
    reportedAt: '2025-06-01T00:00:00Z',
    reason: 'misissuance',
    kind: 'tls-subscriber',
    certificates: verdicts.map((verdict, i) => ({
      ...certificateStatus(kase(), cert({ serial: `0${i}` }), [], t('2025-06-01T00:00:00Z')),
      verdict: verdict as never,
      sha256: `${i}`.repeat(64),
    })),
  });
  const k = kase({ reason: 'misissuance', reportedAt: t('2025-06-01T00:00:00Z') });
  const deadline = t('2025-06-06T00:00:00Z');

  it('the missed notice says a separate report is required, with the citations; revoked late counts as missed', () => {
    for (const verdicts of [['overdue'], ['revoked_late'], ['expired_overdue', 'revoked_on_time']]) {
      const missed = dueNotices(k, statusOf(verdicts), deadline + DAY).find((n) => n.kind === 'deadline-missed');
      expect(missed?.line).toMatch(
        /separate delayed-revocation incident report is required: CCADB Incident Reporting Guidelines 3\.0\+ \(MUST.*Chrome Root Program Policy 1\.6\+ \(MUST/,
      );
      expect(missed?.line).toMatch(/--delayed-report-url/);
    }
    const known = dueNotices({ ...k, delayedReportUrl: 'https://bugzilla.example/2' }, statusOf(['overdue']), deadline + DAY).find(
      (n) => n.kind === 'deadline-missed',
    );
    expect(known?.line).toContain('Delayed-revocation report: https://bugzilla.example/2');
  });

  it('nothing is required before the deadline (in its last hours it may already be due: third pass), nor when it was met', () => {
    const before = dueNotices(k, statusOf(['pending']), deadline - HOUR)
      .map((n) => n.line)
      .join('\n');
    expect(before).not.toMatch(/is required/);
    expect(before).toMatch(/may already be due/);
    expect(
      dueNotices(k, statusOf(['revoked_on_time']), deadline + DAY)
        .map((n) => n.line)
        .join('\n'),
    ).not.toMatch(/delayed-revocation/);
    expect(delayedReportSentence(t('2022-01-01T00:00:00Z'), null)).toBe('');
  });
});

describe('11. sources cite exact commits', () => {
  it('CSC-18 is cabforum/code-signing 966cfa0', () => {
    expect(ruleInForce('codesigning-subscriber', 'misuse', t('2024-04-15T00:00:00Z')).source).toMatch(/^cabforum\/code-signing@966cfa0 /);
    expect(ruleInForce('codesigning-subscriber', 'misuse', t('2024-04-15T00:00:00Z')).source).not.toMatch(/89ca8c6/);
  });
});

describe('12. servercert PR 622 as a rule version, off until a date is set', () => {
  const on = (from: string): RuleVersion[] => RULE_VERSIONS.map((v) => (v.id === SERVERCERT_PR_622.id ? { ...v, effectiveFrom: from } : v));
  const ON = on('2026-10-01T00:00:00Z');
  const reportedAt = t('2026-10-02T00:00:00Z');
  const k = kase({ reason: 'key-compromise', reportedAt });

  it('is off as shipped, at any date', () => {
    expect(SERVERCERT_PR_622.effectiveFrom).toBeNull();
    expect(ruleVersionAt(t('2099-01-01T00:00:00Z')).id).toBe('br-4.9.5-receipt');
    expect(computeDeadline(k).deadline).toBe(reportedAt + DAY);
  });

  it('turned on, the clock starts when the report is determined actionable, at most 24 hours after receipt', () => {
    expect(ruleVersionAt(t('2026-09-30T23:59:59.999Z'), ON).id).toBe('br-4.9.5-receipt');
    expect(ruleVersionAt(t('2026-10-01T00:00:00Z'), ON).id).toBe('servercert-pr-622');
    // whatever order the versions are listed in
    expect(ruleVersionAt(t('2026-10-01T00:00:00Z'), [...ON].reverse()).id).toBe('servercert-pr-622');
    expect(ruleVersionAt(t('2010-01-01T00:00:00Z'), [...ON].reverse()).id).toBe('br-4.9.5-receipt');
    expect(computeDeadline(k, undefined, { versions: ON })).toMatchObject({ clockStart: reportedAt + DAY, deadline: reportedAt + 2 * DAY });
    expect(computeDeadline({ ...k, confirmedAt: reportedAt + 3 * HOUR }, undefined, { versions: ON }).deadline).toBe(
      reportedAt + 27 * HOUR,
    );
    expect(computeDeadline({ ...k, confirmedAt: reportedAt + 30 * HOUR }, undefined, { versions: ON }).deadline).toBe(reportedAt + 2 * DAY);
    expect(computeDeadline({ ...k, confirmedAt: reportedAt - HOUR }, undefined, { versions: ON }).deadline).toBe(reportedAt + DAY);
  });

  it('turned on, "revoked" means on the CRL and, where the certificate has OCSP, in OCSP too', () => {
    const crlOnly = [revoked(CRL, reportedAt + 2 * HOUR, reportedAt + HOUR, 1), good(OCSP, reportedAt + 3 * HOUR)];
    const now = reportedAt + 3 * DAY;
    expect(judge(k, cert(), crlOnly, now).verdict).toBe('revoked_on_time');
    expect(judge(k, cert(), crlOnly, now, undefined, { versions: ON })).toMatchObject({ verdict: 'overdue', revoked: false });
    // Without an OCSP URL the CRL alone is revocation.
    expect(judge(k, cert({ ocspUrls: [] }), [crlOnly[0]!], now, undefined, { versions: ON }).verdict).toBe('revoked_on_time');
    // Both: revoked once OCSP said so too; a signed OCSP "good" after the CRL entry moves the time.
    const both = [
      ...crlOnly,
      good(OCSP, reportedAt + 50 * HOUR, { producedAt: reportedAt + 49 * HOUR }),
      revoked(OCSP, reportedAt + 52 * HOUR, reportedAt + HOUR, 1, { producedAt: reportedAt + 51 * HOUR }),
    ];
    expect(judge(k, cert(), both, now, undefined, { versions: ON })).toMatchObject({
      verdict: 'revoked_late',
      effectiveRevocationTime: reportedAt + 49 * HOUR,
      lateBySeconds: 3600,
    });
    // Off, the same answers give the same time: OCSP still vouched "good" at +49 h, after the claimed time,
    // so the revocation was not published before then whatever the CRL said (docs/evidence.md, "Effective revocation time").
    expect(judge(k, cert(), both, now)).toMatchObject({ verdict: 'revoked_late', effectiveRevocationTime: reportedAt + 49 * HOUR });
  });

  // Issue 30 item 8: the draft itself (cabforum/servercert pull 622, head 6cf96bd, 2026-03-18), 4.9.5: "The period
  // between receipt of a revocation request from the Subscriber and published revocation MUST NOT exceed the time
  // frame set forth in Section 4.9.1.1. If the request is not authenticated upon receipt, the CA SHALL within 24 hours
  // of receipt work with the requester to authenticate the request, and the period listed above will be measured from
  // the time of authentication."
  it('turned on, a subscriber request counts from receipt, or from its authentication, not from a capped "actionable" point', () => {
    const req = kase({ reason: 'subscriber-request', reportedAt });
    const under = (c: Partial<Case>) => computeDeadline({ ...req, ...c }, undefined, { versions: ON });
    expect(under({})).toMatchObject({ clockStart: reportedAt, deadline: reportedAt + DAY });
    expect(under({ confirmedAt: reportedAt + 3 * HOUR }).clockStart).toBe(reportedAt + 3 * HOUR);
    // No 24-hour cap on the authentication: the period "will be measured from the time of authentication".
    expect(under({ confirmedAt: reportedAt + 40 * HOUR }).clockStart).toBe(reportedAt + 40 * HOUR);
    expect(under({ confirmedAt: reportedAt - HOUR }).clockStart).toBe(reportedAt);
    // A Certificate Problem Report still counts from its determination as actionable, at most 24 hours after receipt:
    // "Within twenty-four (24) hours after receiving a Certificate Problem Report, the CA SHALL investigate … and
    // determine if it's \"actionable.\""
    expect(computeDeadline({ ...k, confirmedAt: reportedAt + 40 * HOUR }, undefined, { versions: ON }).clockStart).toBe(reportedAt + DAY);
  });

  // 1.6.1 "Revoked": "if the certificate contains a CRL Distribution Point URI: a CRL containing the certificate serial
  // number is available for consumption by Relying Parties at that URI"; "if the certificate contains an Authority
  // Information Access OCSP URI: an OCSP request to that URI for the certificate serial number results in a response
  // with a certStatus value of revoked".
  it('turned on, a CRL entry is needed only where the certificate has a CDP, and only at that URI', () => {
    const now = reportedAt + 3 * DAY;
    const ocspRevoked = revoked(OCSP, reportedAt + 2 * HOUR, reportedAt + HOUR, 1, { producedAt: reportedAt + 2 * HOUR });
    // No CDP: OCSP at its own URI is revocation, no CRL needed.
    expect(judge(k, cert({ crlUrls: [] }), [ocspRevoked], now, undefined, { versions: ON }).verdict).toBe('revoked_on_time');
    // A CDP, OCSP revoked, the CDP's CRL not (yet) listing it: not revoked.
    const cdpGood = good(CRL, reportedAt + 3 * HOUR, { thisUpdate: reportedAt + 3 * HOUR });
    expect(judge(k, cert(), [ocspRevoked, cdpGood], now, undefined, { versions: ON })).toMatchObject({
      verdict: 'overdue',
      revoked: false,
    });
    // Listed on another CRL (given by hand) but not at the CDP URI: not revoked either.
    const other = revoked({ kind: 'crl', url: 'http://elsewhere.example/x.crl' }, reportedAt + 2 * HOUR, reportedAt + HOUR, 1);
    expect(judge(k, cert(), [ocspRevoked, cdpGood, other], now, undefined, { versions: ON }).revoked).toBe(false);
    // An OCSP answer from a responder the certificate does not name does not stand for its AIA URI.
    const otherOcsp = revoked({ kind: 'ocsp', url: 'http://other-ocsp.example' }, reportedAt + 2 * HOUR, reportedAt + HOUR, 1);
    const cdpRevoked = revoked(CRL, reportedAt + 2 * HOUR, reportedAt + HOUR, 1);
    expect(judge(k, cert(), [cdpRevoked, otherOcsp], now, undefined, { versions: ON }).revoked).toBe(false);
    expect(judge(k, cert(), [cdpRevoked, ocspRevoked], now, undefined, { versions: ON }).verdict).toBe('revoked_on_time');
    // Neither URI: the draft's conditions are empty, so any source counts.
    expect(judge(k, cert({ crlUrls: [], ocspUrls: [] }), [other], now, undefined, { versions: ON }).verdict).toBe('revoked_on_time');
  });

  it('turned on, publication is judged by when each answer was vouched for, not by when revwatch happened to see it', () => {
    const OCSP2 = { kind: 'ocsp' as const, url: 'http://ocsp2.example' };
    const c = cert({ ocspUrls: [OCSP.url, OCSP2.url] });
    const obs = [
      revoked(OCSP, reportedAt + HOUR, reportedAt, 1, { producedAt: reportedAt + HOUR }),
      // seen first, but published later than the CRL fetched afterwards
      revoked(CRL, reportedAt + 5 * HOUR, reportedAt, 1, { thisUpdate: reportedAt + 4 * HOUR }),
      revoked(CRL, reportedAt + 10 * HOUR, reportedAt, 1, { thisUpdate: reportedAt + 2 * HOUR }),
      // a second responder still vouched "good" after the claimed time: the revocation was not yet
      // published everywhere, whichever answer came first (docs/evidence.md, "Effective revocation time")
      good(OCSP2, reportedAt + 3 * HOUR, { producedAt: reportedAt + 3 * HOUR }),
    ];
    expect(judge(k, c, obs, reportedAt + 3 * DAY, undefined, { versions: ON }).effectiveRevocationTime).toBe(reportedAt + 3 * HOUR);
    expect(judge(k, c, [...obs].reverse(), reportedAt + 3 * DAY, undefined, { versions: ON }).effectiveRevocationTime).toBe(
      reportedAt + 3 * HOUR,
    );
  });

  it('status --rules-as-of judges a case under the rules of another date', () => {
    const caa = kase({ reason: 'caa-failure', reportedAt: t('2026-01-10T00:00:00Z') });
    expect(computeDeadline(caa)).toMatchObject({ deadline: t('2026-01-15T00:00:00Z'), rule: { id: 'tls-caa-as-misissuance' } });
    expect(computeDeadline(caa, undefined, { rulesAsOf: t('2026-03-31T00:00:00Z') })).toMatchObject({
      deadline: t('2026-01-11T00:00:00Z'),
      rule: { id: 'tls-sc095-caa' },
    });
    const s = certificateStatus(caa, cert(), [good(CRL, t('2026-01-12T00:00:00Z'))], t('2026-01-12T00:00:00Z'), {
      rulesAsOf: t('2026-04-01T00:00:00Z'),
    });
    expect(s).toMatchObject({ verdict: 'overdue', deadline: '2026-01-11T00:00:00Z' });
    // and a pending version applies to an earlier case when asked for its date
    expect(computeDeadline(caa, undefined, { rulesAsOf: t('2026-10-01T00:00:00Z'), versions: ON }).clockStart).toBe(
      t('2026-01-11T00:00:00Z'),
    );
    // reason codes are judged under that date's rules too
    const old = kase({ reason: 'key-compromise', reportedAt: t('2021-01-01T00:00:00Z') });
    const c = cert({ notBefore: t('2020-12-01T00:00:00Z'), notAfter: t('2021-12-01T00:00:00Z') });
    const obs = [revoked(CRL, t('2021-01-01T02:00:00Z'), t('2021-01-01T01:00:00Z'), 4)];
    expect(finding(judge(old, c, obs, t('2021-01-02T00:00:00Z')), 'reason_code_mismatch')).toEqual([]);
    expect(
      finding(judge(old, c, obs, t('2021-01-02T00:00:00Z'), undefined, { rulesAsOf: t('2024-01-01T00:00:00Z') }), 'reason_code_mismatch'),
    ).toHaveLength(1);
  });
});

describe('tests from real incidents (exact UTC)', () => {
  it('VikingCloud 2024, bug 1885568: misissuance reported 2024-03-11T14:53Z, 5-day deadline 2024-03-16T14:53Z, missed', () => {
    const k = kase({ reason: 'misissuance', reportedAt: t('2024-03-11T14:53:00Z') });
    expect(computeDeadline(k)).toMatchObject({ deadline: t('2024-03-16T14:53:00Z'), shouldDeadline: t('2024-03-12T14:53:00Z') });
    const c = cert({ notBefore: t('2024-01-01T00:00:00Z'), notAfter: t('2025-01-01T00:00:00Z') });
    const stillGood = judge(k, c, [good(CRL, t('2024-03-17T14:53:00Z'))], t('2024-03-17T14:53:00Z'));
    expect(stillGood).toMatchObject({ verdict: 'overdue', lateBySeconds: 86_400 });
    const oneMinuteLate = judge(k, c, [revoked(CRL, t('2024-03-16T16:00:00Z'), t('2024-03-16T14:54:00Z'), 4)], t('2024-03-17T00:00:00Z'));
    expect(oneMinuteLate).toMatchObject({ verdict: 'revoked_late', lateBySeconds: 60 });
    expect(judge(k, c, [revoked(CRL, t('2024-03-16T16:00:00Z'), t('2024-03-16T14:53:00Z'), 4)], t('2024-03-17T00:00:00Z')).verdict).toBe(
      'revoked_on_time',
    );
  });

  it('Entrust OV CPS typo 2024, bug 1890898: discovered 2024-03-26T15:28Z, 5 days, never revoked: expired_overdue as certificates expire', () => {
    const k = kase({ reason: 'misissuance', reportedAt: t('2024-03-26T15:28:00Z') });
    const deadline = t('2024-03-31T15:28:00Z');
    expect(computeDeadline(k).deadline).toBe(deadline);
    // Issued 2024-03-22..26 (the bug): one-year certificates expire in 2025.
    const c = cert({ notBefore: t('2024-03-22T15:02:00Z'), notAfter: t('2025-03-22T15:02:00Z') });
    const obs = [good(CRL, t('2024-04-11T00:00:00Z')), good(CRL, t('2025-03-01T00:00:00Z'))];
    expect(judge(k, c, obs, t('2025-03-01T00:00:00Z')).verdict).toBe('overdue');
    expect(judge(k, c, obs, t('2025-04-01T00:00:00Z'))).toMatchObject({
      verdict: 'expired_overdue',
      lateBySeconds: (c.notAfter - deadline) / 1000,
    });
  });

  it('Entrust EV TLS and code signing 2024, bug 1898848: all revoked or expired by 2024-05-21T09:30Z, late', () => {
    // The bug says this was more than 5 days after Entrust should have been
    // aware, so awareness was before 2024-05-16T09:30Z; judged from that bound.
    const reportedAt = t('2024-05-16T09:29:00Z');
    const by = t('2024-05-21T09:30:00Z');
    for (const kind of ['tls-subscriber', 'codesigning-subscriber'] as const) {
      const k = kase({ kind, reason: 'misissuance', reportedAt });
      const revokedCert = judge(k, cert(), [revoked(CRL, by + HOUR, by, 4)], by + DAY);
      // One that expired unrevoked before the deadline is moot; one that expired after it is late until expiry.
      const expiredBefore = judge(k, cert({ notAfter: reportedAt + 4 * DAY }), [good(CRL, reportedAt + HOUR)], by + DAY);
      const expiredAfter = judge(k, cert({ notAfter: by }), [good(CRL, reportedAt + HOUR)], by + DAY);
      expect([revokedCert.verdict, expiredBefore.verdict, expiredAfter.verdict]).toEqual(['revoked_late', 'expired', 'expired_overdue']);
      expect(expiredAfter.lateBySeconds).toBe(60);
      expect(revokedCert.lateBySeconds).toBe(60);
      expect(violations(revokedCert)).toEqual([]);
    }
  });

  it('Microsoft PKI Services 2025, bug 1970968: affiliationChanged where superseded was due is reason_code_mismatch', () => {
    const revokedAt = t('2025-06-05T23:00:00Z');
    const k = kase({ reason: 'misissuance', reportedAt: revokedAt - DAY });
    const [f] = finding(revokedWith(k, 3, revokedAt), 'reason_code_mismatch');
    expect(f).toMatchObject({ severity: 'violation', message: expect.stringMatching(/affiliationChanged.*superseded/) });
  });

  it('Sectigo 2023, bug 1818073: revocation event 2023-02-14T18:08Z, due 2023-02-19', () => {
    const r = deadlineReport('tls-subscriber', 'misissuance', t('2023-02-14T18:08:00Z'));
    expect(r.deadline).toBe('2023-02-19T18:08:00Z');
  });

  it('a subscriber request revoked with keyCompromise on time gives no violation', () => {
    const k = kase({ reason: 'subscriber-request' });
    const j = revokedWith(k, 1);
    expect(j.verdict).toBe('revoked_on_time');
    expect(violations(j)).toEqual([]);
  });

  it('a sub-CA revoked without reasonCode gives reason_code_missing', () => {
    const j = revokedWith(kase({ kind: 'tls-subca', reason: 'misuse' }), null);
    expect(violations(j)).toEqual(['reason_code_missing']);
  });
});

describe('order independence with the new rules', () => {
  const base = t('2026-10-02T00:00:00Z');
  const ON = RULE_VERSIONS.map((v) => (v.id === SERVERCERT_PR_622.id ? { ...v, effectiveFrom: '2026-10-01T00:00:00Z' } : v));
  const arbObservation: fc.Arbitrary<Observation> = fc
    .record({
      source: fc.constantFrom(CRL, OCSP),
      at: fc.integer({ min: -24, max: 15 * 24 }).map((h) => base + h * HOUR),
      status: fc.constantFrom('good', 'revoked') as fc.Arbitrary<Observation['status']>,
      revokedAgo: fc.integer({ min: 0, max: 10 * 24 }),
      reason: fc.constantFrom(null, 0, 1, 3, 4, 5, 6, 9),
    })
    .map(({ source, at, status, revokedAgo, reason }) =>
      status === 'revoked' ? revoked(source, at, at - revokedAgo * HOUR, reason) : good(source, at),
    );
  const arbCase = fc.constantFrom<Case>(
    kase({ reportedAt: base, reason: 'subscriber-request' }),
    kase({ reportedAt: base, kind: 'codesigning-subscriber', reason: 'suspect-code' }),
    kase({ reportedAt: base, kind: 'codesigning-subca', reason: 'misuse' }),
    kase({ reportedAt: base, kind: 'tls-subca', reason: 'misuse', notifiedBy: 'microsoft' }),
  );

  it('shuffled or duplicated observations give the same result, with PR 622 on or off', () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.array(arbObservation, { maxLength: 10 }),
        fc.integer({ min: 0, max: 20 * 24 }),
        fc.boolean(),
        fc.infiniteStream(fc.nat()),
        (k, obs, h, pr622, seeds) => {
          const rules = pr622 ? { versions: ON } : {};
          const now = base + h * HOUR;
          const expected = judge(k, cert(), obs, now, undefined, rules);
          const shuffled = [...obs, ...obs.slice(0, 3)]
            .map((o) => [seeds.next().value, o] as const)
            .sort((a, b) => a[0] - b[0])
            .map(([, o]) => o);
          expect(judge(k, cert(), shuffled, now, undefined, rules)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
