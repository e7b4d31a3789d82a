/**
 * Issue 30 item 9, the parts read from the certificates and CRLs themselves:
 * BR 2.2.5 (Ballot SC097) 7.1.3.2.1: "Prior to 2026-09-15, the CA SHALL revoke
 * any unexpired Subordinate CA Certificate that contains RSASSA-PKCS1-v1_5
 * with SHA-1 within the Certificate"; and a CRL signed with SHA-1 after that
 * date is a finding (BR 7.1.3.2.1: "Until 2026-09-15, the CA MAY use the
 * following signature algorithm and encoding if all of the following
 * conditions are met: … If used within a CRL, such as the signatureAlgorithm
 * field of a CertificateList …": RSASSA-PKCS1-v1_5 with SHA-1). Judged on a CA that really signs with
 * sha1WithRSAEncryption, through track, check and status.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import type { Case, Observation, TrackedCertificate } from '../../../src/domain.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import { trackCertificates } from '../../../src/track/track.js';
import { runCheck } from '../../../src/check/run-check.js';
import { buildStatus } from '../../../src/status/status.js';
import { fromObservation, toObservation } from '../../../src/store/layout.js';
import { judge } from '../../../src/rules/verdict.js';
import { CannedCaFetcher } from '../../helpers/canned-ca.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SUNSET = t('2026-09-15T00:00:00Z');
const TEXT =
  '"Prior to 2026-09-15, the CA SHALL revoke any unexpired Subordinate CA Certificate that contains RSASSA-PKCS1-v1_5 with SHA-1"';

const subCaCase = (over: Partial<Case> = {}): Case => ({
  id: 'sha1',
  title: 'a SHA-1 sub-CA',
  reportedAt: t('2026-03-01T00:00:00Z'),
  reason: 'misissuance',
  kind: 'tls-subca',
  ...over,
});
const cert = (over: Partial<TrackedCertificate> = {}): TrackedCertificate => ({
  sha256: 'cd'.repeat(32),
  serial: '0c',
  subject: 'CN=Old Sub CA',
  issuer: 'CN=Old Root',
  notBefore: t('2016-01-01T00:00:00Z'),
  notAfter: t('2031-01-01T00:00:00Z'),
  precertificate: false,
  ocspUrls: [],
  crlUrls: ['http://crl.example/root.crl'],
  signatureAlgorithm: 'sha1WithRSAEncryption',
  ...over,
});
const crlAnswer = (thisUpdate: number, signatureAlgorithm: string | null, over: Partial<Observation> = {}): Observation => ({
  observedAt: thisUpdate + HOUR,
  source: { kind: 'crl', url: 'http://crl.example/root.crl' },
  status: 'good',
  revocationTime: null,
  reasonCode: null,
  thisUpdate,
  nextUpdate: thisUpdate + 7 * DAY,
  producedAt: null,
  ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
  ...over,
});
const codes = (findings: readonly { code: string; severity: string }[], code: string): string[] =>
  findings.filter((f) => f.code === code).map((f) => f.severity);

describe('a tracked SHA-1 subordinate CA is found without naming the rule (sha1_subca_sunset)', () => {
  it('info while 2026-09-15 is ahead (naming `track --rule sha1-subca-sunset`), a violation from then on, quoting the text', () => {
    const before = judge(subCaCase(), cert(), [], SUNSET - 1).findings.find((f) => f.code === 'sha1_subca_sunset')!;
    expect(before).toMatchObject({ severity: 'info', message: expect.stringContaining('track --rule sha1-subca-sunset') });
    expect(before.message).toContain(TEXT);
    const after = judge(subCaCase(), cert(), [], SUNSET).findings.find((f) => f.code === 'sha1_subca_sunset')!;
    expect(after).toMatchObject({ severity: 'violation', message: expect.stringContaining('not revoked, past 2026-09-15T00:00:00Z') });
    expect(after.message).toContain('BR 7.1.3.2.1 (BR 2.2.5 (SC097))');
  });
  it('"Prior to": revoked a millisecond before the date is nothing; revoked at the date is a violation', () => {
    const revokedAt = (at: number) => [
      crlAnswer(at + HOUR, 'sha256WithRSAEncryption', { status: 'revoked', revocationTime: at, reasonCode: 4 }),
    ];
    expect(codes(judge(subCaCase(), cert(), revokedAt(SUNSET - 1), SUNSET + 30 * DAY).findings, 'sha1_subca_sunset')).toEqual([]);
    const late = judge(subCaCase(), cert(), revokedAt(SUNSET), SUNSET + 30 * DAY).findings.find((f) => f.code === 'sha1_subca_sunset')!;
    expect(late).toMatchObject({ severity: 'violation', message: expect.stringContaining('revoked only at 2026-09-15T00:00:00Z') });
  });
  it('not for an expired ("unexpired") certificate, another algorithm, a subscriber case, a record without the algorithm, nor a case already under the rule', () => {
    const none = (k: Case, c: TrackedCertificate) => codes(judge(k, c, [], SUNSET + DAY).findings, 'sha1_subca_sunset');
    expect(none(subCaCase(), cert({ notAfter: SUNSET - 1 }))).toEqual([]);
    expect(none(subCaCase(), cert({ signatureAlgorithm: 'sha256WithRSAEncryption' }))).toEqual([]);
    expect(none(subCaCase(), cert({ signatureAlgorithm: 'ecdsa-with-SHA1' }))).toEqual([]);
    expect(none(subCaCase(), cert({ signatureAlgorithm: undefined }))).toEqual([]);
    expect(none(subCaCase({ kind: 'tls-subscriber' }), cert())).toEqual([]);
    // Under the rule, the date is the case's deadline already: the verdict says it (overdue), not a second finding.
    const ruled = judge(subCaCase({ rule: 'sha1-subca-sunset' }), cert(), [crlAnswer(SUNSET, 'sha256WithRSAEncryption')], SUNSET + DAY);
    expect(ruled.verdict).toBe('overdue');
    expect(codes(ruled.findings, 'sha1_subca_sunset')).toEqual([]);
  });
});

describe('a CRL signed with SHA-1 on or after 2026-09-15 (crl_signed_sha1, BR 7.1.3.2.1)', () => {
  it('a violation for a CRL issued at the date, none for one issued a millisecond before, nor for SHA-256 or an unrecorded algorithm', () => {
    const found = (answers: Observation[]) => codes(judge(subCaCase(), cert(), answers, SUNSET + 30 * DAY).findings, 'crl_signed_sha1');
    expect(found([crlAnswer(SUNSET - 1, 'sha1WithRSAEncryption')])).toEqual([]);
    expect(found([crlAnswer(SUNSET, 'sha1WithRSAEncryption')])).toEqual(['violation']);
    expect(found([crlAnswer(SUNSET + DAY, 'sha256WithRSAEncryption')])).toEqual([]);
    expect(found([crlAnswer(SUNSET + DAY, null)])).toEqual([]);
    // The SHA-1 CRL is kept in the evidence record though later SHA-256 CRLs replace it as the latest answer.
    expect(found([crlAnswer(SUNSET + DAY, 'sha1WithRSAEncryption'), crlAnswer(SUNSET + 9 * DAY, 'sha256WithRSAEncryption')])).toEqual([
      'violation',
    ]);
  });
  it('the algorithm survives the stored answer; an answer stored without it reads back without it', () => {
    const withAlg = crlAnswer(SUNSET, 'sha1WithRSAEncryption');
    expect(toObservation(fromObservation(withAlg))).toMatchObject({ signatureAlgorithm: 'sha1WithRSAEncryption' });
    const old = toObservation(fromObservation(crlAnswer(SUNSET, null)));
    expect('signatureAlgorithm' in old).toBe(false);
  });
});

describe('end to end: a root signing with sha1WithRSAEncryption, its SHA-1 sub-CA tracked, check and status after 2026-09-15', () => {
  let status: Awaited<ReturnType<typeof buildStatus>>;
  let stored: TrackedCertificate;
  beforeAll(async () => {
    const now = SUNSET + 2 * DAY;
    const clock = new FakeClock(now);
    const store = memoryStore();
    const root = await LocalCa.create({
      name: 'SHA-1 Root',
      keyType: 'rsa-2048-sha1',
      notBefore: t('2016-01-01T00:00:00Z'),
      notAfter: t('2036-01-01T00:00:00Z'),
    });
    const fetcher = new CannedCaFetcher(root, () => clock.now().getTime());
    const sub = await root.issue({
      subject: 'CN=Old Sub CA',
      isCA: true,
      notBefore: t('2016-01-01T00:00:00Z'),
      notAfter: t('2031-01-01T00:00:00Z'),
      crlUrls: [fetcher.crlUrl],
    });
    fetcher.issued(sub.info.serial);
    const kase = subCaCase({ reportedAt: t('2026-03-01T00:00:00Z') });
    await trackCertificates({ store, clock }, kase, [{ certificate: sub.info, bundle: [], source: 'test' }], [root.info]);
    await runCheck({ store, fetcher, clock });
    status = await buildStatus(store, now);
    stored = (await store.loadCase(kase.id))[0]!.cert;
  });
  it('track keeps the certificate signature algorithm', () => {
    expect(stored.signatureAlgorithm).toBe('sha1WithRSAEncryption');
  });
  it('status finds the unrevoked sub-CA and the SHA-1 CRL, both violations', () => {
    const [c] = status.cases[0]!.certificates;
    expect(c!.sources.map((s) => [s.kind, s.status])).toEqual([['crl', 'good']]);
    expect(codes(c!.findings, 'sha1_subca_sunset')).toEqual(['violation']);
    expect(codes(c!.findings, 'crl_signed_sha1')).toEqual(['violation']);
    expect(c!.findings.find((f) => f.code === 'crl_signed_sha1')!.message).toContain(
      'is signed with sha1WithRSAEncryption; BR 7.1.3.2.1 (BR 2.2.5 (SC097)) allows RSASSA-PKCS1-v1_5 with SHA-1 "Until 2026-09-15"',
    );
  });
});
