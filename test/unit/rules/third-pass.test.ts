/**
 * Rule fidelity, third pass (issue 30): one block per item, each with the
 * text it encodes quoted, at its boundary dates.
 */
import { describe, expect, it } from 'vitest';
import type { Case, CertKind, Observation, ReasonSlug, TrackedCertificate } from '../../../src/domain.js';
import { judge, type Judgement } from '../../../src/rules/verdict.js';
import { deadlineReport, formatDeadlineReport } from '../../../src/rules/deadline-report.js';
import { checkNotifiedAt, PROGRAM_RULES } from '../../../src/rules/programs.js';
import { computeDeadline } from '../../../src/rules/rules.js';
import { fixedDateRule, factsWithRule } from '../../../src/rules/fixed-date.js';
import { delayedReportDuties, delayedReportMayBeDueSentence, delayedReportSentence } from '../../../src/rules/incident-duties.js';

const t = (iso: string): number => Date.parse(iso);
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
  notBefore: t('2020-01-01T00:00:00Z'),
  notAfter: t('2030-01-01T00:00:00Z'),
  precertificate: false,
  ocspUrls: [],
  crlUrls: ['http://crl.example/1.crl'],
  ...over,
});
const CRL = { kind: 'crl' as const, url: 'http://crl.example/1.crl' };
const revoked = (at: number, revocationTime: number, reasonCode: number | null): Observation => ({
  observedAt: at,
  source: CRL,
  status: 'revoked',
  revocationTime,
  reasonCode,
  thisUpdate: at - HOUR,
  nextUpdate: at + DAY,
  producedAt: null,
});
/** Reported an hour before `at`, revoked at `at` with `code`, judged a day later. */
const revokedAt = (reason: ReasonSlug, at: string, code: number | null, kind: CertKind = 'tls-subscriber'): Judgement =>
  judge(kase({ kind, reason, reportedAt: t(at) - HOUR }), cert(), [revoked(t(at) + HOUR, t(at), code)], t(at) + DAY);
/** The reason-code findings (a held certificate also misses its SHOULD deadline: not the point here). */
const found = (j: Judgement): [string, string][] =>
  j.findings.filter((f) => f.code.startsWith('reason_code')).map((f) => [f.code, f.severity]);

describe('item 1: an explicit unspecified (0) on a TLS subscriber entry', () => {
  // BR 1.7.1 7.2.2 (effective 2020-09-30): "The CRLReason indicated MUST NOT be unspecified (0)";
  // BR 2.x 7.2.2: unspecified is "Represented by the omission of a reasonCode".
  it('is a violation from 2020-09-30, nothing a millisecond before (Actalis, bug 1914419)', () => {
    expect(found(revokedAt('subscriber-request', '2020-09-29T23:59:59.999Z', 0))).toEqual([]);
    const j = revokedAt('subscriber-request', '2020-09-30T00:00:00Z', 0);
    expect(found(j)).toEqual([['reason_code_invalid', 'violation']]);
    expect(j.findings[0]!.message).toContain('"The CRLReason indicated MUST NOT be unspecified (0)"');
    // Between 2020-09-30 and the reason-code duty of 2022-10-01 it is the only finding.
    expect(found(revokedAt('key-compromise', '2022-09-30T23:59:59.999Z', 0))).toEqual([['reason_code_invalid', 'violation']]);
  });
  it('does not hide the mismatch with the code the reason calls for', () => {
    expect(found(revokedAt('key-compromise', '2022-10-01T00:00:00Z', 0))).toEqual([
      ['reason_code_invalid', 'violation'],
      ['reason_code_mismatch', 'violation'],
    ]);
    expect(found(revokedAt('misissuance', '2025-01-01T00:00:00Z', 0))).toEqual([
      ['reason_code_invalid', 'violation'],
      ['reason_code_mismatch', 'violation'],
    ]);
    // A reason that calls for no reasonCode: 0 means the same, so only the explicit 0 is wrong.
    expect(found(revokedAt('cps-required', '2025-01-01T00:00:00Z', 0))).toEqual([['reason_code_invalid', 'violation']]);
  });
});

describe('item 2: certificateHold (6) is a suspension, forbidden, and not a revocation', () => {
  // BR 7.2.2 (since 1.7.1): certificateHold "MUST NOT be included"; BR 4.9.13 (already in 1.3.1): "MUST NOT
  // include entries that indicate that a Certificate is suspended".
  it.each<[CertKind, ReasonSlug, string]>([
    ['tls-subscriber', 'key-compromise', '2019-01-01T00:00:00Z'],
    ['tls-subscriber', 'misissuance', '2025-01-01T00:00:00Z'],
    ['tls-subca', 'misuse', '2025-01-01T00:00:00Z'],
    // S/MIME BR 7.2.2: "The CRLreason of certificateHold (6) SHALL NOT be used for Root CA or Subordinate CA Certificates."
    ['smime-subca', 'misuse', '2023-09-01T00:00:00Z'],
    // CSBR 4.9.13: "Effective 2023-09-15, the Repository MUST NOT include entries that indicate that a Certificate is suspended."
    ['codesigning-subscriber', 'misuse', '2023-09-15T00:00:00Z'],
    ['codesigning-subca', 'misuse', '2023-09-15T00:00:00Z'],
  ])('%s / %s held at %s: a violation, and the certificate is not revoked', (kind, reason, at) => {
    const j = revokedAt(reason, at, 6, kind);
    expect(j.findings.filter((f) => f.code === 'reason_code_invalid').map((f) => f.severity)).toEqual(['violation']);
    expect(j.findings.find((f) => f.code === 'reason_code_invalid')!.message).toMatch(/not counted as revoked/);
    expect(j).toMatchObject({ revoked: false, claimedRevocationTime: null });
    expect(['pending', 'overdue', 'no_deadline']).toContain(j.verdict);
  });
  it('a hold the texts do not forbid is a warning, and still not a revocation', () => {
    expect(found(revokedAt('misuse', '2023-09-14T23:59:59.999Z', 6, 'codesigning-subscriber'))).toContainEqual([
      'reason_code_invalid',
      'warning',
    ]);
    // S/MIME BR 7.2.2: "The Repository MAY include CRL entries that have a CRLreason of certificateHold (6) for
    // Certificates that include the Certificate Policy identifiers for the Legacy or Multipurpose Generations."
    const smime = revokedAt('misuse', '2025-01-01T00:00:00Z', 6, 'smime-subscriber');
    expect(found(smime)).toEqual([['reason_code_invalid', 'warning']]);
    expect(smime.revoked).toBe(false);
  });
  it('judged as not revoked: pending before the deadline, overdue after, where it was revoked_on_time', () => {
    const k = kase({ reason: 'misissuance', reportedAt: t('2025-01-01T00:00:00Z') });
    const held = [revoked(t('2025-01-01T02:00:00Z'), t('2025-01-01T01:00:00Z'), 6)];
    expect(judge(k, cert(), held, t('2025-01-02T00:00:00Z')).verdict).toBe('pending');
    expect(judge(k, cert(), held, t('2025-01-07T00:00:00Z'))).toMatchObject({ verdict: 'overdue', lateBySeconds: DAY / 1000 });
    // The hold, later replaced by a revocation: counted from the revocation, not from the hold.
    const replaced = [...held, revoked(t('2025-01-03T02:00:00Z'), t('2025-01-03T01:00:00Z'), 4)];
    expect(judge(k, cert(), replaced, t('2025-01-07T00:00:00Z'))).toMatchObject({
      verdict: 'revoked_on_time',
      claimedRevocationTime: t('2025-01-03T01:00:00Z'),
      reasonCode: 4,
    });
  });
  it('neither a hold nor a code outside the allowed set masks the mismatch', () => {
    expect(found(revokedAt('misissuance', '2025-01-01T00:00:00Z', 6))).toEqual([
      ['reason_code_invalid', 'violation'],
      ['reason_code_mismatch', 'violation'],
    ]);
    // cACompromise (2) on a subscriber certificate: outside BR 7.2.2's set (a warning), and not superseded (a violation).
    expect(found(revokedAt('misissuance', '2025-01-01T00:00:00Z', 2))).toEqual([
      ['reason_code_invalid', 'warning'],
      ['reason_code_mismatch', 'violation'],
    ]);
  });
});

describe('item 3: MRSP 2.8 section 6.1.1 names a required code for more reasons (2022-10-01 to 2023-07-15)', () => {
  // privilegeWithdrawn "MUST be used" for unauthorized requests, wildcard fraud, material changes and inaccurate
  // information; superseded for "domain authorization or compliance issues"; keyCompromise for flawed key generation.
  it.each<[ReasonSlug, number]>([
    ['unauthorized-request', 4],
    ['wildcard-fraud', 4],
    ['material-change', 4],
    ['inaccurate-information', 4],
    ['misissuance', 9],
    ['caa-failure', 9],
    ['key-policy', 9],
    ['key-generation-flawed', 4],
  ])('%s revoked with code %s in that window: a violation (IdenTrust, bug 1794047)', (reason, code) => {
    expect(found(revokedAt(reason, '2022-10-01T00:00:00Z', code))).toEqual([['reason_code_mismatch', 'violation']]);
    expect(found(revokedAt(reason, '2022-09-30T23:59:59.999Z', code))).toEqual([]);
  });
  it('the two reasons it names no code for stay warnings', () => {
    expect(found(revokedAt('cps-required', '2023-01-01T00:00:00Z', 4))).toEqual([['reason_code_mismatch', 'warning']]);
    expect(found(revokedAt('ca-rights-terminated', '2023-01-01T00:00:00Z', 9))).toEqual([['reason_code_mismatch', 'warning']]);
  });
  // "when the CRLReason code is not one of the following, the reasonCode extension MUST NOT be provided"
  it.each([0, 2, 6])('an explicit %s in that window is a violation', (code) => {
    const j = revokedAt('cps-required', '2023-01-01T00:00:00Z', code);
    expect(j.findings.filter((f) => f.code === 'reason_code_invalid').map((f) => f.severity)).toEqual(['violation']);
  });
  it('after 2023-07-15 a code outside the set is a warning under the BR (the mismatch is the violation)', () => {
    expect(found(revokedAt('cps-required', '2023-07-15T00:00:00Z', 2))).toEqual([
      ['reason_code_invalid', 'warning'],
      ['reason_code_mismatch', 'violation'],
    ]);
  });
});

describe('item 4: reason codes for S/MIME and code-signing CA certificates start with their texts', () => {
  // S/MIME BR 1.0.0 7.2.2 (2023-09-01): "If a CRL entry is for a Root CA or Subordinate CA Certificate, including
  // Cross Certificates, this CRL entry extension SHALL be present"; "The CRLReason indicated SHALL NOT be unspecified (0)".
  // CCADB Policy 2.0 section 3.2 (2025-07-15) says the same for every CA certificate, code signing included.
  it.each<[CertKind, string, string]>([
    ['smime-subca', '2023-09-01T00:00:00Z', 'S/MIME BR 7.2.2'],
    ['codesigning-subca', '2025-07-15T00:00:00Z', 'CCADB Policy 2.0 section 3.2'],
  ])('%s revoked without a reason from %s: reason_code_missing, citing %s and Microsoft 2.1.7', (kind, from, citation) => {
    const j = revokedAt('misuse', from, null, kind);
    expect(found(j)).toEqual([['reason_code_missing', 'violation']]);
    expect(j.findings[0]!.message).toContain(citation);
    expect(j.findings[0]!.message).toContain('Microsoft Trusted Root Program Requirements 2.1.7');
    expect(found(revokedAt('misuse', new Date(t(from) - 1).toISOString(), null, kind))).toEqual([]);
    expect(found(revokedAt('misuse', from, 0, kind))).toEqual([['reason_code_missing', 'violation']]);
  });
});

describe('item 5: code-signing sub-CAs before CSC-18 had seven days', () => {
  // CSBR 3.0.0-3.2.0 4.9.1.4 "Revocation of a Subordinate CA Certificate": "As specified in BR Section 4.9.1.2"
  // (seven days), at cabforum/code-signing e345af0, 204c33c, 6a5b55d, ccc80e4.
  it.each([
    ['2022-06-28T23:59:59.999Z', null, 'cs-subca-pre-3.0'],
    ['2022-06-29T00:00:00.000Z', '2022-07-06T00:00:00Z', 'cs-subca-3.0'],
    ['2024-04-14T12:00:00.000Z', '2024-04-21T12:00:00Z', 'cs-subca-3.0'],
    ['2024-04-15T00:00:00.000Z', '2024-04-22T00:00:00Z', 'cs-subca'],
  ])('reported %s: deadline %s under %s', (at, deadline, id) => {
    const r = deadlineReport('codesigning-subca', 'misissuance', t(at));
    expect(r).toMatchObject({ deadline, hours: deadline === null ? null : 168, rule: { id } });
    if (id === 'cs-subca-3.0') expect(r.rule.section).toContain('"As specified in BR Section 4.9.1.2"');
  });
});

describe('item 6: code signing may backdate for any reason; S/MIME may not', () => {
  // CSBR 4.9.6: "the CA MAY specify the time at which the Certificate is first considered to be invalid in the
  // revocationDate field of a CRL entry or the revocationTime field of an OCSP response"; 7.3: "the CA MAY use
  // that revocation date in subsequent OCSP responses".
  const reportedAt = t('2025-01-01T00:00:00Z');
  /** A CRL that still vouched "good" at +30 h, then an entry dated ten days before the report. */
  const backdated = (kind: CertKind, reason: ReasonSlug, code: number | null) =>
    judge(
      kase({ kind, reason, reportedAt }),
      cert(),
      [
        { ...revoked(reportedAt + 31 * HOUR, 0, null), status: 'good', revocationTime: null, thisUpdate: reportedAt + 30 * HOUR },
        revoked(reportedAt + 33 * HOUR, reportedAt - 10 * DAY, code),
      ],
      reportedAt + 3 * DAY,
    ).findings.filter((f) => f.code === 'revocation_backdated');
  it.each<[CertKind, ReasonSlug, number | null]>([
    ['codesigning-subscriber', 'misuse', 9],
    ['codesigning-subscriber', 'misissuance', 4],
    ['codesigning-subca', 'misuse', 9],
    ['codesigning-subca', 'key-compromise', 1],
  ])('%s / %s (reasonCode %s): info', (kind, reason, code) => {
    const [f] = backdated(kind, reason, code);
    expect(f).toMatchObject({ severity: 'info', message: expect.stringContaining('CSBR 4.9.6') });
  });
  it('S/MIME keyCompromise: a violation that does not cite BR 7.2.2; TLS keyCompromise a warning citing it', () => {
    const [smime] = backdated('smime-subscriber', 'key-compromise', 1);
    expect(smime!.severity).toBe('violation');
    expect(smime!.message).not.toContain('BR 7.2.2');
    expect(smime!.message).toContain('S/MIME BR has no allowance');
    expect(backdated('tls-subscriber', 'key-compromise', 1)[0]).toMatchObject({
      severity: 'warning',
      message: expect.stringContaining('BR 7.2.2'),
    });
  });
});

describe('item 7: delayed-revocation duties, and a report that may be due before the deadline', () => {
  it('adds MRSP 3.0 6.1.3 (2025-03-15), Microsoft v1.2 2.1.18 (2026-05-20) and Chrome 1.4/1.5 SHOULD (2023-03-03 to 2025-02-14)', () => {
    const ids = (at: string) => delayedReportDuties(t(at)).map((d) => d.id);
    expect(ids('2023-03-02T23:59:59.999Z')).not.toContain('chrome-1.4');
    expect(ids('2023-03-03T00:00:00Z')).toContain('chrome-1.4');
    expect(ids('2025-02-15T00:00:00Z')).not.toContain('chrome-1.4');
    expect(ids('2025-03-14T23:59:59.999Z')).not.toContain('mrsp-3.0');
    expect(ids('2025-03-15T00:00:00Z')).toContain('mrsp-3.0');
    expect(ids('2026-05-19T23:59:59.999Z')).not.toContain('microsoft-2.1.18');
    expect(ids('2026-05-20T00:00:00Z')).toContain('microsoft-2.1.18');
    // MRSP 3.0 6.1.3: the IRG "MUST be followed"; a delayed revocation is a finding in the next audit statement.
    expect(delayedReportSentence(t('2025-06-01T00:00:00Z'), null)).toMatch(/MRSP 3\.0\+ section 6\.1\.3 \(MUST.*audit statement/);
    expect(delayedReportSentence(t('2024-01-01T00:00:00Z'), null)).toMatch(/is expected: .*Chrome Root Program Policy 1\.4\/1\.5 \(SHOULD/);
  });
  // IRG 3.x: a separate report when the deadline "will not be or has not been met", within 72 hours.
  it('while certificates are pending in the last 24 hours, the report may already be due; not earlier, not after', () => {
    const deadline = t('2025-06-06T00:00:00Z');
    expect(delayedReportMayBeDueSentence(deadline, deadline - DAY, 2)).toMatch(
      /may already be due: CCADB Incident Reporting Guidelines 3\.0\+ \(MUST\); MRSP 3\.0\+ section 6\.1\.3 \(MUST\).*"will not be or has not been met", within 72 hours/,
    );
    expect(delayedReportMayBeDueSentence(deadline, deadline - DAY - 1, 2)).toBe('');
    expect(delayedReportMayBeDueSentence(deadline, deadline, 2)).toBe('');
    expect(delayedReportMayBeDueSentence(deadline, deadline - HOUR, 0)).toBe('');
    // Before the IRG (2023-02-15) no text asked for it.
    expect(delayedReportMayBeDueSentence(t('2023-01-01T00:00:00Z'), t('2022-12-31T12:00:00Z'), 1)).toBe('');
  });
});

describe('item 9: fixed-date deadlines', () => {
  // BR 2.2.5 (SC097) 7.1.3.2.1: "Prior to 2026-09-15, the CA SHALL revoke any unexpired Subordinate CA Certificate
  // that contains RSASSA-PKCS1-v1_5 with SHA-1 within the Certificate."
  const k = kase({ kind: 'tls-subca', reason: 'misissuance', reportedAt: t('2026-02-25T00:00:00Z'), rule: 'sha1-subca-sunset' });
  it('the date is the deadline, whatever the report time, with the usual verdicts', () => {
    expect(computeDeadline(k)).toMatchObject({
      deadline: t('2026-09-15T00:00:00Z'),
      shouldDeadline: null,
      rule: { id: 'sha1-subca-sunset' },
    });
    expect(computeDeadline({ ...k, reportedAt: t('2026-09-14T00:00:00Z') }).deadline).toBe(t('2026-09-15T00:00:00Z'));
    const c = cert({ notAfter: t('2030-01-01T00:00:00Z') });
    expect(judge(k, c, [revoked(t('2026-09-14T01:00:00Z'), t('2026-09-14T00:00:00Z'), 4)], t('2026-10-01T00:00:00Z')).verdict).toBe(
      'revoked_on_time',
    );
    expect(judge(k, c, [revoked(t('2026-09-15T01:00:00Z'), t('2026-09-15T00:00:01Z'), 4)], t('2026-10-01T00:00:00Z'))).toMatchObject({
      verdict: 'revoked_late',
      lateBySeconds: 1,
    });
    // Expired before the date: moot, as any certificate expired before its deadline ("unexpired").
    expect(judge(k, cert({ notAfter: t('2026-09-01T00:00:00Z') }), [], t('2026-10-01T00:00:00Z')).verdict).toBe('expired');
  });
  it('--rule supplies the kind, reason and report time, and refuses another kind', () => {
    const rule = fixedDateRule('sha1-subca-sunset');
    expect(factsWithRule(rule, {})).toEqual({ kind: 'tls-subca', reason: 'misissuance', reportedAt: '2026-02-25T00:00:00Z' });
    expect(() => factsWithRule(rule, { kind: 'smime-subca' })).toThrow(
      '--rule sha1-subca-sunset applies to --kind tls-subca, not smime-subca',
    );
    expect(() => factsWithRule(null, { reason: 'misuse' })).toThrow(/--reported-at is required/);
    expect(
      formatDeadlineReport(deadlineReport('tls-subca', 'misissuance', t('2026-02-25T00:00:00Z'), { rule: 'sha1-subca-sunset' }), 0),
    ).toMatch(/^MUST deadline {4}2026-09-15T00:00:00Z \(a fixed date\)/);
  });
});

describe('item 12: a notice counted from the notice, the BR deadline from the report; the earlier applies', () => {
  const reportedAt = t('2025-12-01T00:00:00Z');
  const base = { kind: 'tls-subscriber' as const, reason: 'misissuance' as const, reportedAt, notifiedBy: 'microsoft' };
  it('a notice two days after the report: 24 hours from it end before the 5 days from the report', () => {
    expect(computeDeadline({ ...base, notifiedAt: t('2025-12-03T00:00:00Z') })).toMatchObject({
      deadline: t('2025-12-04T00:00:00Z'),
      clockStart: t('2025-12-03T00:00:00Z'),
      rule: { id: 'microsoft-2.1.13' },
    });
  });
  it('a notice four and a half days after the report: the BR deadline ends first and binds', () => {
    expect(computeDeadline({ ...base, notifiedAt: t('2025-12-05T12:00:00Z') })).toMatchObject({
      deadline: t('2025-12-06T00:00:00Z'),
      rule: { id: 'tls-sc6-5d' },
    });
  });
  it('the program row is the one in force at the notice: a report before 2025-11-21, a notice after', () => {
    const r = computeDeadline({ ...base, reportedAt: t('2025-11-20T00:00:00Z'), notifiedAt: t('2025-11-21T00:00:00Z') });
    expect(r).toMatchObject({ deadline: t('2025-11-22T00:00:00Z'), rule: { id: 'microsoft-2.1.13' } });
  });
  it('--notified-at needs --notified-by and may not precede the report', () => {
    expect(() => checkNotifiedAt(reportedAt, null, reportedAt)).toThrow(/needs --notified-by/);
    expect(() => checkNotifiedAt(reportedAt - 1, 'microsoft', reportedAt)).toThrow(/before --reported-at/);
    expect(checkNotifiedAt(null, 'microsoft', reportedAt)).toBeNull();
  });
  it('Microsoft 2.1.13 keeps 2025-11-21; its note says the no-exception text appeared on 2025-10-10', () => {
    expect(PROGRAM_RULES[0]).toMatchObject({ effectiveFrom: '2025-11-21T00:00:00Z' });
    expect(PROGRAM_RULES[0]!.note).toMatch(/2025-10-10/);
  });
});

describe('item 13: a Mozilla notice row, dormant like PR 622', () => {
  // mozilla/pkipolicy issue 300 (2026-05-26), a draft for MRSP 3.2: "revoke within 24 hours or request an exception".
  it('is written down with no date, and changes no deadline at any date', () => {
    const row = PROGRAM_RULES.find((r) => r.party === 'mozilla')!;
    expect(row).toMatchObject({ id: 'mozilla-notice-draft', mustHours: 24, effectiveFrom: null });
    expect(row.note).toMatch(/revokes within 24 hours or requests an exception/);
    const at = t('2099-01-01T00:00:00Z');
    const base = { kind: 'tls-subscriber' as const, reason: 'misissuance' as const, reportedAt: at };
    expect(computeDeadline({ ...base, notifiedBy: 'mozilla' })).toEqual(computeDeadline(base));
    expect(() => checkNotifiedAt(null, null, at)).not.toThrow();
  });
  it('turned on with a date, it would apply like any program row', () => {
    const row = PROGRAM_RULES.find((r) => r.party === 'mozilla')! as { effectiveFrom: string | null };
    row.effectiveFrom = '2026-07-01T00:00:00Z';
    try {
      const r = computeDeadline({
        kind: 'tls-subscriber',
        reason: 'misissuance',
        reportedAt: t('2026-08-01T00:00:00Z'),
        notifiedBy: 'mozilla',
      });
      expect(r).toMatchObject({ deadline: t('2026-08-02T00:00:00Z'), rule: { id: 'mozilla-notice-draft' } });
    } finally {
      row.effectiveFrom = null;
    }
  });
});

describe('item 10: the preliminary report (BR 4.9.5, from BR 1.6.1)', () => {
  // "Within 24 hours after receiving a Certificate Problem Report, the CA SHALL investigate the facts and circumstances
  // related to a Certificate Problem Report and provide a preliminary report on its findings to both the Subscriber
  // and the entity who filed the Certificate Problem Report." Sectigo, bug 1994454: reports unanswered 2025-09-18 to 2025-10-13.
  const reportedAt = t('2025-09-18T00:00:00Z');
  const prelim = (at: number | null, over: Partial<Case> = {}) =>
    judge(kase({ reason: 'misissuance', reportedAt, preliminaryReportAt: at, ...over }), cert(), [], reportedAt + 30 * DAY).findings.filter(
      (f) => f.code === 'preliminary_report_late',
    );
  it('24 hours to the millisecond: on time; a millisecond later, a violation quoting the text', () => {
    expect(prelim(reportedAt + DAY)).toEqual([]);
    const [f] = prelim(reportedAt + DAY + 1);
    expect(f).toMatchObject({
      severity: 'violation',
      message: expect.stringContaining('"Within 24 hours after receiving a Certificate Problem Report'),
    });
    expect(prelim(t('2025-10-13T00:00:00Z'))[0]!.message).toContain('came at 2025-10-13T00:00:00Z, after 2025-09-19T00:00:00Z');
  });
  it('not given: nothing (revwatch cannot tell a report was owed); not for S/MIME, code signing, fixed-date rules, nor before 2018-10-14', () => {
    expect(prelim(null)).toEqual([]);
    expect(prelim(reportedAt + 2 * DAY, { kind: 'smime-subscriber' })).toEqual([]);
    expect(prelim(reportedAt + 2 * DAY, { kind: 'codesigning-subscriber' })).toEqual([]);
    expect(prelim(reportedAt + 2 * DAY, { kind: 'tls-subca', rule: 'sha1-subca-sunset' })).toEqual([]);
    const old = t('2018-10-13T00:00:00Z');
    expect(prelim(old + 2 * DAY, { reportedAt: old })).toEqual([]);
    expect(prelim(reportedAt + 2 * DAY, { kind: 'tls-subca', reason: 'misuse' })).toHaveLength(1);
  });
});
