/**
 * `lookup --json` writes each answer straight from the index's records
 * (PreparedLookup.answersJson), not by stringifying answer objects: its text
 * must be JSON.stringify's of the answer, for every shape an answer takes.
 */
import { describe, expect, it } from 'vitest';
import { emptySweepState, type IndexRecord, type SnapshotRef, type SweepState } from '../../../src/ports/revocation-index.js';
import { prepareLookup, type LookupIndex, type LookupQuery } from '../../../src/sweep/lookup.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 4, 1);
const KNOWN = 'aa'.repeat(32);
const UNNAMED = 'bb'.repeat(32);
const URL_A = 'http://crl.example/a.crl';
const URL_B = 'http://crl.example/"b" é.crl';

const snapshot = (url: string, sweep: number, crlNumber: string | null): SnapshotRef => ({
  url,
  sweep,
  at: T0 + sweep * HOUR + 60_000,
  sha256: `${sweep}${url.length}`.padEnd(64, 'c'),
  thisUpdate: T0 + sweep * HOUR - HOUR,
  nextUpdate: null,
  crlNumber,
  entries: 3,
});

const record = (issuerKey: string, serial: string, partial: Partial<IndexRecord>): IndexRecord => ({
  issuerKey,
  serial,
  listings: [],
  claims: [],
  ...partial,
});

/** Records of both issuers: listed, removed, listed on two URLs, claims with no reason and an invalid one. */
const RECORDS: readonly IndexRecord[] = [
  record(KNOWN, '01', {
    listings: [{ url: URL_A, firstSeen: 1, notListedAt: null, removed: null }],
    claims: [{ url: URL_A, sweep: 1, revocationDate: T0 - HOUR, reasonCode: 1 }],
  }),
  record(KNOWN, '02', {
    listings: [
      { url: URL_A, firstSeen: 2, notListedAt: 1, removed: 3 },
      { url: URL_B, firstSeen: 3, notListedAt: 2, removed: null },
    ],
    claims: [
      { url: URL_A, sweep: 2, revocationDate: T0, reasonCode: null },
      { url: URL_B, sweep: 3, revocationDate: T0 + 1234, reasonCode: 99 },
    ],
  }),
  record(UNNAMED, '02', {
    listings: [{ url: URL_B, firstSeen: 4, notListedAt: 3, removed: 4 }],
    claims: [{ url: URL_B, sweep: 4, revocationDate: T0 + HOUR, reasonCode: 4 }],
  }),
];

const index: LookupIndex = {
  records: async (issuerKey, serials) =>
    new Map(RECORDS.filter((r) => r.issuerKey === issuerKey && serials.includes(r.serial)).map((r) => [r.serial, r])),
  issuerKeys: async () => [KNOWN, UNNAMED],
  snapshots: async (url) => (url === URL_A ? [snapshot(url, 1, '7'), snapshot(url, 3, null)] : [snapshot(url, 3, '12')]),
  segments: async () => [],
  commit: async () => {},
  addSnapshot: async () => {},
};

const state: SweepState = {
  ...emptySweepState(),
  sweeps: [1, 2, 3, 4].map((sweep) => ({
    sweep,
    startedAt: T0 + sweep * HOUR,
    finishedAt: T0 + sweep * HOUR + 600_000,
    urls: 2,
    changed: 1,
    unchanged: 1,
    faults: 0,
  })),
  // One issuer named (with characters JSON escapes), the other unknown to the state: "issuer": null.
  issuers: { [KNOWN]: { issuerKey: KNOWN, subjectKeyId: null, caSha256: ['dd'.repeat(32)], name: 'CA "Ünïcode"\n', owner: 'O\\wner' } },
};

describe('lookup --json', () => {
  it('writes every answer as the same text as the answer stringified', async () => {
    const queries: LookupQuery[] = [
      { input: '01', serial: '01', issuerKeys: null },
      { input: '02', serial: '02', issuerKeys: null },
      // Asked twice, under an issuer given twice and one without the serial, from a file named with quotes.
      { input: 'certs/"leaf" ü.pem', serial: '02', issuerKeys: [UNNAMED, KNOWN, UNNAMED] },
      { input: '02', serial: '02', issuerKeys: [KNOWN] },
      { input: 'ff', serial: 'ff', issuerKeys: null },
      { input: '01', serial: '01', issuerKeys: [UNNAMED] },
    ];
    const prepared = await prepareLookup(index, state, queries);
    const answers = [...prepared.answers()];
    expect(answers.map((a) => [a.known, a.listed, a.issuers.length])).toEqual([
      [true, true, 1],
      [true, true, 2],
      [true, true, 3],
      [true, true, 1],
      [false, false, 0],
      [false, false, 0],
    ]);
    expect(answers[2]!.issuers.map((i) => i.issuer)).toEqual([null, state.issuers[KNOWN], null]);
    expect([...prepared.answersJson()]).toEqual(answers.map((a) => JSON.stringify(a)));
  });

  it('an answer whose every listing was removed is known and not listed, in both forms', async () => {
    const prepared = await prepareLookup(index, state, [{ input: '02', serial: '02', issuerKeys: [UNNAMED] }]);
    const [answer] = [...prepared.answers()];
    expect(answer).toMatchObject({ known: true, listed: false });
    expect([...prepared.answersJson()]).toEqual([JSON.stringify(answer)]);
  });
});
