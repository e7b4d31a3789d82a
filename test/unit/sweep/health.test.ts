/**
 * The CRL-health checks the end-to-end test cannot make openssl produce (a
 * delta CRL, an indirect CRL, SHA-1 after the sunset), and the folding of
 * findings: opened, seen again, resolved only by a read that could judge them.
 */
import { describe, expect, it } from 'vitest';
import type { CrlScan } from '../../../src/pki/crl.js';
import type { HealthFindingState } from '../../../src/ports/revocation-index.js';
import { contentFindings, foldHealth, timeFindings, type CrlContext } from '../../../src/sweep/health.js';

const DAY = 86_400_000;
const AT = Date.UTC(2026, 11, 1);
const ctx: CrlContext = { url: 'http://crl.example/a.crl', shard: false, forCaCertificates: false };
const scan = (over: Partial<CrlScan> = {}): CrlScan => ({
  version: 2,
  issuer: 'CN=x',
  issuerName: new Uint8Array(),
  signatureAlgorithm: 'ecdsa-with-SHA256',
  thisUpdate: AT - DAY,
  nextUpdate: AT + 6 * DAY,
  crlNumber: '5',
  deltaCrlIndicator: null,
  issuingDistributionPoint: null,
  entries: 0,
  matches: new Map(),
  duplicates: new Map(),
  signatureValid: true,
  usable: true,
  problems: [],
  ...over,
});
const codes = (hits: { code: string }[]): string[] => hits.map((h) => h.code).sort();

describe('CRL health checks', () => {
  it('a healthy full CRL has no finding', () => {
    expect(contentFindings(ctx, scan(), [])).toEqual([]);
    expect(timeFindings(ctx, scan(), AT)).toEqual([]);
  });

  it('finds a delta CRL, an indirect CRL and SHA-1 from 2026-09-15 (not before)', () => {
    expect(codes(contentFindings(ctx, scan({ deltaCrlIndicator: '4' }), []))).toEqual(['delta_crl']);
    const indirect = scan({ problems: [{ code: 'indirect-crl-unsupported', message: 'x' }] });
    expect(codes(contentFindings(ctx, indirect, []))).toEqual(['indirect_crl']);
    const sha1 = { signatureAlgorithm: 'sha1WithRSAEncryption' };
    expect(
      codes(contentFindings(ctx, scan({ ...sha1, thisUpdate: Date.UTC(2026, 8, 15), nextUpdate: Date.UTC(2026, 8, 22) }), [])),
    ).toEqual(['crl_signed_sha1']);
    expect(contentFindings(ctx, scan({ ...sha1, thisUpdate: Date.UTC(2026, 8, 14, 23), nextUpdate: Date.UTC(2026, 8, 21) }), [])).toEqual(
      [],
    );
  });

  it('gives CRLs of CA certificates 12 months, and holds their entries to a reasonCode', () => {
    const caCtx = { ...ctx, forCaCertificates: true };
    const yearly = scan({ thisUpdate: AT - 100 * DAY, nextUpdate: AT + 200 * DAY });
    expect(contentFindings(caCtx, yearly, [{ serial: '01', revocationDate: AT - DAY, reasonCode: 4 }])).toEqual([]);
    expect(timeFindings(caCtx, yearly, AT)).toEqual([]);
    expect(codes(contentFindings(ctx, yearly, []))).toEqual(['crl_validity_too_long']);
    expect(codes(timeFindings(ctx, yearly, AT))).toEqual(['crl_not_reissued']);
    expect(codes(contentFindings(caCtx, yearly, [{ serial: '02', revocationDate: AT - DAY, reasonCode: null }]))).toEqual([
      'ca_entry_without_reason',
    ]);
  });

  it('opens, sees again and resolves findings only on a read that could judge them', () => {
    const health: Record<string, HealthFindingState> = {};
    const target = { url: ctx.url, owner: 'O' };
    foldHealth(
      health,
      target,
      [
        { code: 'idp_not_critical', subject: '', message: 'm' },
        { code: 'crl_unreachable', subject: '', message: 'down' },
      ],
      new Set(['reach', 'verify', 'time', 'content', 'event']),
      1,
    );
    // A fetch failure judges reachability only: the content finding stays open, untouched.
    foldHealth(health, target, [{ code: 'crl_unreachable', subject: '', message: 'down' }], new Set(['reach']), 2);
    expect(Object.values(health).map((f) => [f.code, f.firstSeen, f.lastSeen, f.resolvedAt])).toEqual([
      ['idp_not_critical', 1, 1, null],
      ['crl_unreachable', 1, 2, null],
    ]);
    // A 304 resolves reachability and carries the content finding of the CRL it confirms.
    foldHealth(health, target, [], new Set(['reach', 'verify', 'time']), 3);
    expect(Object.values(health).map((f) => [f.code, f.lastSeen, f.resolvedAt])).toEqual([
      ['idp_not_critical', 3, null],
      ['crl_unreachable', 2, 3],
    ]);
    // A changed CRL without the problem resolves it; the same problem later is a new finding.
    foldHealth(health, target, [], new Set(['reach', 'verify', 'time', 'content', 'event']), 4);
    expect(Object.values(health).every((f) => f.resolvedAt !== null)).toBe(true);
    foldHealth(health, target, [{ code: 'crl_unreachable', subject: '', message: 'down again' }], new Set(['reach']), 5);
    expect(Object.values(health).find((f) => f.code === 'crl_unreachable')).toMatchObject({ firstSeen: 5, resolvedAt: null });
  });
});
