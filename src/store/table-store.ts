/**
 * The store's logic, written once over the Table port (ports/table.ts): every Store, NoticeLedger and
 * RunLedger method, with every key built in layout.ts. The DynamoDB table (AWS and the embedded dynalite,
 * adapters/aws/dynamo-table.ts) and the in-memory one (adapters/memory/memory-table.ts) only store items;
 * test/integration/store-contract.test.ts runs the same contract over both.
 *
 * This file holds cases, certificates, their evidence records and the polling index; the evidence trail is
 * in table-observations.ts and runs, digests, changed-case marks and notices in table-runs.ts.
 */
import type { Case } from '../domain.js';
import { EMPTY_RECORD, type EvidenceRecord } from '../rules/evidence.js';
import type { NoticeLedger } from '../ports/mail.js';
import type { RunLedger } from '../ports/runs.js';
import {
  isPollSummary,
  StoreError,
  type CaseCertificate,
  type PollRead,
  type RecordWrite,
  type SettledPoolRead,
  type Store,
  type StoredCertificate,
} from '../ports/store.js';
import { ABSENT, PRESENT, queryAll } from '../ports/table.js';
import { groupBy } from '../util/group-by.js';
import { mapLimit, oneAtATime } from '../util/map-limit.js';
import {
  CASES,
  CERT_PREFIX,
  caseCertificateKey,
  caseIdOf,
  caseIdOfPartition,
  caseKey,
  casePartition,
  certificateItem,
  certificateShaOf,
  derKey,
  inSettledPool,
  derShaOf,
  packRecord,
  POLL_SHARDS,
  pollKeys,
  pollSummaryOf,
  pollPartition,
  pollUpTo,
  readPollSummary,
  settledPartition,
  SHA256_DIGITS,
  toCase,
  toCaseCertificate,
} from './layout.js';
import { POLL_DUE_INDEX, POLL_INDEX } from './poll-index.js';
import { addCertificatesInSlices } from './table-bulk.js';
import { TableRunStore } from './table-runs.js';

/** The polling index attributes a record write sets, or removes (the index is sparse). */
const POLL_ATTRIBUTES = ['pk2', 'sk2', 'pd'];

export class TableStore extends TableRunStore implements Store, NoticeLedger, RunLedger {
  // -- cases -----------------------------------------------------------------------------

  async createCase(kase: Case, createdAt: number): Promise<boolean> {
    return this.table.putIf({ ...caseKey(kase.id), ...kase, createdAt }, ABSENT, `case ${kase.id}`);
  }

  async getCase(id: string): Promise<Case | null> {
    const item = await this.table.get(caseKey(id), `case ${id}`);
    return item ? toCase(item) : null;
  }

  async listCases(): Promise<Case[]> {
    return queryAll(this.table, { pk: CASES }, 'the cases', toCase);
  }

  async setDelayedReportUrl(caseId: string, url: string): Promise<void> {
    const updated = await this.table.updateIf(
      caseKey(caseId),
      { set: { delayedReportUrl: url } },
      PRESENT,
      `the delayed-revocation report URL of case ${caseId}`,
    );
    if (updated === null)
      throw new StoreError(`setting the delayed-revocation report URL of case ${caseId} in ${this.table.label} failed: no such case`);
  }

  async certificateCounts(): Promise<Map<string, number>> {
    const items = await queryAll(this.table, { pk: CASES, projection: ['sk', 'certCount'] }, 'the certificate counts');
    return new Map(items.map((i) => [caseIdOf(i.sk), Number(i.certCount ?? 0)]));
  }

  // -- certificates --------------------------------------------------------------------------

  async putCertificateDers(ders: readonly { sha256: string; der: Uint8Array }[]): Promise<void> {
    await this.table.batchPut(
      ders.map((d) => {
        const key = derKey(d.sha256);
        return { pk: key.pk, sk: key.sk, der: Buffer.from(d.der) };
      }),
      'certificate DERs',
    );
  }

  async getCertificateDers(sha256s: readonly string[]): Promise<Map<string, Uint8Array>> {
    const keys = [...new Set(sha256s)].map(derKey);
    const slices: (typeof keys)[] = [];
    for (let i = 0; i < keys.length; i += 1000) slices.push(keys.slice(i, i + 1000));
    const out = new Map<string, Uint8Array>();
    await mapLimit(slices, 4, async (slice) => {
      for (const item of await this.table.batchGet(slice, 'certificate DERs'))
        out.set(derShaOf(item.pk), new Uint8Array(item.der as Uint8Array));
    });
    return out;
  }

  async getCertificateDer(sha256: string): Promise<Uint8Array | null> {
    const item = await this.table.get(derKey(sha256), `the DER of certificate ${sha256}`, { consistent: false });
    return item ? new Uint8Array(item.der as Uint8Array) : null;
  }

  async addCertificates(certs: readonly StoredCertificate[]): Promise<number> {
    const byCase = groupBy(certs, (c) => c.caseId);
    let added = 0;
    const otherCases = (await queryAll(this.table, { pk: CASES, projection: ['sk'] }, 'the case ids')).map((i) => caseIdOf(i.sk));
    for (const [caseId, list] of byCase) {
      // Only the keys handed over are looked up: a call costs its own certificates, not the case's (a CA's
      // incident grows to millions a batch at a time, and reading every key of the case per batch made
      // tracking it quadratic).
      const shas = [...new Set(list.map((c) => c.sha256))];
      const existing = new Set(
        (
          await this.table.batchGet(
            shas.map((sha) => caseCertificateKey(caseId, sha)),
            `the certificates of case ${caseId}`,
          )
        ).map((i) => certificateShaOf(i.sk)),
      );
      const fresh = new Map<string, StoredCertificate>();
      for (const c of list) if (!existing.has(c.sha256)) fresh.set(c.sha256, c);
      // A certificate another case already watches has observations: its record starts from theirs
      // (a record depends only on the certificate's observations, not on the case).
      const known = await this.recordsElsewhere(
        otherCases.filter((id) => id !== caseId),
        [...fresh.keys()],
      );
      const kase = await this.caseForSummary(caseId);
      await this.table.batchPut(
        [...fresh.values()].map((c) => certificateItem(c, known.get(c.sha256) ?? EMPTY_RECORD, 0, 0, false, kase)),
        `certificates of case ${caseId}`,
      );
      const counted = await this.table.updateIf(
        caseKey(caseId),
        { add: { certCount: fresh.size } },
        PRESENT,
        `the certificate count of case ${caseId}`,
      );
      if (counted === null) throw new StoreError(`counting the certificates of case ${caseId} in ${this.table.label} failed: no such case`);
      added += fresh.size;
    }
    return added;
  }

  addCertificatesInSlices(
    caseId: string,
    slices: AsyncIterable<readonly StoredCertificate[]>,
    alreadyTracked?: (certs: readonly StoredCertificate[]) => Promise<void>,
  ): Promise<number> {
    return addCertificatesInSlices(this.table, caseId, slices, alreadyTracked);
  }

  private async recordsElsewhere(caseIds: readonly string[], shas: readonly string[]): Promise<Map<string, EvidenceRecord>> {
    const out = new Map<string, EvidenceRecord>();
    for (const caseId of caseIds) {
      const wanted = shas.filter((s) => !out.has(s));
      for (const cc of await this.getCaseCertificates(wanted.map((sha256) => ({ caseId, sha256 }))))
        if (!cc.legacy) out.set(cc.cert.sha256, cc.record);
    }
    return out;
  }

  // -- evidence records ------------------------------------------------------------------------

  async getCaseCertificates(wanted: readonly { caseId: string; sha256: string }[]): Promise<CaseCertificate[]> {
    if (wanted.length === 0) return [];
    const items = await this.table.batchGet(
      wanted.map((k) => caseCertificateKey(k.caseId, k.sha256)),
      'evidence records',
    );
    return items.map(toCaseCertificate);
  }

  async getCaseCertificate(caseId: string, sha256: string): Promise<CaseCertificate | null> {
    const item = await this.table.get(caseCertificateKey(caseId, sha256), `certificate ${sha256} of case ${caseId}`);
    return item ? toCaseCertificate(item) : null;
  }

  async loadCase(caseId: string): Promise<CaseCertificate[]> {
    return queryAll(
      this.table,
      { pk: casePartition(caseId), prefix: CERT_PREFIX },
      `the certificates of case ${caseId}`,
      toCaseCertificate,
    );
  }

  async visitCase(caseId: string, visit: (cc: CaseCertificate) => void | Promise<void>): Promise<void> {
    // A certificate's sort key is CERT_PREFIX and its SHA-256 in hex, so the partition splits exactly into 16
    // ranges by the first digit. Two ranges are read side by side, each a page ahead: one paginated Query waits
    // on every page in turn, and at 100,000 certificates that wait was a third of `status`. Pages are handed
    // to `visit` one at a time, whichever range they come from; after a failure, no further page is.
    const inTurn = oneAtATime();
    await mapLimit([...SHA256_DIGITS], 2, (digit) =>
      this.table.queryPages(
        { pk: casePartition(caseId), prefix: `${CERT_PREFIX}${digit}` },
        `the certificates of case ${caseId}`,
        (items) =>
          inTurn(async () => {
            for (const item of items) {
              const wait = visit(toCaseCertificate(item));
              if (wait) await wait;
            }
          }),
      ),
    );
  }

  /**
   * Which polling index is read: the narrow one (`poll-due`, summaries), the one that projects everything
   * (`poll`: a table made before the narrow one, or in AWS while the narrow one is being built), or none (a
   * home made before either). Learned from the table, and from a query the narrow index refuses.
   */
  private narrowUnavailable = false;

  private pollIndexRead(): 'narrow' | 'full' | 'none' {
    if (!this.narrowUnavailable && this.table.hasIndex(POLL_DUE_INDEX)) return 'narrow';
    return this.table.hasIndex(POLL_INDEX) ? 'full' : 'none';
  }

  /** The polling index partitions of one shard this read takes, each with how far up it reads (null: whole). */
  private static shardParts(shard: string, now: number, settled: 'due' | 'whole' | 'none'): [string, number | null][] {
    const parts: [string, number | null][] = [[pollPartition(shard), now]];
    if (settled !== 'none') parts.push([settledPartition(shard), settled === 'whole' ? null : now]);
    return parts;
  }

  /** One partition of `poll`: whole items. */
  private readFullPart(pk2: string, upTo: number | null): Promise<CaseCertificate[]> {
    return queryAll(
      this.table,
      { pk: pk2, index: POLL_INDEX, ...(upTo === null ? {} : { upTo: pollUpTo(upTo) }) },
      `the certificates due (${pk2})`,
      toCaseCertificate,
    );
  }

  /**
   * One partition of `poll-due`: summaries, and the whole items of entries without one (written before
   * summaries existed: read whole, as `poll` read them, until their next record write adds it).
   */
  private async readSummaryPart(pk2: string, upTo: number | null): Promise<PollRead[]> {
    const out: PollRead[] = [];
    const bare: { caseId: string; sha256: string }[] = [];
    try {
      await this.table.queryPages(
        { pk: pk2, index: POLL_DUE_INDEX, ...(upTo === null ? {} : { upTo }) },
        `the certificates due (${pk2})`,
        (items) => {
          for (const item of items) {
            const summary = readPollSummary(item);
            if (summary) out.push(summary);
            else bare.push({ caseId: caseIdOfPartition(item.pk), sha256: certificateShaOf(item.sk) });
          }
        },
      );
    } catch (err) {
      // In AWS between deploying the narrow index and its backfill finishing, DynamoDB refuses to read it: the
      // old index still answers (docs/data-model.md, "Upgrading the polling index").
      if (!this.narrowRefused(err)) throw err;
      this.narrowUnavailable = true;
      return this.readFullPart(pk2, upTo);
    }
    for (const cc of await this.getCaseCertificates(bare)) out.push(cc);
    return out;
  }

  /** DynamoDB refused to read the narrow index (it is still being backfilled) and the old one is there to read. */
  private narrowRefused(err: unknown): boolean {
    return (
      err instanceof StoreError && /ValidationException/.test(err.message) && /index/i.test(err.message) && this.table.hasIndex(POLL_INDEX)
    );
  }

  /** Whole items for what a summary read handed over (listPollDue and visitPollDue hand out whole items). */
  private async wholeItems(reads: PollRead[]): Promise<CaseCertificate[]> {
    const wanted: { caseId: string; sha256: string }[] = [];
    for (const r of reads) if (isPollSummary(r)) wanted.push({ caseId: r.caseId, sha256: r.sha256 });
    const got = new Map<string, CaseCertificate>();
    for (let i = 0; i < wanted.length; i += 1000)
      for (const cc of await this.getCaseCertificates(wanted.slice(i, i + 1000))) got.set(`${cc.cert.caseId}\u0000${cc.cert.sha256}`, cc);
    // In the order the index handed them over (shard by shard, by due time).
    const out: CaseCertificate[] = [];
    for (const r of reads) {
      const cc = isPollSummary(r) ? got.get(`${r.caseId}\u0000${r.sha256}`) : r;
      if (cc) out.push(cc);
    }
    return out;
  }

  private readShard(shard: string, now: number, settled: 'due' | 'whole' | 'none'): Promise<PollRead[]> {
    const parts = TableStore.shardParts(shard, now, settled);
    const read = (pk2: string, upTo: number | null): Promise<PollRead[]> =>
      this.pollIndexRead() === 'narrow' ? this.readSummaryPart(pk2, upTo) : this.readFullPart(pk2, upTo);
    return Promise.all(parts.map(([pk2, upTo]) => read(pk2, upTo))).then((lists) => lists.flat());
  }

  async listPollDue(now: number, options: SettledPoolRead = {}): Promise<CaseCertificate[]> {
    if (this.pollIndexRead() === 'none') {
      // A home created before the index existed (dynalite cannot add one to a table): read every case instead.
      const out: CaseCertificate[] = [];
      for (const kase of await this.listCases()) {
        const items = await queryAll(
          this.table,
          { pk: casePartition(kase.id), prefix: CERT_PREFIX },
          `the certificates of case ${kase.id}`,
        );
        for (const item of items) {
          if (item.pd === undefined) continue;
          const settled = inSettledPool(item.pk2) ? (options.settled ?? 'due') : null;
          if (settled === 'whole' || ((settled === null || settled === 'due') && Number(item.pd) <= now)) out.push(toCaseCertificate(item));
        }
      }
      return out;
    }
    const settled = options.settled ?? 'due';
    const reads = await Promise.all([...POLL_SHARDS].map((shard) => this.readShard(shard, now, settled)));
    return this.wholeItems(reads.flat());
  }

  async visitPollDue(now: number, visit: (shard: CaseCertificate[]) => void | Promise<void>, options: SettledPoolRead = {}): Promise<void> {
    if (this.pollIndexRead() === 'none') {
      await visit(await this.listPollDue(now, options));
      return;
    }
    // Whole items a shard at a time, as before: the local check's visitPollDue callers plan a shard per visit.
    let shard: PollRead[] = [];
    await this.visitShards(now, options, async (page, shardEnd) => {
      for (const r of page) shard.push(r);
      if (!shardEnd) return;
      const whole = shard;
      shard = [];
      await visit(await this.wholeItems(whole));
    });
  }

  async visitPollSummaries(
    now: number,
    visit: (reads: PollRead[], shardEnd: boolean) => void | Promise<void>,
    options: SettledPoolRead = {},
  ): Promise<void> {
    if (this.pollIndexRead() === 'none') {
      await visit(await this.listPollDue(now, options), true);
      return;
    }
    await this.visitShards(now, options, visit);
  }

  private async visitShards(
    now: number,
    options: SettledPoolRead,
    visit: (reads: PollRead[], shardEnd: boolean) => void | Promise<void>,
  ): Promise<void> {
    const settled = options.settled ?? 'due';
    // With at most one case, each certificate has one index entry (a case holds a certificate once): no page
    // can split a certificate's cases, so a shard is handed over page by page as it is read, and what a visit
    // holds is a page (~1 MB of entries), not a shard, at any size (issue 29).
    if ((await this.listCases()).length <= 1) {
      for (const shard of POLL_SHARDS) {
        for (const [pk2, upTo] of TableStore.shardParts(shard, now, settled)) await this.visitPart(pk2, upTo, (page) => visit(page, false));
        await visit([], true);
      }
      return;
    }
    // Several cases: a certificate tracked in two has an entry in each, anywhere in its shard (the index is
    // ordered by due time), and the planner needs every case of a certificate at once, so each shard is read
    // whole. Shard by shard, in shard order, each handed over as soon as it is read whole while the next two are
    // read: the planner starts on the first shards (and their certificates can be asked) long before the last,
    // where reading all 16 at once finished them together. A shard of the settled pool is read with the same
    // shard of the every-run partitions and handed over with it.
    const shards = [...POLL_SHARDS].map((shard) => () => this.readShard(shard, now, settled));
    const reads: Promise<PollRead[]>[] = [];
    const read = (i: number): void => {
      const p = shards[i]!();
      p.catch(() => undefined); // awaited in turn below
      reads.push(p);
    };
    try {
      for (let i = 0; i < shards.length; i++) {
        while (reads.length < Math.min(shards.length, i + 3)) read(reads.length);
        const due = await reads[i]!;
        reads[i] = Promise.resolve([]); // visited: not held until the last shard
        await visit(due, true);
      }
    } finally {
      // Nothing is left reading once this returns, even after a failure.
      await Promise.allSettled(reads);
    }
  }

  /**
   * One partition of the polling index, each page handed to `visit` as it is read (the next is read meanwhile):
   * summaries through `poll-due`, with the whole items of entries without one, or whole items through `poll`.
   */
  private async visitPart(pk2: string, upTo: number | null, visit: (page: PollRead[]) => void | Promise<void>): Promise<void> {
    const what = `the certificates due (${pk2})`;
    if (this.pollIndexRead() !== 'narrow') {
      await this.table.queryPages({ pk: pk2, index: POLL_INDEX, ...(upTo === null ? {} : { upTo: pollUpTo(upTo) }) }, what, (items) =>
        visit(items.map(toCaseCertificate)),
      );
      return;
    }
    let visited = false;
    try {
      await this.table.queryPages({ pk: pk2, index: POLL_DUE_INDEX, ...(upTo === null ? {} : { upTo }) }, what, async (items) => {
        visited = true;
        const page: PollRead[] = [];
        const bare: { caseId: string; sha256: string }[] = [];
        for (const item of items) {
          const summary = readPollSummary(item);
          if (summary) page.push(summary);
          else bare.push({ caseId: caseIdOfPartition(item.pk), sha256: certificateShaOf(item.sk) });
        }
        for (const cc of await this.getCaseCertificates(bare)) page.push(cc);
        await visit(page);
      });
    } catch (err) {
      // As readSummaryPart: the narrow index refused before its backfill finished; the old one still answers.
      if (visited || !this.narrowRefused(err)) throw err;
      this.narrowUnavailable = true;
      await this.visitPart(pk2, upTo, visit);
    }
  }

  /** Cases by id, for the verdicts of the polling summaries written with records (a case's deadline inputs never change). */
  private readonly casesForSummaries = new Map<string, Promise<Case | null>>();

  private caseForSummary(caseId: string): Promise<Case | null> {
    let kase = this.casesForSummaries.get(caseId);
    if (!kase) {
      kase = this.getCase(caseId);
      kase.catch(() => this.casesForSummaries.delete(caseId));
      this.casesForSummaries.set(caseId, kase);
    }
    return kase;
  }

  async writeRecords(writes: readonly RecordWrite[]): Promise<RecordWrite[]> {
    const cases = new Map<string, Case | null>();
    for (const id of new Set(writes.map((w) => w.cert.caseId))) cases.set(id, await this.caseForSummary(id));
    await this.table.batchPut(
      writes
        .filter((w) => w.soleWriter)
        .map((w) => certificateItem(w.cert, w.record, w.rev + 1, w.pollDue, w.pollSettled, cases.get(w.cert.caseId) ?? null)),
      'evidence records',
    );
    const lost: RecordWrite[] = [];
    for (const w of writes.filter((x) => !x.soleWriter)) {
      const poll = pollKeys(w.cert, w.pollDue, w.pollSettled);
      const record = {
        ev: packRecord(w.record),
        rev: w.rev + 1,
        ps: pollSummaryOf(w.cert, w.record, w.rev + 1, cases.get(w.cert.caseId) ?? null),
      };
      const written = await this.table.updateIf(
        caseCertificateKey(w.cert.caseId, w.cert.sha256),
        poll ? { set: { ...record, ...poll } } : { set: record, remove: POLL_ATTRIBUTES },
        { attr: 'rev', eq: w.rev },
        `the evidence record of certificate ${w.cert.sha256} in case ${w.cert.caseId}`,
      );
      if (written === null) lost.push(w);
    }
    return lost;
  }

  async setPollDue(caseId: string, sha256: string, rev: number, pollDue: number | null, settled = false): Promise<boolean> {
    const poll = pollKeys({ caseId, sha256 }, pollDue, settled);
    const written = await this.table.updateIf(
      caseCertificateKey(caseId, sha256),
      poll ? { set: poll } : { remove: POLL_ATTRIBUTES },
      { attr: 'rev', eq: rev },
      `the polling due time of certificate ${sha256} in case ${caseId}`,
    );
    return written !== null;
  }
}
