/**
 * When a check may take a sweep's reading of a CRL (check/sweep-readings.ts),
 * and the sweep index's answers as stored (the `sweepIndex` label survives
 * packing and keeps the answer apart from a check's reading of the same CRL).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SweepReadings } from '../../../src/check/sweep-readings.js';
import type { Observation } from '../../../src/domain.js';
import type { RawCertificate } from '../../../src/pki/raw-certificate.js';
import type { CrlJob, SourceState } from '../../../src/ports/index.js';
import { emptySweepState, type SweepState, type UrlState } from '../../../src/ports/revocation-index.js';
import type { StoredObservation } from '../../../src/ports/store.js';
import { mergeEvidence, observationKey, EMPTY_RECORD } from '../../../src/rules/evidence.js';
import { fromObservation, observationSortKey, packRecord, toObservation, unpackRecord } from '../../../src/store/layout.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');
const MIN = 60_000;
const URL_A = 'http://crl.example/a.crl';
const crl = Buffer.from('30 03 02 01 01'.replace(/ /g, ''), 'hex');
const crlSha = createHash('sha256').update(crl).digest('hex');
const issuer = { spki: new Uint8Array([1, 2, 3]) } as unknown as RawCertificate;
const issuerKey = createHash('sha256').update(issuer.spki).digest('hex');

const urlState = (over: Partial<UrlState> = {}): UrlState => ({
  url: URL_A,
  etag: '"e"',
  lastModified: null,
  sha256: crlSha,
  crlNumber: '1',
  thisUpdate: T0 - 60 * MIN,
  nextUpdate: T0 + 7 * 24 * 60 * MIN,
  bytes: crl.length,
  issuerKey,
  lastRead: { sweep: 3, at: T0 - 5 * MIN },
  lastChangedAt: T0 - 5 * MIN,
  lastGoodAt: T0 - 5 * MIN,
  fault: null,
  ...over,
});
const stateWith = (u: UrlState): SweepState => ({ ...emptySweepState(), urls: { [u.url]: u } });
const job = (previousAt: number | null = null, conditional: Partial<SourceState> | null = null): CrlJob => ({
  kind: 'crl',
  url: URL_A,
  issuerSha256: 'ee'.repeat(32),
  certificatesAreCAs: false,
  conditional: conditional as SourceState | null,
  certificates: [
    {
      sha256: 'ab'.repeat(32),
      serial: '01',
      notAfter: T0 + 90 * 24 * 60 * MIN,
      caseIds: ['c'],
      previous: previousAt === null ? null : { summary: 'good', observedAt: previousAt },
      sources: 1,
    },
  ],
});
const archive = (bytes: Uint8Array | null = crl) => ({ readCrl: (sha: string) => (sha === crlSha ? bytes : null) });

describe('a check takes a sweep reading', () => {
  it('serves the archived bytes, dated when the sweep read them, once every condition holds', async () => {
    const readings = new SweepReadings(stateWith(urlState()), archive(), { now: T0 });
    const r = readings.reading(job(T0 - 60 * MIN), issuer);
    expect(r).toMatchObject({ url: URL_A, sweep: 3, at: T0 - 5 * MIN, sha256: crlSha });
    const fetched = await r!.fetcher.fetch({ url: URL_A, maxBytes: 1 << 20 });
    expect(fetched).toMatchObject({ ok: true, notModified: false, sha256: crlSha });
    expect(fetched.ok && Buffer.from(fetched.body).equals(crl)).toBe(true);
    expect(readings.reused).toBe(1);
  });

  it.each([
    [
      'a fault since the last good read',
      stateWith(urlState({ fault: { kind: 'timeout', message: 't', since: T0, sinceSweep: 3, lastAt: T0 } })),
      archive(),
      {},
    ],
    ['another issuer key', stateWith(urlState({ issuerKey: 'ff'.repeat(32) })), archive(), {}],
    ['older than the window', stateWith(urlState({ lastRead: { sweep: 3, at: T0 - 16 * MIN } })), archive(), {}],
    ['a window of 0', stateWith(urlState()), archive(), { windowMs: 0 }],
    ['a snapshot no longer archived', stateWith(urlState()), archive(null), {}],
    ['archived bytes that do not hash to the snapshot', stateWith(urlState()), archive(Buffer.from('3000', 'hex')), {}],
    ['a read in the future', stateWith(urlState({ lastRead: { sweep: 3, at: T0 + MIN } })), archive(), {}],
  ])('not with %s', (_why, state, arch, options) => {
    const readings = new SweepReadings(state, arch, { now: T0, ...options });
    expect(readings.reading(job(), issuer)).toBeNull();
    expect(readings.reused).toBe(0);
  });

  it('not when the check already holds a newer answer from that CRL', () => {
    const readings = new SweepReadings(stateWith(urlState()), archive(), { now: T0 });
    expect(readings.reading(job(T0 - 2 * MIN), issuer)).toBeNull();
    expect(readings.reading(job(null, { lastCheckedAt: T0 - 5 * MIN }), issuer)).toBeNull();
  });

  it("the sweep run in the same process is taken whatever its age; another sweep's only within the window", () => {
    const old = stateWith(urlState({ lastRead: { sweep: 3, at: T0 - 90 * MIN } }));
    expect(new SweepReadings(old, archive(), { now: T0, sweep: 3, windowMs: 0 }).reading(job(), issuer)).not.toBeNull();
    expect(new SweepReadings(old, archive(), { now: T0, sweep: 4 }).reading(job(), issuer)).toBeNull();
  });
});

describe("the sweep index's answers as stored", () => {
  const fromCheck: StoredObservation = {
    sha256Cert: 'ab'.repeat(32),
    observedAt: T0,
    source: { kind: 'crl', url: URL_A },
    status: 'revoked',
    revocationTime: T0 - 60 * MIN,
    reasonCode: 1,
    thisUpdate: T0 - 30 * MIN,
    nextUpdate: T0 + 60 * MIN,
    producedAt: null,
    crlNumber: '7',
    signer: 'crl-issuer',
    sha256: crlSha,
    error: null,
  };
  const fromIndex: StoredObservation = {
    ...fromCheck,
    sweepIndex: { firstSeenSweep: 2, notListedSweep: 1, notListedAt: T0 - 4 * 60 * MIN },
  };

  it('keeps its label through an item and a packed record, apart from the same answer read by a check', () => {
    expect((toObservation(fromObservation(fromIndex)) as Observation).sweepIndex).toEqual(fromIndex.sweepIndex);
    expect((toObservation(fromObservation(fromCheck)) as Observation).sweepIndex).toBeUndefined();
    expect(observationSortKey(fromIndex)).not.toBe(observationSortKey(fromCheck));
    expect(observationKey(fromIndex)).not.toBe(observationKey(fromCheck));
    const record = mergeEvidence(EMPTY_RECORD, [fromIndex], T0 + 90 * 24 * 60 * MIN);
    const back = unpackRecord(packRecord(record));
    expect(back).toEqual(record);
    expect(Object.values(back.sources).flat()[0]!.sweepIndex).toEqual(fromIndex.sweepIndex);
  });
});
