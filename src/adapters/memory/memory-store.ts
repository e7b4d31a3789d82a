/**
 * The store ports in memory, for fast tests of planning, execution, notices,
 * status and reports. It keeps the DynamoDB adapter's items, keys and
 * semantics (test/integration/store-contract.test.ts runs the same contract
 * against both): conditional writes on a record's revision, the sparse
 * polling index in due-time order per shard, put-if-absent cases and CRL
 * snapshots, notice claims with a lease, a fan-out job counted once,
 * changed-case marks cleared only when not renewed, and the same counts of
 * items read and written. Deterministic: no timers, no I/O.
 */
import type { Case } from '../../domain.js';
import { EMPTY_RECORD, type EvidenceRecord } from '../../rules/evidence.js';
import type { NoticeLedger, OpenRun, RunLedger } from '../../ports/index.js';
import { StoreError } from '../../ports/store-error.js';
import {
  certificateItem,
  packRecord,
  compareKeys,
  fromObservation,
  jobPayloadItems,
  observationSortKey,
  pad,
  POLL_SHARDS,
  pollKeys,
  pollUpTo,
  stripKeys,
  toCase,
  toCaseCertificate,
  toObservation,
  toOpenRun,
  type Item,
} from '../../store/layout.js';
import type {
  CaseCertificate,
  CrlSnapshot,
  RecordWrite,
  RunRecord,
  SourceState,
  Store,
  StoredCertificate,
  StoredObservation,
} from '../../ports/store.js';
import { groupBy } from '../../util/group-by.js';

type Key = { readonly pk: string; readonly sk: string };

/**
 * A copy as DynamoDB would store it: undefined attributes dropped (the
 * adapter's removeUndefinedValues), binary copied to a Uint8Array, sets and
 * maps copied, so neither side can change the other's data afterwards.
 */
function stored(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Set) return new Set([...v].map(stored));
  if (Array.isArray(v)) return v.map(stored);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stored(x);
  return out;
}

/** One table with one global secondary index on `pk2`/`sk2` (sparse: only items that have both). */
class MemoryTable {
  private readonly partitions = new Map<string, Map<string, Item>>();
  private readonly index = new Map<string, Map<string, Key>>();
  written = 0;
  read = 0;

  private current(key: Key): Item | undefined {
    return this.partitions.get(key.pk)?.get(key.sk);
  }

  private store(item: Item): void {
    const key = { pk: String(item.pk), sk: String(item.sk) };
    this.unindex(key);
    const copy = stored(item) as Item;
    let p = this.partitions.get(key.pk);
    if (!p) this.partitions.set(key.pk, (p = new Map()));
    p.set(key.sk, copy);
    if (typeof copy.pk2 === 'string' && typeof copy.sk2 === 'string') {
      let ix = this.index.get(copy.pk2);
      if (!ix) this.index.set(copy.pk2, (ix = new Map()));
      ix.set(copy.sk2, key);
    }
  }

  private unindex(key: Key): void {
    const old = this.current(key);
    if (old && typeof old.pk2 === 'string' && typeof old.sk2 === 'string') this.index.get(old.pk2)?.delete(old.sk2);
  }

  private remove(key: Key): void {
    this.unindex(key);
    this.partitions.get(key.pk)?.delete(key.sk);
  }

  queryAll(q: { pk: string; index?: boolean; prefix?: string; upTo?: string; projection?: readonly string[] }): Item[] {
    let rows: [string, Item][];
    if (q.index) {
      rows = [...(this.index.get(q.pk) ?? new Map<string, Key>())].map(([sk2, key]) => [sk2, this.current(key)!]);
    } else {
      rows = [...(this.partitions.get(q.pk) ?? new Map<string, Item>())];
    }
    const out = rows
      .filter(([sk]) => (q.prefix === undefined || sk.startsWith(q.prefix)) && (q.upTo === undefined || compareKeys(sk, q.upTo) <= 0))
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([, item]) => (q.projection ? Object.fromEntries(q.projection.filter((n) => n in item).map((n) => [n, item[n]])) : item))
      .map((item) => stored(item) as Item);
    this.read += out.length;
    return out;
  }

  queryLatest(pk: string, limit: number): Item[] {
    const out = [...(this.partitions.get(pk) ?? new Map<string, Item>())]
      .sort(([a], [b]) => compareKeys(b, a))
      .slice(0, limit)
      .map(([, item]) => stored(item) as Item);
    this.read += out.length;
    return out;
  }

  get(key: Key): Item | null {
    const item = this.current(key);
    if (!item) return null;
    this.read++;
    return stored(item) as Item;
  }

  put(item: Item): void {
    this.store(item);
    this.written++;
  }

  /** Writes unless an item with the key exists, or, with `replaceIf`, unless the existing one fails it. */
  putIfAbsent(item: Item, replaceIf?: (existing: Item) => boolean): boolean {
    const existing = this.current({ pk: String(item.pk), sk: String(item.sk) });
    if (existing && !(replaceIf?.(existing) ?? false)) return false;
    this.put(item);
    return true;
  }

  /** Updates an existing item if `condition` holds (every condition the adapter uses requires the item to exist). */
  updateIf(key: Key, condition: (existing: Item) => boolean, update: (copy: Item) => void): Item | null {
    const existing = this.current(key);
    if (!existing || !condition(existing)) return null;
    const copy = stored(existing) as Item;
    update(copy);
    this.store(copy);
    this.written++;
    return stored(copy) as Item;
  }

  deleteIf(key: Key, condition: (existing: Item) => boolean): boolean {
    const existing = this.current(key);
    if (!existing || !condition(existing)) return false;
    this.remove(key);
    this.written++;
    return true;
  }

  /** As BatchWriteItem: a key given twice is written once, with its last item. */
  batchPut(items: readonly Item[]): void {
    const unique = new Map(items.map((i) => [`${String(i.pk)}\u0000${String(i.sk)}`, i]));
    for (const item of unique.values()) this.put(item);
  }

  batchGet(keys: readonly Key[]): Item[] {
    const out: Item[] = [];
    for (const key of keys) {
      const item = this.get(key);
      if (item) out.push(item);
    }
    return out;
  }
}

export class MemoryStore implements Store, NoticeLedger, RunLedger {
  private readonly table = new MemoryTable();

  get itemsWritten(): number {
    return this.table.written;
  }

  /** Items returned by queries and gets since the store was made: what a run's reads would cost in DynamoDB. */
  get itemsRead(): number {
    return this.table.read;
  }

  // -- cases -----------------------------------------------------------------

  async createCase(kase: Case, createdAt: number): Promise<boolean> {
    return this.table.putIfAbsent({ pk: 'CASES', sk: `CASE#${kase.id}`, ...kase, createdAt });
  }

  async getCase(id: string): Promise<Case | null> {
    const item = this.table.get({ pk: 'CASES', sk: `CASE#${id}` });
    return item ? toCase(item) : null;
  }

  async listCases(): Promise<Case[]> {
    return this.table.queryAll({ pk: 'CASES' }).map(toCase);
  }
  async setDelayedReportUrl(caseId: string, url: string): Promise<void> {
    const updated = this.table.updateIf(
      { pk: 'CASES', sk: `CASE#${caseId}` },
      () => true,
      (item) => {
        item.delayedReportUrl = url;
      },
    );
    if (updated === null)
      throw new StoreError(`setting the delayed-revocation report URL of case ${caseId} in memory failed: no such case`);
  }

  // -- certificates ------------------------------------------------------------

  async putCertificateDers(ders: readonly { sha256: string; der: Uint8Array }[]): Promise<void> {
    this.table.batchPut(ders.map((d) => ({ pk: `CERT#${d.sha256}`, sk: 'DER', der: d.der })));
  }

  async getCertificateDers(sha256s: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (const sha of sha256s) {
      const der = await this.getCertificateDer(sha);
      if (der) out.set(sha, der);
    }
    return out;
  }

  async getCertificateDer(sha256: string): Promise<Uint8Array | null> {
    const item = this.table.get({ pk: `CERT#${sha256}`, sk: 'DER' });
    return item ? new Uint8Array(item.der as Uint8Array) : null;
  }

  async addCertificates(certs: readonly StoredCertificate[]): Promise<number> {
    const byCase = groupBy(certs, (c) => c.caseId);
    let added = 0;
    const otherCases = this.table.queryAll({ pk: 'CASES', projection: ['sk'] }).map((i) => String(i.sk).slice('CASE#'.length));
    for (const [caseId, list] of byCase) {
      const existing = new Set(
        this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#', projection: ['sk'] }).map((i) => String(i.sk).slice(5)),
      );
      const fresh = new Map<string, StoredCertificate>();
      for (const c of list) if (!existing.has(c.sha256)) fresh.set(c.sha256, c);
      // A certificate another case already watches starts from that case's record.
      const known = this.recordsElsewhere(
        otherCases.filter((id) => id !== caseId),
        [...fresh.keys()],
      );
      this.table.batchPut([...fresh.values()].map((c) => certificateItem(c, known.get(c.sha256) ?? EMPTY_RECORD, 0, 0)));
      const counted = this.table.updateIf(
        { pk: 'CASES', sk: `CASE#${caseId}` },
        () => true,
        (item) => {
          item.certCount = Number(item.certCount ?? 0) + fresh.size;
        },
      );
      if (counted === null) throw new StoreError(`counting the certificates of case ${caseId} in memory failed: no such case`);
      added += fresh.size;
    }
    return added;
  }

  private recordsElsewhere(caseIds: readonly string[], shas: readonly string[]): Map<string, EvidenceRecord> {
    const out = new Map<string, EvidenceRecord>();
    for (const caseId of caseIds) {
      const wanted = shas.filter((s) => !out.has(s));
      for (const cc of this.caseCertificates(wanted.map((sha256) => ({ caseId, sha256 }))))
        if (!cc.legacy) out.set(cc.cert.sha256, cc.record);
    }
    return out;
  }

  async getCaseCertificates(wanted: readonly { caseId: string; sha256: string }[]): Promise<CaseCertificate[]> {
    return this.caseCertificates(wanted);
  }

  private caseCertificates(wanted: readonly { caseId: string; sha256: string }[]): CaseCertificate[] {
    return this.table.batchGet(wanted.map((k) => ({ pk: `CASE#${k.caseId}`, sk: `CERT#${k.sha256}` }))).map(toCaseCertificate);
  }

  async loadCase(caseId: string): Promise<CaseCertificate[]> {
    return this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#' }).map(toCaseCertificate);
  }

  async visitCase(caseId: string, visit: (cc: CaseCertificate) => void | Promise<void>): Promise<void> {
    for (const cc of await this.loadCase(caseId)) await visit(cc);
  }

  async getCaseCertificate(caseId: string, sha256: string): Promise<CaseCertificate | null> {
    const item = this.table.get({ pk: `CASE#${caseId}`, sk: `CERT#${sha256}` });
    return item ? toCaseCertificate(item) : null;
  }

  async listPollDue(now: number): Promise<CaseCertificate[]> {
    const upTo = pollUpTo(now);
    return [...POLL_SHARDS].flatMap((shard) => this.table.queryAll({ pk: `POLL#${shard}`, index: true, upTo })).map(toCaseCertificate);
  }

  async visitPollDue(now: number, visit: (shard: CaseCertificate[]) => void | Promise<void>): Promise<void> {
    const upTo = pollUpTo(now);
    for (const shard of POLL_SHARDS) await visit(this.table.queryAll({ pk: `POLL#${shard}`, index: true, upTo }).map(toCaseCertificate));
  }

  async certificateCounts(): Promise<Map<string, number>> {
    return new Map(
      this.table
        .queryAll({ pk: 'CASES', projection: ['sk', 'certCount'] })
        .map((i) => [String(i.sk).slice('CASE#'.length), Number(i.certCount ?? 0)]),
    );
  }

  // -- observations and evidence records ---------------------------------------------

  async recordObservations(observations: readonly StoredObservation[]): Promise<number> {
    const items = observations.map((o) => ({
      pk: `CERT#${o.sha256Cert}`,
      sk: observationSortKey(o),
      ...fromObservation(o),
      raw: o.raw ?? undefined,
    }));
    this.table.batchPut(items);
    return items.length;
  }

  async writeRecords(writes: readonly RecordWrite[]): Promise<RecordWrite[]> {
    this.table.batchPut(writes.filter((w) => w.soleWriter).map((w) => certificateItem(w.cert, w.record, w.rev + 1, w.pollDue)));
    const lost: RecordWrite[] = [];
    for (const w of writes.filter((x) => !x.soleWriter)) {
      const poll = pollKeys(w.cert, w.pollDue);
      const written = this.table.updateIf(
        { pk: `CASE#${w.cert.caseId}`, sk: `CERT#${w.cert.sha256}` },
        (item) => item.rev === w.rev,
        (item) => {
          item.ev = packRecord(w.record);
          item.rev = w.rev + 1;
          setPoll(item, poll);
        },
      );
      if (written === null) lost.push(w);
    }
    return lost;
  }

  async setPollDue(caseId: string, sha256: string, rev: number, pollDue: number | null): Promise<boolean> {
    const poll = pollKeys({ caseId, sha256 }, pollDue);
    const written = this.table.updateIf(
      { pk: `CASE#${caseId}`, sk: `CERT#${sha256}` },
      (item) => item.rev === rev,
      (item) => setPoll(item, poll),
    );
    return written !== null;
  }

  async listObservations(sha256: string): Promise<StoredObservation[]> {
    return this.table
      .queryAll({ pk: `CERT#${sha256}`, prefix: 'OBS#' })
      .map((i) => ({ ...toObservation(i), sha256Cert: sha256, raw: i.raw ? new Uint8Array(i.raw as Uint8Array) : null }));
  }

  // -- sources -------------------------------------------------------------------

  async getSourceStates(): Promise<Map<string, SourceState>> {
    return new Map(this.table.queryAll({ pk: 'SOURCES' }).map((i) => [String(i.sk), stripKeys(i) as unknown as SourceState]));
  }

  async putSourceStates(states: readonly SourceState[]): Promise<number> {
    this.table.batchPut(states.map((s) => ({ pk: 'SOURCES', sk: `${s.kind} ${s.url}`, ...s })));
    return states.length;
  }

  async putCrlSnapshot(s: CrlSnapshot): Promise<boolean> {
    return this.table.putIfAbsent({ pk: `SNAP#${s.url}`, sk: `SNAP#${pad(s.thisUpdate)}#${s.sha256}`, ...s });
  }

  async listCrlSnapshots(url: string): Promise<CrlSnapshot[]> {
    return this.table.queryAll({ pk: `SNAP#${url}` }).map((i) => stripKeys(i) as unknown as CrlSnapshot);
  }

  // -- runs ----------------------------------------------------------------------

  async recordRun(run: RunRecord): Promise<void> {
    this.table.put({ pk: 'RUNS', sk: `RUN#${pad(run.startedAt)}#${run.runId}`, ...run });
  }

  async recordDigest(at: number, findingKeys: readonly string[]): Promise<void> {
    this.table.batchPut(findingKeys.map((key) => ({ pk: 'DIGESTED', sk: key, at })));
    this.table.put({ pk: 'DIGESTS', sk: `DIGEST#${pad(at)}`, at });
  }

  async digestedFindings(): Promise<Set<string>> {
    return new Set(this.table.queryAll({ pk: 'DIGESTED', projection: ['sk'] }).map((i) => String(i.sk)));
  }

  async lastDigestAt(): Promise<number | null> {
    const item = this.table.queryLatest('DIGESTS', 1)[0];
    return item ? Number(item.at) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return this.table.queryLatest('RUNS', limit).map((i) => stripKeys(i) as unknown as RunRecord);
  }

  // -- changed cases (for the notifier) --------------------------------------------

  async markCasesChanged(caseIds: readonly string[], at: number): Promise<void> {
    this.table.batchPut([...new Set(caseIds)].map((id) => ({ pk: 'CHANGED', sk: `CASE#${id}`, changedAt: at })));
  }

  async listChangedCases(): Promise<Map<string, number>> {
    return new Map(this.table.queryAll({ pk: 'CHANGED' }).map((i) => [String(i.sk).slice('CASE#'.length), Number(i.changedAt)]));
  }

  async clearChangedCases(marks: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, at] of marks) this.table.deleteIf({ pk: 'CHANGED', sk: `CASE#${id}` }, (item) => item.changedAt === at);
  }

  // -- fan-out runs ---------------------------------------------------------------

  async openRun(run: OpenRun, expiresAt: number): Promise<void> {
    const item = { pk: 'OPENRUNS', sk: `RUN#${run.runId}`, ...run, finishedAt: undefined, expiresAt: Math.trunc(expiresAt / 1000) };
    if (!this.table.putIfAbsent(item)) throw new StoreError(`storing open run ${run.runId} in memory failed: the run id is taken`);
  }

  async completeRunJob(
    runId: string,
    jobId: string,
    counts: { observationsWritten: number; itemsWritten: number; sourcesFailed: number },
  ): Promise<{ run: OpenRun; duplicate: boolean }> {
    const key = { pk: 'OPENRUNS', sk: `RUN#${runId}` };
    const updated = this.table.updateIf(
      key,
      (item) => !(item.done instanceof Set && item.done.has(jobId)),
      (item) => {
        item.done = new Set([...((item.done as Set<string> | undefined) ?? []), jobId]);
        item.observationsWritten = Number(item.observationsWritten ?? 0) + counts.observationsWritten;
        item.itemsWritten = Number(item.itemsWritten ?? 0) + counts.itemsWritten;
        item.sourcesFailed = Number(item.sourcesFailed ?? 0) + counts.sourcesFailed;
        item.remaining = Number(item.remaining) - 1;
      },
    );
    if (updated) return { run: toOpenRun(updated), duplicate: false };
    const existing = this.table.get(key);
    if (!existing) throw new Error(`run ${runId} is not open (expired or never planned)`);
    return { run: toOpenRun(existing), duplicate: true };
  }

  async claimRunFinish(runId: string, at: number): Promise<boolean> {
    const claimed = this.table.updateIf(
      { pk: 'OPENRUNS', sk: `RUN#${runId}` },
      (item) => item.finishedAt === undefined && Number(item.remaining) <= 0,
      (item) => {
        item.finishedAt = at;
      },
    );
    return claimed !== null;
  }

  async getOpenRun(runId: string, jobId: string): Promise<{ run: OpenRun; jobDone: boolean } | null> {
    const item = this.table.get({ pk: 'OPENRUNS', sk: `RUN#${runId}` });
    if (!item) return null;
    return { run: toOpenRun(item), jobDone: item.done instanceof Set && item.done.has(jobId) };
  }

  async listOpenRuns(): Promise<OpenRun[]> {
    return this.table.queryAll({ pk: 'OPENRUNS' }).map(toOpenRun);
  }

  async putJobPayload(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Promise<void> {
    this.table.batchPut(jobPayloadItems(runId, jobId, payload, expiresAt));
  }

  async getJobPayload(runId: string, jobId: string): Promise<Uint8Array | null> {
    const parts = this.table.queryAll({ pk: `JOB#${runId}`, prefix: `${jobId}#` });
    if (parts.length === 0) return null;
    return Buffer.concat(parts.map((p) => p.data as Uint8Array));
  }

  // -- notice ledger --------------------------------------------------------------

  async claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]> {
    const claimed: string[] = [];
    for (const key of keys) {
      // New, released after a failed send, or claimed by a run that never finished.
      const ok = this.table.putIfAbsent(
        { pk: `CASE#${caseId}`, sk: `NOTICE#${key}`, st: 'sending', runId, claimedAt: now },
        (item) => item.st === 'released' || (item.st === 'sending' && Number(item.claimedAt) < now - leaseMs),
      );
      if (ok) claimed.push(key);
    }
    return claimed;
  }

  async markNoticesSent(caseId: string, keys: readonly string[], runId: string, now: number): Promise<void> {
    for (const key of keys) {
      this.table.updateIf(
        { pk: `CASE#${caseId}`, sk: `NOTICE#${key}` },
        (item) => item.runId === runId,
        (item) => {
          item.st = 'sent';
          item.sentAt = now;
        },
      );
    }
  }

  async releaseNotices(caseId: string, keys: readonly string[], runId: string): Promise<void> {
    for (const key of keys) {
      this.table.updateIf(
        { pk: `CASE#${caseId}`, sk: `NOTICE#${key}` },
        (item) => item.runId === runId,
        (item) => {
          item.st = 'released';
        },
      );
    }
  }

  async listNotices(caseId: string): Promise<{ key: string; state: string; claimedAt: number; sentAt: number | null }[]> {
    return this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'NOTICE#' }).map((i) => ({
      key: String(i.sk).slice('NOTICE#'.length),
      state: String(i.st),
      claimedAt: Number(i.claimedAt),
      sentAt: i.sentAt === undefined ? null : Number(i.sentAt),
    }));
  }
}

/** The polling index attributes of a record: set, or removed (the index is sparse). */
function setPoll(item: Item, poll: { pk2: string; sk2: string; pd: number } | null): void {
  if (poll) Object.assign(item, poll);
  else {
    delete item.pk2;
    delete item.sk2;
    delete item.pd;
  }
}
