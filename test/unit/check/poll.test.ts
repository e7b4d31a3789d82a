import { describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/domain.js';
import { EMPTY_RECORD, mergeEvidence } from '../../../src/rules/evidence.js';
import { DAY_MS, pollDue } from '../../../src/check/poll.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const CRL = 'http://crl.example/1.crl';
const OCSP = 'http://ocsp.example';
const cert = (notAfter: number) => ({ notAfter, crlUrls: [CRL], ocspUrls: [OCSP] });
const obs = (kind: 'crl' | 'ocsp', at: number, status: Observation['status'], revocationTime: number | null = null): Observation => ({
  observedAt: at,
  source: { kind, url: kind === 'crl' ? CRL : OCSP },
  status,
  revocationTime,
  reasonCode: null,
  thisUpdate: at - HOUR,
  nextUpdate: at + DAY_MS,
  producedAt: kind === 'ocsp' ? at - HOUR : null,
  error: status === 'error' ? { kind: 'timeout', message: 'timed out' } : null,
});
const record = (notAfter: number, ...list: Observation[]) => mergeEvidence(EMPTY_RECORD, list, notAfter);

describe('pollDue: when the planner next asks about a certificate', () => {
  const live = NOW + 30 * DAY_MS;
  it.each<[string, number, Observation[], number | null]>([
    ['never answered: now', live, [], 0],
    ['answered good: every run', live, [obs('crl', NOW - HOUR, 'good'), obs('ocsp', NOW - HOUR, 'good')], 0],
    ['failing source: every run', live, [obs('crl', NOW - HOUR, 'error')], 0],
    [
      'revoked: a day after the older of its sources last answered',
      live,
      [obs('crl', NOW - 2 * HOUR, 'revoked', NOW - 3 * HOUR), obs('ocsp', NOW - 5 * HOUR, 'good')],
      NOW - 5 * HOUR + DAY_MS,
    ],
    ['expired, never answered: now', NOW - DAY_MS, [], 0],
    [
      'expired, answered only before expiry: now, once more',
      NOW - DAY_MS,
      [obs('crl', NOW - 2 * DAY_MS, 'good'), obs('ocsp', NOW - 2 * DAY_MS, 'good')],
      0,
    ],
    [
      'expired, one source answered since expiry, the other only failed: now',
      NOW - DAY_MS,
      [obs('crl', NOW - HOUR, 'good'), obs('ocsp', NOW - HOUR, 'error')],
      0,
    ],
    [
      'expired, every source answered since expiry: judged, out of the index',
      NOW - DAY_MS,
      [obs('crl', NOW - HOUR, 'good'), obs('ocsp', NOW - HOUR, 'unknown')],
      null,
    ],
    [
      'expired after a revocation in its life: out of the index',
      NOW - DAY_MS,
      [obs('crl', NOW - 3 * DAY_MS, 'revoked', NOW - 4 * DAY_MS)],
      null,
    ],
  ])('%s', (_name, notAfter, list, due) => {
    expect(pollDue(cert(notAfter), record(notAfter, ...list), NOW)).toBe(due);
  });

  it('a revocation observed exactly at expiry still counts as an answer since expiry (boundary)', () => {
    const notAfter = NOW - DAY_MS;
    expect(pollDue(cert(notAfter), record(notAfter, obs('crl', notAfter, 'good'), obs('ocsp', notAfter, 'good')), NOW)).toBeNull();
    expect(pollDue(cert(notAfter), record(notAfter, obs('crl', notAfter - 1, 'good'), obs('ocsp', notAfter, 'good')), NOW)).toBe(0);
  });
});
