/**
 * One contract, two stores: the DynamoDB adapter (on an embedded dynalite)
 * and the in-memory store the unit tests use must agree on every semantic
 * the core relies on, including what each operation costs in items read and
 * written.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Case, Observation } from '../../src/domain.js';
import { EMPTY_RECORD, mergeEvidence, type EvidenceRecord } from '../../src/rules/evidence.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { memoryStore } from '../../src/adapters/memory/memory-table.js';
import { StoreError, type RecordWrite, type Store, type StoredCertificate, type StoredObservation } from '../../src/ports/store.js';
import type { NoticeLedger } from '../../src/ports/index.js';
import type { OpenRun, RunLedger } from '../../src/ports/index.js';

type FullStore = Store & NoticeLedger & RunLedger & { readonly itemsRead: number };

const T0 = Date.parse('2026-05-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const factories: [string, () => Promise<{ store: FullStore; close: () => Promise<void> }>][] = [
  ['memory', async () => ({ store: memoryStore(), close: async () => undefined })],
  [
    'dynamodb (dynalite)',
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'revwatch-contract-'));
      const open = await openEmbeddedStore(home);
      return {
        store: open.store,
        close: async () => {
          await open.close();
          rmSync(home, { recursive: true, force: true });
        },
      };
    },
  ],
];

const kase = (id: string, over: Partial<Case> = {}): Case => ({
  id,
  title: `case ${id}`,
  reportedAt: T0,
  reason: 'key-compromise',
  kind: 'tls-subscriber',
  ...over,
});

/** A sha256-shaped id whose first hex digit (the polling shard) is `shard`. */
const sha = (shard: string, n: number): string => `${shard}${n.toString(16).padStart(63, '0')}`;

const cert = (caseId: string, sha256: string, over: Partial<StoredCertificate> = {}): StoredCertificate => ({
  caseId,
  sha256,
  serial: sha256.slice(0, 16),
  subject: 'CN=leaf.example',
  issuer: 'CN=Test CA',
  notBefore: T0 - 10 * DAY,
  notAfter: T0 + 80 * DAY,
  precertificate: false,
  ocspUrls: ['http://127.0.0.1:1/ocsp'],
  crlUrls: ['http://127.0.0.1:1/ca.crl'],
  issuerSha256: 'f'.repeat(64),
  isCA: false,
  trackedAt: T0,
  crtshId: null,
  ...over,
});

const observation = (sha256Cert: string, at: number, over: Partial<StoredObservation> = {}): StoredObservation => ({
  sha256Cert,
  observedAt: at,
  source: { kind: 'crl', url: 'http://127.0.0.1:1/ca.crl' },
  status: 'good',
  revocationTime: null,
  reasonCode: null,
  thisUpdate: at - HOUR,
  nextUpdate: at + DAY,
  producedAt: null,
  ...over,
});

const recordOf = (observations: readonly Observation[], notAfter = T0 + 80 * DAY): EvidenceRecord =>
  mergeEvidence(EMPTY_RECORD, observations, notAfter);

describe.each(factories)('store contract: %s', (_name, make) => {
  let store: FullStore;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ store, close } = await make());
  });
  afterEach(async () => {
    await close();
  });

  /** What `fn` cost in items read and written. */
  const cost = async (fn: () => Promise<unknown>): Promise<{ read: number; written: number }> => {
    const read = store.itemsRead;
    const written = store.itemsWritten;
    await fn();
    return { read: store.itemsRead - read, written: store.itemsWritten - written };
  };

  describe('cases and certificates', () => {
    it('creates a case once (put-if-absent: the first facts stay), lists cases by id and counts their certificates', async () => {
      expect(await store.createCase(kase('b'), T0)).toBe(true);
      expect(await store.createCase(kase('b', { title: 'other facts' }), T0 + 1)).toBe(false);
      expect(await store.createCase(kase('a', { notify: ['x@example.org'], confirmedAt: null }), T0)).toBe(true);
      expect(await store.getCase('b')).toEqual(kase('b'));
      expect(await store.getCase('a')).toEqual(kase('a', { notify: ['x@example.org'], confirmedAt: null }));
      expect(await store.getCase('zz')).toBeNull();
      expect((await store.listCases()).map((c) => c.id)).toEqual(['a', 'b']);
      expect(await store.certificateCounts()).toEqual(
        new Map([
          ['a', 0],
          ['b', 0],
        ]),
      );
    });

    it('visits every certificate of a case once, one visit at a time, across pages and key ranges', async () => {
      await store.createCase(kase('v'), T0);
      await store.createCase(kase('w'), T0);
      // ~6 KB subjects: 250 certificates under one first digit make two 1 MB pages of that range (read ahead),
      // and 150 more spread over all 16.
      const shas = [
        ...Array.from({ length: 250 }, (_, i) => sha('7', i)),
        ...Array.from({ length: 150 }, (_, i) => sha('0123456789abcdef'[i % 16]!, 1000 + i)),
      ];
      await store.addCertificates(shas.map((s) => cert('v', s, { subject: `CN=${'x'.repeat(6000)}` })));
      await store.addCertificates([cert('w', sha('0', 999))]);
      const seen: string[] = [];
      let inside = 0;
      let overlapped = false;
      await store.visitCase('v', async (cc) => {
        if (++inside > 1) overlapped = true;
        await new Promise((r) => setImmediate(r));
        seen.push(cc.cert.sha256);
        inside--;
      });
      expect(overlapped).toBe(false);
      expect(seen.length).toBe(400);
      expect([...seen].sort()).toEqual([...shas].sort());
    });

    it('visits nothing in a case without certificates', async () => {
      await store.createCase(kase('e'), T0);
      let visits = 0;
      await store.visitCase('e', () => void visits++);
      expect(visits).toBe(0);
    });

    it('stops visiting at the first visit that fails, and says why', async () => {
      await store.createCase(kase('v'), T0);
      await store.addCertificates(Array.from({ length: 64 }, (_, i) => cert('v', sha('0123456789abcdef'[i % 16]!, i))));
      let visits = 0;
      await expect(
        store.visitCase('v', () => {
          if (++visits === 5) throw new Error('judging failed');
        }),
      ).rejects.toThrow('judging failed');
      expect(visits).toBe(5);
    });

    it('adds only certificates a case does not track yet, and keeps their count on the case', async () => {
      await store.createCase(kase('c'), T0);
      const [x, y, z] = [sha('1', 1), sha('2', 2), sha('3', 3)];
      expect(await store.addCertificates([cert('c', x), cert('c', y)])).toBe(2);
      expect(await store.addCertificates([cert('c', y), cert('c', z), cert('c', z)])).toBe(1);
      expect(await store.certificateCounts()).toEqual(new Map([['c', 3]]));
      const loaded = await store.loadCase('c');
      expect(loaded.map((cc) => cc.cert.sha256)).toEqual([x, y, z]);
      // New: empty record, revision 0, due at once.
      expect(loaded[0]).toEqual({ cert: cert('c', x), record: EMPTY_RECORD, rev: 0, pollDue: 0 });
      expect(await store.getCaseCertificate('c', y)).toEqual({ cert: cert('c', y), record: EMPTY_RECORD, rev: 0, pollDue: 0 });
      expect(await store.getCaseCertificate('c', sha('9', 9))).toBeNull();
      expect(await store.getCaseCertificate('other', x)).toBeNull();
      // In a batch: the records that exist (in any order), missing ones left out.
      const batch = await store.getCaseCertificates([
        { caseId: 'c', sha256: z },
        { caseId: 'c', sha256: sha('9', 9) },
        { caseId: 'c', sha256: x },
      ]);
      expect(batch.map((cc) => cc.cert.sha256).sort()).toEqual([x, z]);
      expect(await store.getCaseCertificates([])).toEqual([]);
    });

    it('starts a certificate another case already tracks from that case’s evidence record', async () => {
      await store.createCase(kase('first'), T0);
      await store.createCase(kase('second'), T0);
      const s = sha('a', 1);
      await store.addCertificates([cert('first', s)]);
      const record = recordOf([observation(s, T0 + HOUR)]);
      await store.writeRecords([{ cert: cert('first', s), record, rev: 0, pollDue: T0 + 2 * HOUR, soleWriter: true }]);
      await store.addCertificates([cert('second', s, { trackedAt: T0 + DAY })]);
      expect(await store.getCaseCertificate('second', s)).toEqual({
        cert: cert('second', s, { trackedAt: T0 + DAY }),
        record,
        rev: 0,
        pollDue: 0,
      });
    });

    it('reads more records than one batch request takes (BatchGetItem: 100 keys)', async () => {
      await store.createCase(kase('big'), T0);
      const shas = Array.from({ length: 130 }, (_, i) => sha('b', i));
      expect(await store.addCertificates(shas.map((s) => cert('big', s)))).toBe(130);
      const got = await store.getCaseCertificates(shas.map((sha256) => ({ caseId: 'big', sha256 })));
      expect(got.map((cc) => cc.cert.sha256).sort()).toEqual(shas);
    });

    it('refuses certificates for a case that does not exist, with a StoreError naming the case', async () => {
      const err = await store.addCertificates([cert('ghost', sha('1', 1))]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).name).toBe('StoreError');
      expect((err as Error).message).toMatch(/case ghost/);
    });

    it('stores DER by hash, idempotently', async () => {
      const der = Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05);
      await store.putCertificateDers([{ sha256: 'd'.repeat(64), der }]);
      await store.putCertificateDers([{ sha256: 'd'.repeat(64), der }]);
      der[4] = 0x07; // the caller's buffer is not the stored copy
      expect(await store.getCertificateDer('d'.repeat(64))).toEqual(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05));
      expect(await store.getCertificateDer('e'.repeat(64))).toBeNull();
    });

    it('reads many DERs at once, more than one batch request takes, leaving out the missing ones', async () => {
      const shas = Array.from({ length: 250 }, (_, i) => i.toString(16).padStart(64, '0'));
      await store.putCertificateDers(shas.map((sha, i) => ({ sha256: sha, der: Uint8Array.of(0x30, 0x02, 0x02, i % 256) })));
      const got = await store.getCertificateDers([...shas, 'f'.repeat(64), shas[7]!]);
      expect(got.size).toBe(250);
      expect(got.get(shas[201]!)).toEqual(Uint8Array.of(0x30, 0x02, 0x02, 201));
      expect(got.has('f'.repeat(64))).toBe(false);
      expect((await store.getCertificateDers([])).size).toBe(0);
    });
  });

  describe('evidence records and the polling index', () => {
    const setup = async (): Promise<string[]> => {
      await store.createCase(kase('p'), T0);
      await store.createCase(kase('q'), T0);
      const shas = [sha('0', 1), sha('0', 2), sha('7', 3), sha('f', 4)];
      await store.addCertificates(shas.map((s) => cert('p', s)));
      await store.addCertificates([cert('q', shas[0]!)]);
      return shas;
    };

    it('writes a record conditionally on its revision; a stale revision loses and is handed back', async () => {
      const [s] = await setup();
      const c = cert('p', s!);
      const r1 = recordOf([observation(s!, T0 + HOUR)]);
      const r2 = recordOf([
        observation(s!, T0 + HOUR),
        observation(s!, T0 + 2 * HOUR, { status: 'revoked', revocationTime: T0, reasonCode: 1 }),
      ]);
      const first: RecordWrite = { cert: c, record: r1, rev: 0, pollDue: 0, soleWriter: false };
      expect(await store.writeRecords([first])).toEqual([]);
      // Another writer read revision 0 too: it loses, and gets its write back to merge and retry.
      const stale: RecordWrite = { cert: c, record: r2, rev: 0, pollDue: 0, soleWriter: false };
      expect(await store.writeRecords([stale])).toEqual([stale]);
      expect(await store.getCaseCertificate('p', s!)).toMatchObject({ record: r1, rev: 1 });
      expect(await store.writeRecords([{ ...stale, rev: 1, pollDue: T0 + DAY }])).toEqual([]);
      expect(await store.getCaseCertificate('p', s!)).toEqual({ cert: c, record: r2, rev: 2, pollDue: T0 + DAY });
      // A record that is not tracked in that case cannot be written conditionally.
      const untracked: RecordWrite = { cert: cert('q', s!.replace(/^./, '9')), record: r1, rev: 0, pollDue: 0, soleWriter: false };
      expect(await store.writeRecords([untracked])).toEqual([untracked]);
    });

    it('writes a sole writer’s record without a condition, as revision + 1', async () => {
      const [s] = await setup();
      const c = cert('p', s!);
      const r = recordOf([observation(s!, T0 + HOUR)]);
      expect(await store.writeRecords([{ cert: c, record: r, rev: 5, pollDue: null, soleWriter: true }])).toEqual([]);
      expect(await store.getCaseCertificate('p', s!)).toEqual({ cert: c, record: r, rev: 6, pollDue: null });
    });

    it('lists what is due at `now` from the sparse index: shard by shard, by due time, then case and certificate', async () => {
      const shas = await setup();
      const [a, b, c, d] = shas as [string, string, string, string];
      const due = async (s: string, caseId: string, at: number | null, rev = 0): Promise<void> => {
        expect(await store.setPollDue(caseId, s, rev, at)).toBe(true);
      };
      await due(a, 'p', T0 + 3 * HOUR);
      await due(a, 'q', T0 + HOUR);
      await due(b, 'p', T0 + 2 * HOUR);
      await due(c, 'p', T0); // due exactly at `now` counts
      await due(d, 'p', T0 + 5 * HOUR);
      const ids = async (now: number): Promise<string[]> =>
        (await store.listPollDue(now)).map(
          (cc) => `${cc.cert.caseId}:${cc.cert.sha256.slice(0, 1)}${cc.cert.sha256.slice(-1)}@${(cc.pollDue! - T0) / HOUR}`,
        );
      expect(await ids(T0 + 3 * HOUR)).toEqual(['q:01@1', 'p:02@2', 'p:01@3', 'p:73@0']);
      expect(await ids(T0 - 1)).toEqual([]);
      // Out of the index: never listed, and loadCase says so.
      await due(d, 'p', null);
      expect(await ids(T0 + 100 * DAY)).toEqual(['q:01@1', 'p:02@2', 'p:01@3', 'p:73@0']);
      expect((await store.getCaseCertificate('p', d))!.pollDue).toBeNull();
      // A record written with a due time goes back in; one written with null leaves.
      await store.writeRecords([{ cert: cert('p', d), record: EMPTY_RECORD, rev: 0, pollDue: T0 + HOUR, soleWriter: false }]);
      await store.writeRecords([{ cert: cert('p', a), record: EMPTY_RECORD, rev: 0, pollDue: null, soleWriter: false }]);
      expect(await ids(T0 + 100 * DAY)).toEqual(['q:01@1', 'p:02@2', 'p:73@0', 'p:f4@1']);
      // Visited shard by shard, in the same order, every case of a certificate in the same shard.
      const shards: string[][] = [];
      await store.visitPollDue(T0 + 100 * DAY, async (shard) => {
        await new Promise((r) => setImmediate(r));
        shards.push(
          shard.map((cc) => `${cc.cert.caseId}:${cc.cert.sha256.slice(0, 1)}${cc.cert.sha256.slice(-1)}@${(cc.pollDue! - T0) / HOUR}`),
        );
      });
      expect(shards.flat()).toEqual(await ids(T0 + 100 * DAY));
      expect(shards.filter((s) => s.length > 0)).toEqual([['q:01@1', 'p:02@2'], ['p:73@0'], ['p:f4@1']]);
    });

    it('moves a record in or out of the index only at the revision it was read at', async () => {
      const [s] = await setup();
      expect(await store.setPollDue('p', s!, 1, null)).toBe(false);
      expect(await store.setPollDue('p', sha('e', 1), 0, null)).toBe(false);
      expect(await store.setPollDue('p', s!, 0, T0 + DAY)).toBe(true);
      expect(await store.getCaseCertificate('p', s!)).toMatchObject({ rev: 0, pollDue: T0 + DAY });
    });
  });

  describe('observations, snapshots and sources', () => {
    it('appends observations keyed by content: a repeat is stored once; listed by time with raw bytes kept', async () => {
      const s = sha('4', 4);
      const o1 = observation(s, T0 + 2 * HOUR, {
        source: { kind: 'ocsp', url: 'http://127.0.0.1:1/ocsp' },
        producedAt: T0 + HOUR,
        raw: Uint8Array.of(1, 2, 3),
      });
      const o2 = observation(s, T0 + HOUR, { crlNumber: '7', sha256: 'c'.repeat(64) });
      expect(await store.recordObservations([o1, o2, o1])).toBe(3);
      expect(await store.recordObservations([o2])).toBe(1);
      const listed = await store.listObservations(s);
      expect(listed).toEqual([
        { ...o2, signer: null, error: null, raw: null },
        { ...o1, crlNumber: null, signer: null, sha256: null, error: null },
      ]);
      expect(await store.listObservations(sha('4', 5))).toEqual([]);
    });

    it('keeps one snapshot per CRL (put-if-absent), listed by thisUpdate', async () => {
      const url = 'http://127.0.0.1:1/ca.crl';
      const snap = (thisUpdate: number, h: string) => ({
        url,
        observedAt: thisUpdate + 60_000,
        crlNumber: '1',
        thisUpdate,
        nextUpdate: thisUpdate + DAY,
        sha256: h.repeat(64),
        bytes: 100,
        entries: 2,
      });
      expect(await store.putCrlSnapshot(snap(T0 + HOUR, 'b'))).toBe(true);
      expect(await store.putCrlSnapshot({ ...snap(T0 + HOUR, 'b'), observedAt: T0 + 5 * HOUR })).toBe(false);
      expect(await store.putCrlSnapshot(snap(T0, 'a'))).toBe(true);
      expect(await store.listCrlSnapshots(url)).toEqual([snap(T0, 'a'), snap(T0 + HOUR, 'b')]);
      expect(await store.listCrlSnapshots('http://127.0.0.1:1/other.crl')).toEqual([]);
    });

    it('keeps the latest state per source', async () => {
      const state = {
        kind: 'crl' as const,
        url: 'http://127.0.0.1:1/ca.crl',
        lastCheckedAt: T0,
        ok: true,
        error: null,
        etag: '"x"',
        crlNumber: '3',
      };
      expect(
        await store.putSourceStates([
          state,
          { kind: 'ocsp', url: 'http://127.0.0.1:1/ocsp', lastCheckedAt: T0, ok: false, error: 'timeout' },
        ]),
      ).toBe(2);
      await store.putSourceStates([{ ...state, lastCheckedAt: T0 + HOUR }]);
      const states = await store.getSourceStates();
      expect([...states.keys()]).toEqual(['crl http://127.0.0.1:1/ca.crl', 'ocsp http://127.0.0.1:1/ocsp']);
      expect(states.get('crl http://127.0.0.1:1/ca.crl')).toEqual({ ...state, lastCheckedAt: T0 + HOUR });
    });
  });

  describe('runs, digests and changed-case marks', () => {
    it('lists runs newest first, up to a limit', async () => {
      const run = (n: number) => ({
        runId: `r${n}`,
        startedAt: T0 + n * HOUR,
        finishedAt: T0 + n * HOUR + 1000,
        certificates: n,
        sourcesFailed: 0,
        observationsWritten: n,
        itemsWritten: n + 1,
      });
      for (const n of [2, 1, 3]) await store.recordRun(run(n));
      expect(await store.listRuns(2)).toEqual([run(3), run(2)]);
      expect(await store.listRuns(10)).toEqual([run(3), run(2), run(1)]);
    });

    it('remembers the last digest and every finding digests reported', async () => {
      expect(await store.lastDigestAt()).toBeNull();
      expect(await store.digestedFindings()).toEqual(new Set());
      await store.recordDigest(T0 + DAY, ['c#s#late']);
      await store.recordDigest(T0, ['c#s#stale', 'c#s#late']);
      expect(await store.lastDigestAt()).toBe(T0 + DAY);
      expect(await store.digestedFindings()).toEqual(new Set(['c#s#late', 'c#s#stale']));
    });

    it('clears a changed-case mark only when it was not renewed after it was read', async () => {
      await store.markCasesChanged(['a', 'b', 'a'], T0);
      const read = await store.listChangedCases();
      expect(read).toEqual(
        new Map([
          ['a', T0],
          ['b', T0],
        ]),
      );
      await store.markCasesChanged(['b'], T0 + 1000); // a change came in while the notifier worked
      await store.clearChangedCases(read);
      expect(await store.listChangedCases()).toEqual(new Map([['b', T0 + 1000]]));
      await store.clearChangedCases(new Map([['gone', T0]]));
    });
  });

  describe('notice ledger', () => {
    const LEASE = 5 * 60_000;

    it('claims a notice once; a lapsed claim or a released one can be taken; a sent one never', async () => {
      expect(await store.claimNotices('c', ['n1', 'n2'], 'run1', T0, LEASE)).toEqual(['n1', 'n2']);
      expect(await store.claimNotices('c', ['n1', 'n2', 'n3'], 'run2', T0 + 1000, LEASE)).toEqual(['n3']);
      await store.markNoticesSent('c', ['n1'], 'run1', T0 + 2000);
      await store.releaseNotices('c', ['n3'], 'run2');
      // n2's claim lapsed (run1 died before sending); n3 was released after a failed send.
      expect(await store.claimNotices('c', ['n1', 'n2', 'n3'], 'run3', T0 + LEASE + 1, LEASE)).toEqual(['n2', 'n3']);
      // run1 comes back late: it no longer owns n2, so its mark is ignored.
      await store.markNoticesSent('c', ['n2'], 'run1', T0 + LEASE + 2);
      await store.releaseNotices('c', ['n2'], 'run1');
      expect(await store.listNotices('c')).toEqual([
        { key: 'n1', state: 'sent', claimedAt: T0, sentAt: T0 + 2000 },
        { key: 'n2', state: 'sending', claimedAt: T0 + LEASE + 1, sentAt: null },
        { key: 'n3', state: 'sending', claimedAt: T0 + LEASE + 1, sentAt: null },
      ]);
      expect(await store.claimNotices('c', ['n1'], 'run4', T0 + 100 * DAY, LEASE)).toEqual([]);
      expect(await store.listNotices('other')).toEqual([]);
    });

    it('keeps notices apart from the case’s certificates', async () => {
      await store.createCase(kase('c'), T0);
      await store.addCertificates([cert('c', sha('5', 1))]);
      await store.claimNotices('c', ['deadline-missed'], 'run1', T0, LEASE);
      expect((await store.loadCase('c')).map((cc) => cc.cert.sha256)).toEqual([sha('5', 1)]);
      expect((await store.listNotices('c')).map((n) => n.key)).toEqual(['deadline-missed']);
    });
  });

  describe('run ledger', () => {
    const open = (runId: string, jobs: number): OpenRun => ({
      runId,
      startedAt: T0,
      jobs,
      remaining: jobs,
      certificates: 10,
      observationsWritten: 0,
      itemsWritten: 0,
      sourcesFailed: 0,
      finishedAt: null,
    });

    it('counts each job once however often it is delivered, and lets exactly one caller finish the run', async () => {
      await store.openRun(open('r1', 2), T0 + 2 * DAY);
      await expect(store.openRun(open('r1', 2), T0 + 2 * DAY)).rejects.toBeInstanceOf(StoreError);
      expect(await store.getOpenRun('r1', 'j0')).toEqual({ run: open('r1', 2), jobDone: false });
      expect(await store.claimRunFinish('r1', T0 + 1)).toBe(false);
      const first = await store.completeRunJob('r1', 'j0', { observationsWritten: 3, itemsWritten: 5, sourcesFailed: 1 });
      expect(first).toEqual({
        run: { ...open('r1', 2), remaining: 1, observationsWritten: 3, itemsWritten: 5, sourcesFailed: 1 },
        duplicate: false,
      });
      const again = await store.completeRunJob('r1', 'j0', { observationsWritten: 3, itemsWritten: 5, sourcesFailed: 1 });
      expect(again).toEqual({ run: first.run, duplicate: true });
      expect(await store.getOpenRun('r1', 'j0')).toMatchObject({ jobDone: true });
      const last = await store.completeRunJob('r1', 'j1', { observationsWritten: 1, itemsWritten: 2, sourcesFailed: 0 });
      expect(last.run).toMatchObject({ remaining: 0, observationsWritten: 4, itemsWritten: 7, sourcesFailed: 1 });
      expect(await store.claimRunFinish('r1', T0 + 10)).toBe(true);
      expect(await store.claimRunFinish('r1', T0 + 11)).toBe(false);
      expect((await store.listOpenRuns()).map((r) => [r.runId, r.finishedAt])).toEqual([['r1', T0 + 10]]);
      await expect(store.completeRunJob('nope', 'j0', { observationsWritten: 0, itemsWritten: 0, sourcesFailed: 0 })).rejects.toThrow(
        /run nope is not open/,
      );
      expect(await store.getOpenRun('nope', 'j0')).toBeNull();
      expect(await store.claimRunFinish('nope', T0)).toBe(false);
    });

    it('keeps a job payload bigger than one item, in parts, and gives it back whole', async () => {
      const payload = new Uint8Array(700 * 1024).map((_, i) => (i * 7) % 251);
      await store.putJobPayload('r2', 'j1', payload, T0 + DAY);
      await store.putJobPayload('r2', 'j10', Uint8Array.of(9), T0 + DAY);
      // Compared as buffers: a deep equal over 700 KiB element by element takes seconds.
      expect(Buffer.compare(Buffer.from((await store.getJobPayload('r2', 'j1'))!), Buffer.from(payload))).toBe(0);
      expect([...(await store.getJobPayload('r2', 'j10'))!]).toEqual([9]);
      expect(await store.getJobPayload('r2', 'j2')).toBeNull();
    });
  });

  describe('cost counters', () => {
    it('count the same items read and written as DynamoDB bills them', async () => {
      expect(await cost(() => store.createCase(kase('k'), T0))).toEqual({ read: 0, written: 1 });
      expect(await cost(() => store.createCase(kase('k'), T0))).toEqual({ read: 0, written: 0 });
      expect(await cost(() => store.createCase(kase('j'), T0))).toEqual({ read: 0, written: 1 });
      // Reads the case list (2) and the case's certificate ids (0); writes 3 certificates and the count.
      const shas = [sha('1', 1), sha('2', 1), sha('3', 1)];
      // The case is read for the verdicts of the polling summaries written with the certificates.
      expect(await cost(() => store.addCertificates(shas.map((s) => cert('k', s))))).toEqual({ read: 3, written: 4 });
      // Into the other case: reads the list (2), its ids (0), and the 3 records case k already has.
      expect(await cost(() => store.addCertificates(shas.map((s) => cert('j', s))))).toEqual({ read: 6, written: 4 });
      expect(await cost(() => store.loadCase('k'))).toEqual({ read: 3, written: 0 });
      expect(
        await cost(() =>
          store.getCaseCertificates([
            { caseId: 'k', sha256: shas[0]! },
            { caseId: 'k', sha256: sha('9', 9) },
            { caseId: 'j', sha256: shas[2]! },
          ]),
        ),
      ).toEqual({ read: 2, written: 0 });
      // Through the narrow index: the summaries, then the whole items listPollDue hands out; planning reads the case
      // list (2: with one case it would read the shards page by page) and the summaries alone.
      expect(await cost(() => store.listPollDue(T0))).toEqual({ read: 12, written: 0 });
      expect(await cost(() => store.visitPollSummaries(T0, () => undefined))).toEqual({ read: 8, written: 0 });
      expect(await cost(() => store.getCase('k'))).toEqual({ read: 1, written: 0 });
      expect(await cost(() => store.getCase('none'))).toEqual({ read: 0, written: 0 });
      const o = observation(shas[0]!, T0);
      // A key given twice in one batch is one write.
      expect(await cost(() => store.recordObservations([o, o, observation(shas[1]!, T0)]))).toEqual({ read: 0, written: 2 });
      const w = (caseId: string, s: string, rev: number, soleWriter: boolean): RecordWrite => ({
        cert: cert(caseId, s),
        record: EMPTY_RECORD,
        rev,
        pollDue: 0,
        soleWriter,
      });
      expect(
        await cost(() => store.writeRecords([w('k', shas[0]!, 0, true), w('k', shas[1]!, 0, false), w('k', shas[2]!, 9, false)])),
      ).toEqual({ read: 0, written: 2 });
      expect(await cost(() => store.setPollDue('k', shas[2]!, 0, null))).toEqual({ read: 0, written: 1 });
      expect(await cost(() => store.setPollDue('k', shas[2]!, 7, null))).toEqual({ read: 0, written: 0 });
      expect(await cost(() => store.listPollDue(T0))).toEqual({ read: 10, written: 0 });
      await store.markCasesChanged(['k'], T0);
      expect(await cost(() => store.clearChangedCases(new Map([['k', T0 - 1]])))).toEqual({ read: 0, written: 0 });
      expect(await cost(() => store.clearChangedCases(new Map([['k', T0]])))).toEqual({ read: 0, written: 1 });
      for (const n of [1, 2, 3])
        await store.recordRun({
          runId: `r${n}`,
          startedAt: T0 + n,
          finishedAt: T0 + n,
          certificates: 0,
          sourcesFailed: 0,
          observationsWritten: 0,
          itemsWritten: 0,
        });
      expect(await cost(() => store.listRuns(2))).toEqual({ read: 2, written: 0 });
    });
  });
});
