/**
 * The polling summary (store/layout.ts): read back through the planner's resolver (check/poll-summary.ts), it
 * gives the same latest answers, the same "revoked in its life" and the same verdicts as the record it was
 * written from, and its index item stays within the 200 bytes an unchanged re-check may read per certificate.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Case } from '../../../src/domain.js';
import { EMPTY_RECORD, evidenceOf, latestAnswers, mergeEvidence, recordObservations } from '../../../src/rules/evidence.js';
import { verdictAt, verdictOf } from '../../../src/rules/verdict.js';
import { previousAnswer } from '../../../src/check/jobs.js';
import { PollSummaryResolver } from '../../../src/check/poll-summary.js';
import { certificateItem, itemSize, readPollSummary } from '../../../src/store/layout.js';
import { arbAnswer as answerFrom, CRL_URL, goodAnswer, HOUR, OCSP_URL, storedCertificate, T0 } from '../../helpers/packed-item-fixtures.js';

const kase: Case = { id: 'bench', title: 'Bench', reportedAt: T0 - 20 * HOUR, reason: 'key-compromise', kind: 'tls-subscriber' };
// A serial of 15 bytes, as large CAs issue: the 200-byte bound below is measured with it.
const cert = storedCertificate('bench', { serial: '10000000000000000000000000fd34', subject: 'CN=leaf.example', issuer: 'CN=Example CA' });
const arbAnswer = answerFrom(
  [
    { kind: 'crl', url: CRL_URL },
    { kind: 'ocsp', url: OCSP_URL },
  ],
  'as recorded',
);

describe('the polling summary', () => {
  it('resolves to the latest answers, revocation in life and verdicts of its record', () => {
    fc.assert(
      fc.property(fc.array(arbAnswer, { maxLength: 8 }), fc.integer({ min: 0, max: 5 }), (answers, rev) => {
        const record = mergeEvidence(EMPTY_RECORD, answers, cert.notAfter);
        const item = certificateItem(cert, record, rev, 0, false, kase);
        const summary = readPollSummary(item)!;
        const resolver = new PollSummaryResolver(new Map());
        resolver.learn(cert);
        const got = resolver.resolve(summary, true)!;
        expect(got.rev).toBe(rev);
        expect(got.cert.serial).toBe(cert.serial);
        expect(got.cert.notAfter).toBe(cert.notAfter);
        expect(got.cert.issuerSha256).toBe(cert.issuerSha256);
        expect(got.cert.crlUrls).toEqual(cert.crlUrls);
        expect(got.cert.ocspUrls).toEqual(cert.ocspUrls);
        const want = latestAnswers(record);
        for (const key of ['crl http://crl.example/1.crl', 'ocsp http://ocsp.example']) {
          const w = want.get(key);
          const g = got.facts.get(key);
          expect(previousAnswer(g?.latest ?? undefined)).toEqual(previousAnswer(w?.latest ?? undefined));
          expect(g?.latest?.status ?? null).toBe(w?.latest?.status ?? null);
          expect(g?.latestVerified?.observedAt ?? null).toBe(w?.latestVerified?.observedAt ?? null);
          expect(g?.latestDefinite?.status ?? null).toBe(w?.latestDefinite?.status ?? null);
        }
        const effective = evidenceOf(cert, recordObservations(record)).effectiveRevocationTime;
        expect(got.revokedInLife).toBe(effective !== null && effective <= cert.notAfter);
        for (const at of [T0, T0 + 30 * HOUR, T0 + 100 * HOUR, cert.notAfter - 1, cert.notAfter, cert.notAfter + HOUR])
          expect(verdictAt(got.verdicts!, cert.notAfter, at)).toBe(verdictOf(kase, cert, recordObservations(record), at));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the index item of a certificate with one good CRL answer within 200 bytes', () => {
    const crlOnly = { ...cert, ocspUrls: [] };
    const record = mergeEvidence(
      EMPTY_RECORD,
      [{ ...goodAnswer('crl', cert.crlUrls[0]!), crlNumber: '7', signer: 'ca', sha256: null }],
      cert.notAfter,
    );
    const item = certificateItem(crlOnly, record, 3, T0);
    const { pk, sk, pk2, pd, ps } = certificateItem(crlOnly, record, 3, T0, false, kase);
    const projected = { pk, sk, pk2, pd, ps };
    expect(itemSize(projected)).toBeLessThanOrEqual(200);
    // The whole item, as the index that projects every attribute held it, is several times that.
    expect(itemSize(item)).toBeGreaterThan(3 * itemSize(projected));
  });

  it('is not resolved when a source or the issuer is unknown, or the verdicts are needed and missing', () => {
    const record = mergeEvidence(EMPTY_RECORD, [], cert.notAfter);
    const withCase = readPollSummary(certificateItem(cert, record, 0, 0, false, kase))!;
    const without = readPollSummary(certificateItem(cert, record, 0, 0))!;
    expect(new PollSummaryResolver(new Map()).resolve(withCase, false)).toBeNull();
    const resolver = new PollSummaryResolver(new Map());
    resolver.learn(cert);
    expect(resolver.resolve(without, true)).toBeNull();
    expect(resolver.resolve(without, false)).not.toBeNull();
    expect(readPollSummary({ pk: 'CASE#x', sk: `CERT#${cert.sha256}` })).toBeNull();
  });
});
