/**
 * Reason codes end to end (issue 30, items 1-4): CRLs built in the test by
 * the project's own writer (src/local-ca/crl-writer.ts, through LocalCa.crl;
 * `openssl ca` cannot write privilegeWithdrawn), signed by an in-process CA,
 * served on 127.0.0.1, read by the built CLI: `track`, `check`,
 * `status --json`. Each case is judged on the revocation date the CRL gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalCa } from '../../src/local-ca/ca.js';
import type { CrlEntryInput } from '../../src/local-ca/crl-writer.js';
import type { CertKind, ReasonSlug } from '../../src/domain.js';
import { FaultServer } from '../helpers/fault-server.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface StatusCert {
  serial: string;
  deadline: string | null;
  verdict: string;
  revocationTime: string | null;
  reasonCode: string | null;
  findings: { code: string; severity: string; message: string }[];
}

/** One case per certificate: what it is, when it was reported, and the CRL entry the CA published for it. */
interface Scenario {
  readonly id: string;
  readonly kind: CertKind;
  readonly reason: ReasonSlug;
  readonly reportedAt: number;
  /** null: not on the CRL. */
  readonly revokedAt: number | null;
  readonly code: number | null;
  /** A fixed-date rule the case names (`track --rule`, item 9): no --reason, --kind or --reported-at given. */
  readonly rule?: string;
  /** More `track` options. */
  readonly extra?: readonly string[];
}

describe('reason codes end to end, on CRLs built in the test', { timeout: 180_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-reasons-'));
  const now = Date.now();
  // Minutes: the CLI reads --reported-at to the second and the CRL carries whole seconds.
  const recent = Math.floor((now - 3 * HOUR) / 60_000) * 60_000;
  const scenarios: Scenario[] = [
    // Item 1: BR 1.7.1 7.2.2 "The CRLReason indicated MUST NOT be unspecified (0)", from 2020-09-30,
    // before the reason-code duty of 2022-10-01; and after it, with the mismatch it hides.
    {
      id: 'unspecified-2021',
      kind: 'tls-subscriber',
      reason: 'subscriber-request',
      reportedAt: t('2021-03-01T00:00:00Z'),
      revokedAt: t('2021-03-01T01:00:00Z'),
      code: 0,
    },
    {
      id: 'unspecified-2024',
      kind: 'tls-subscriber',
      reason: 'key-compromise',
      reportedAt: t('2024-05-01T00:00:00Z'),
      revokedAt: t('2024-05-01T01:00:00Z'),
      code: 0,
    },
    // Item 2: certificateHold "MUST NOT be included" (BR 7.2.2); a suspension is not a revocation.
    {
      id: 'held-overdue',
      kind: 'tls-subscriber',
      reason: 'misissuance',
      reportedAt: t('2025-06-01T00:00:00Z'),
      revokedAt: t('2025-06-01T01:00:00Z'),
      code: 6,
    },
    { id: 'held-pending', kind: 'tls-subscriber', reason: 'misissuance', reportedAt: recent, revokedAt: recent + HOUR, code: 6 },
    // Item 3: MRSP 2.8 6.1.1, 2022-10-01 to 2023-07-15: privilegeWithdrawn for an unauthorized request.
    {
      id: 'mrsp-superseded',
      kind: 'tls-subscriber',
      reason: 'unauthorized-request',
      reportedAt: t('2022-11-01T00:00:00Z'),
      revokedAt: t('2022-11-01T01:00:00Z'),
      code: 4,
    },
    {
      id: 'mrsp-privilege-withdrawn',
      kind: 'tls-subscriber',
      reason: 'unauthorized-request',
      reportedAt: t('2022-11-01T00:00:00Z'),
      revokedAt: t('2022-11-01T01:00:00Z'),
      code: 9,
    },
    // Item 4: S/MIME BR 1.0.0 7.2.2 "this CRL entry extension SHALL be present" (2023-09-01); CCADB Policy 2.0 3.2 (2025-07-15).
    {
      id: 'smime-subca-2024',
      kind: 'smime-subca',
      reason: 'misuse',
      reportedAt: t('2024-02-01T00:00:00Z'),
      revokedAt: t('2024-02-02T00:00:00Z'),
      code: null,
    },
    {
      id: 'cs-subca-2025',
      kind: 'codesigning-subca',
      reason: 'misuse',
      reportedAt: t('2025-08-01T00:00:00Z'),
      revokedAt: t('2025-08-02T00:00:00Z'),
      code: null,
    },
    {
      id: 'cs-subca-before',
      kind: 'codesigning-subca',
      reason: 'misuse',
      reportedAt: t('2025-07-13T00:00:00Z'),
      revokedAt: t('2025-07-14T00:00:00Z'),
      code: null,
    },
    // Item 9: BR 2.2.5 (SC097) 7.1.3.2.1 "Prior to 2026-09-15, the CA SHALL revoke any unexpired Subordinate CA
    // Certificate that contains RSASSA-PKCS1-v1_5 with SHA-1": a date, not hours after a report.
    {
      id: 'sha1-revoked',
      kind: 'tls-subca',
      reason: 'misissuance',
      reportedAt: t('2026-02-25T00:00:00Z'),
      revokedAt: t('2026-09-01T00:00:00Z'),
      code: 4,
      rule: 'sha1-subca-sunset',
    },
    {
      id: 'sha1-unrevoked',
      kind: 'tls-subca',
      reason: 'misissuance',
      reportedAt: t('2026-02-25T00:00:00Z'),
      revokedAt: null,
      code: null,
      rule: 'sha1-subca-sunset',
    },
    // Item 10: BR 4.9.5 "Within 24 hours after receiving a Certificate Problem Report ... provide a preliminary report".
    {
      id: 'preliminary-late',
      kind: 'tls-subscriber',
      reason: 'misissuance',
      reportedAt: t('2025-09-18T00:00:00Z'),
      revokedAt: t('2025-09-19T00:00:00Z'),
      code: 4,
      extra: ['--preliminary-report-at', '2025-10-13T00:00:00Z'],
    },
    // `none`: the CA sent no preliminary report (Sectigo, bug 1994454: reports unanswered 2025-09-18 to 2025-10-13).
    {
      id: 'preliminary-none',
      kind: 'tls-subscriber',
      reason: 'misissuance',
      reportedAt: t('2025-09-18T00:00:00Z'),
      revokedAt: t('2025-09-19T00:00:00Z'),
      code: 4,
      extra: ['--preliminary-report-at', 'none'],
    },
  ];
  const serials = new Map<string, string>();
  let issuerPath = '';

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; signal: string | null; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: `${e.stderr}${e.signal ? ` (killed by ${e.signal})` : ''}` };
    }
  };

  beforeAll(async () => {
    await http.start();
    const ca = await LocalCa.create({ name: 'Reason Codes CA', notBefore: t('2019-01-01T00:00:00Z'), notAfter: now + 800 * DAY });
    issuerPath = join(home, 'issuer.der');
    writeFileSync(issuerPath, ca.info.der);
    const entries: CrlEntryInput[] = [];
    for (const s of scenarios) {
      const issued = await ca.issue({
        subject: `CN=${s.id}.example`,
        notBefore: t('2020-01-01T00:00:00Z'),
        notAfter: now + 365 * DAY,
        crlUrls: [http.url('/ca.crl')],
        isCA: s.kind.endsWith('-subca'),
      });
      writeFileSync(join(home, `${s.id}.der`), issued.info.der);
      serials.set(s.id, issued.info.serial);
      if (s.revokedAt !== null) entries.push({ serial: issued.info.serial, revocationDate: s.revokedAt, reasonCode: s.code });
    }
    const thisUpdate = Math.floor((now - HOUR) / 1000) * 1000;
    const crl = ca.crl({ entries, thisUpdate, nextUpdate: thisUpdate + 7 * DAY, crlNumber: 7 });
    http.route('/ca.crl', (_req, res) => res.end(crl));
  });

  afterAll(async () => {
    await http.stop();
  });

  let byCase = new Map<string, StatusCert>();

  it('tracks each case, checks the CRL once, and status --json judges every certificate', async () => {
    for (const s of scenarios) {
      const facts = s.rule ? ['--rule', s.rule] : ['--kind', s.kind, '--reason', s.reason, '--reported-at', iso(s.reportedAt)];
      const r = await cli('track', join(home, `${s.id}.der`), '--issuer', issuerPath, '--case', s.id, ...facts, ...(s.extra ?? []));
      expect(r.code, r.stderr).toBe(0);
    }
    const check = await cli('--json', 'check');
    expect(check.code, check.stderr).toBe(0);
    const status = await cli('--json', 'status');
    expect(status.code, status.stderr).toBe(0);
    const cases = (JSON.parse(status.stdout) as { cases: { id: string; certificates: StatusCert[] }[] }).cases;
    byCase = new Map(cases.map((c) => [c.id, c.certificates[0]!]));
    expect([...byCase.keys()].sort()).toEqual(scenarios.map((s) => s.id).sort());
    for (const s of scenarios) expect(byCase.get(s.id)!.serial).toBe(serials.get(s.id));
  });

  const reasonFindings = (id: string): [string, string][] =>
    byCase
      .get(id)!
      .findings.filter((f) => f.code.startsWith('reason_code'))
      .map((f) => [f.code, f.severity]);

  it('item 1: an explicit unspecified (0) is a violation from 2020-09-30, and does not hide the mismatch', () => {
    expect(byCase.get('unspecified-2021')).toMatchObject({ verdict: 'revoked_on_time', reasonCode: 'unspecified' });
    expect(reasonFindings('unspecified-2021')).toEqual([['reason_code_invalid', 'violation']]);
    expect(reasonFindings('unspecified-2024')).toEqual([
      ['reason_code_invalid', 'violation'],
      ['reason_code_mismatch', 'violation'],
    ]);
  });

  it('item 2: certificateHold is a violation and the certificate is not revoked: overdue past its deadline, pending before', () => {
    expect(byCase.get('held-overdue')).toMatchObject({ verdict: 'overdue', revocationTime: null });
    expect(reasonFindings('held-overdue')).toEqual([
      ['reason_code_invalid', 'violation'],
      ['reason_code_mismatch', 'violation'],
    ]);
    expect(byCase.get('held-overdue')!.findings.find((f) => f.code === 'reason_code_invalid')!.message).toMatch(
      /certificateHold.*BR 4\.9\.13.*not counted as revoked/,
    );
    expect(byCase.get('held-pending')).toMatchObject({ verdict: 'pending', revocationTime: null });
    expect(reasonFindings('held-pending')).toContainEqual(['reason_code_invalid', 'violation']);
  });

  it('item 3: under MRSP 2.8 6.1.1 an unauthorized request calls for privilegeWithdrawn, with MUST', () => {
    expect(reasonFindings('mrsp-superseded')).toEqual([['reason_code_mismatch', 'violation']]);
    expect(byCase.get('mrsp-superseded')!.findings[0]!.message).toMatch(/privilegeWithdrawn.*MRSP 2\.8 section 6\.1\.1/);
    expect(byCase.get('mrsp-privilege-withdrawn')).toMatchObject({ verdict: 'revoked_on_time', reasonCode: 'privilegeWithdrawn' });
    expect(reasonFindings('mrsp-privilege-withdrawn')).toEqual([]);
  });

  it('item 9: a fixed-date rule judges the sub-CA by 2026-09-15, not by hours after a report', () => {
    expect(byCase.get('sha1-revoked')).toMatchObject({ deadline: '2026-09-15T00:00:00Z', verdict: 'revoked_on_time' });
    // Unrevoked after the date: overdue (the test runs after 2026-09-15; before it, pending).
    expect(byCase.get('sha1-unrevoked')).toMatchObject({
      deadline: '2026-09-15T00:00:00Z',
      verdict: now > t('2026-09-15T00:00:00Z') ? 'overdue' : 'pending',
    });
  });

  it('item 10: a preliminary report given after 24 hours is a violation', () => {
    expect(byCase.get('preliminary-late')!.findings.filter((f) => f.code === 'preliminary_report_late')).toEqual([
      expect.objectContaining({
        severity: 'violation',
        message: expect.stringMatching(/came at 2025-10-13T00:00:00Z, after 2025-09-19T00:00:00Z/),
      }),
    ]);
    expect(byCase.get('preliminary-late')!.verdict).toBe('revoked_on_time');
    // `--preliminary-report-at none`, past the 24 hours: the same violation.
    expect(byCase.get('preliminary-none')!.findings.filter((f) => f.code === 'preliminary_report_late')).toEqual([
      expect.objectContaining({
        severity: 'violation',
        message: expect.stringMatching(
          /^no preliminary report was sent \(track --preliminary-report-at none\), and it was due by 2025-09-19T00:00:00Z/,
        ),
      }),
    ]);
  });

  it('item 4: S/MIME sub-CAs from 2023-09-01 and code-signing sub-CAs from 2025-07-15 must carry a reasonCode', () => {
    expect(reasonFindings('smime-subca-2024')).toEqual([['reason_code_missing', 'violation']]);
    expect(byCase.get('smime-subca-2024')!.findings[0]!.message).toMatch(
      /S\/MIME BR 7\.2\.2.*Microsoft Trusted Root Program Requirements 2\.1\.7/,
    );
    expect(reasonFindings('cs-subca-2025')).toEqual([['reason_code_missing', 'violation']]);
    expect(byCase.get('cs-subca-2025')!.findings[0]!.message).toMatch(/CCADB Policy 2\.0 section 3\.2/);
    expect(reasonFindings('cs-subca-before')).toEqual([]);
  });
});

describe('fixed-date rules at track', () => {
  it('refuses a --rule with another kind, and an unknown --rule, with one line', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-rule-'));
    const cli = async (...args: string[]) =>
      exec('node', ['bin/revwatch.js', '--home', home, ...args], { encoding: 'utf8' }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
    const wrongKind = await cli('track', 'nothing.pem', '--rule', 'sha1-subca-sunset', '--kind', 'tls-subscriber');
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr.trim()).toBe('revwatch: --rule sha1-subca-sunset applies to --kind tls-subca, not tls-subscriber');
    const unknown = await cli('track', 'nothing.pem', '--rule', 'sha3-sunset');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('revwatch: unknown --rule "sha3-sunset"; accepted: sha1-subca-sunset');
    const early = await cli(
      'track',
      'nothing.pem',
      '--reason',
      'misissuance',
      '--reported-at',
      '2025-09-18T00:00:00Z',
      '--preliminary-report-at',
      '2025-09-17T00:00:00Z',
    );
    expect(early.stderr.trim()).toBe(
      'revwatch: --preliminary-report-at is before --reported-at: a preliminary report answers the problem report',
    );
    const none = await cli('track', 'nothing.pem', '--reason', 'misissuance');
    expect(none.stderr.trim()).toBe('revwatch: --reported-at is required (unless --rule names a fixed-date rule)');
  });
});
