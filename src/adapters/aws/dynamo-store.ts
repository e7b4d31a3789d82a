/**
 * The Store adapter over DynamoDB (single table, string keys `pk`/`sk`). The
 * same code runs against the deployed table and against the embedded
 * dynalite; only the client's endpoint differs.
 *
 *   pk                      sk                                   item
 *   CASES                   CASE#<id>                            case (the list of cases)
 *   CASE#<id>               CERT#<sha256>                        tracked certificate (`c`, packed JSON) with its
 *                                                                evidence record (`ev`, packed JSON) and revision (`rev`)
 *   CERT#<sha256>           DER                                  certificate DER (also issuers)
 *   CERT#<sha256>           OBS#<time>#<kind>#<urlhash>#<hash>   observation (append-only)
 *   SOURCES                 <kind> <url>                         source state (heartbeat)
 *   SNAP#<url>              SNAP#<thisUpdate>#<sha256>           CRL snapshot (evidence)
 *   RUNS                    RUN#<startedAt>#<runId>              run record
 *   DIGESTS                 DIGEST#<at>                          digest produced
 *   DIGESTED                <case>#<sha256>#<code>               finding reported in a digest (so it is not "new" again)
 *   CASE#<id>               NOTICE#<key>                         notice ledger
 *   CHANGED                 CASE#<id>                            case changed since the notifier last looked
 *   OPENRUNS                RUN#<runId>                          fan-out run in progress (jobs left, counters; TTL)
 *   JOB#<runId>             <jobId>#<part>                       job payload too big for a queue message (gzip JSON; TTL)
 *
 * Items that only matter for a while carry `expiresAt` (epoch seconds), the
 * table's TTL attribute.
 *
 * The sparse global secondary index `poll` (keys `pk2`/`sk2`) holds only the
 * certificates the planner still has to ask: `pk2` = POLL#<first hex digit of
 * the sha256> (16 shards, so no index partition runs hot at millions of
 * certificates), `sk2` = <due time>#<case>#<sha256>. A settled certificate's
 * due time is its next daily re-ask; an expired one that every source has
 * answered leaves the index. An unchanged run therefore reads one item per
 * certificate that needs asking, and nothing for the rest.
 *
 * The certificate and its record, and each observation, are packed as JSON
 * strings on purpose (formats in layout.ts): one string attribute costs a
 * fraction of a nested map to marshal, and `status` reads every item of a case.
 *
 * Every request goes through DynamoTable (dynamo-table.ts): pagination,
 * batching with retries on the Clock, and a StoreError naming what failed.
 * The keys are built in layout.ts, which the in-memory store shares.
 */
import { mapLimit, oneAtATime } from '../../util/map-limit.js';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SystemClock } from '../system-clock.js';
import type { Case } from '../../domain.js';
import type { Clock, NoticeLedger, OpenRun, RunLedger } from '../../ports/index.js';
import { EMPTY_RECORD, type EvidenceRecord } from '../../rules/evidence.js';
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
import { DynamoTable, StoreError } from './dynamo-table.js';
import {
  certificateItem,
  packRecord,
  fromObservation,
  jobPayloadItems,
  observationSortKey,
  pad,
  POLL_SHARDS,
  SHA256_DIGITS,
  pollKeys,
  pollUpTo,
  stripKeys,
  toCase,
  toCaseCertificate,
  toObservation,
  toOpenRun,
} from '../../store/layout.js';

export { StoreError } from './dynamo-table.js';

export { POLL_INDEX } from '../../store/poll-index.js';
import { POLL_INDEX } from '../../store/poll-index.js';
import { groupBy } from '../../util/group-by.js';

export interface DynamoStoreOptions {
  readonly tableName: string;
  /** Parallel BatchWrite requests. */
  readonly writeConcurrency?: number;
  /** Backoff between retries (unprocessed batch items, a table still being created) sleeps on this clock. */
  readonly clock?: Clock;
}

export class DynamoStore implements Store, NoticeLedger, RunLedger {
  /** The table itself, for parts of the core kept in it beside the Store ports (the CCADB disclosures). */
  readonly table: DynamoTable;
  private readonly name: string;
  private readonly clock: Clock;
  private pollIndex: boolean | null = null;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoStoreOptions,
  ) {
    // The SDK's logger middleware builds a redacted copy of every response for a logger that, here, drops
    // it: at 100,000 items a status or a plan that was half a second of CPU. Nothing of ours logs through it.
    client.middlewareStack.remove('loggerMiddleware');
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    this.name = options.tableName;
    this.clock = options.clock ?? new SystemClock();
    this.table = new DynamoTable(doc, options.tableName, { clock: this.clock, writeConcurrency: options.writeConcurrency ?? 8 });
  }

  get itemsWritten(): number {
    return this.table.itemsWritten;
  }

  /** Items returned by queries and gets since the store was opened: what a run's reads cost. */
  get itemsRead(): number {
    return this.table.itemsRead;
  }

  /**
   * Creates the table when it does not exist (local mode; in AWS the CDK stack
   * owns it), and waits until it is ACTIVE: a table still CREATING answers
   * every request with ResourceNotFoundException.
   */
  async ensureTable(): Promise<void> {
    let status: string | undefined;
    try {
      const table = (await this.client.send(new DescribeTableCommand({ TableName: this.name }))).Table;
      status = table?.TableStatus;
      this.pollIndex = (table?.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === POLL_INDEX);
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException')
        throw new StoreError(`reading the description of table ${this.name} failed: ${(err as Error).message}`, { cause: err });
      await this.createTable();
      this.pollIndex = true;
    }
    for (let attempt = 0; status !== 'ACTIVE'; attempt++) {
      if (attempt > 200) throw new StoreError(`table ${this.name} did not become ACTIVE`);
      if (attempt > 0) await this.clock.sleep(25);
      status = (await this.client.send(new DescribeTableCommand({ TableName: this.name }))).Table?.TableStatus;
    }
  }

  private async createTable(): Promise<void> {
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
            { AttributeName: 'pk2', AttributeType: 'S' },
            { AttributeName: 'sk2', AttributeType: 'S' },
          ],
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: [
            {
              IndexName: POLL_INDEX,
              KeySchema: [
                { AttributeName: 'pk2', KeyType: 'HASH' },
                { AttributeName: 'sk2', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      );
    } catch (err) {
      throw new StoreError(`creating table ${this.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  // -- cases -----------------------------------------------------------------

  async createCase(kase: Case, createdAt: number): Promise<boolean> {
    return this.table.putIfAbsent({ pk: 'CASES', sk: `CASE#${kase.id}`, ...kase, createdAt }, `case ${kase.id}`);
  }

  async getCase(id: string): Promise<Case | null> {
    const item = await this.table.get({ pk: 'CASES', sk: `CASE#${id}` }, `case ${id}`);
    return item ? toCase(item) : null;
  }

  async listCases(): Promise<Case[]> {
    return (await this.table.queryAll({ pk: 'CASES' }, 'the cases')).map(toCase);
  }

  async setDelayedReportUrl(caseId: string, url: string): Promise<void> {
    const updated = await this.table.updateIf(
      { pk: 'CASES', sk: `CASE#${caseId}` },
      { expression: 'SET delayedReportUrl = :url', condition: 'attribute_exists(pk)', values: { ':url': url } },
      `the delayed-revocation report URL of case ${caseId}`,
    );
    if (updated === null) throw new StoreError(`setting the delayed-revocation report URL of case ${caseId} failed: no such case`);
  }

  // -- certificates ------------------------------------------------------------

  async putCertificateDers(ders: readonly { sha256: string; der: Uint8Array }[]): Promise<void> {
    await this.table.batchPut(
      ders.map((d) => ({ pk: `CERT#${d.sha256}`, sk: 'DER', der: Buffer.from(d.der) })),
      'certificate DERs',
    );
  }

  async getCertificateDers(sha256s: readonly string[]): Promise<Map<string, Uint8Array>> {
    const keys = [...new Set(sha256s)].map((sha) => ({ pk: `CERT#${sha}`, sk: 'DER' }));
    const slices: (typeof keys)[] = [];
    for (let i = 0; i < keys.length; i += 1000) slices.push(keys.slice(i, i + 1000));
    const out = new Map<string, Uint8Array>();
    await mapLimit(slices, 4, async (slice) => {
      for (const item of await this.table.batchGet(slice, 'certificate DERs'))
        out.set(String(item.pk).slice('CERT#'.length), new Uint8Array(item.der as Uint8Array));
    });
    return out;
  }

  async getCertificateDer(sha256: string): Promise<Uint8Array | null> {
    const item = await this.table.get({ pk: `CERT#${sha256}`, sk: 'DER' }, `the DER of certificate ${sha256}`, { consistent: false });
    return item ? new Uint8Array(item.der as Uint8Array) : null;
  }

  async addCertificates(certs: readonly StoredCertificate[]): Promise<number> {
    const byCase = groupBy(certs, (c) => c.caseId);
    let added = 0;
    const otherCases = (await this.table.queryAll({ pk: 'CASES', projection: ['sk'] }, 'the case ids')).map((i) =>
      String(i.sk).slice('CASE#'.length),
    );
    for (const [caseId, list] of byCase) {
      const existing = new Set(
        (
          await this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#', projection: ['sk'] }, `the certificate ids of case ${caseId}`)
        ).map((i) => String(i.sk).slice(5)),
      );
      const fresh = new Map<string, StoredCertificate>();
      for (const c of list) if (!existing.has(c.sha256)) fresh.set(c.sha256, c);
      // A certificate another case already watches has observations: its record starts from theirs
      // (a record depends only on the certificate's observations, not on the case).
      const known = await this.recordsElsewhere(
        otherCases.filter((id) => id !== caseId),
        [...fresh.keys()],
      );
      await this.table.batchPut(
        [...fresh.values()].map((c) => {
          const prior = known.get(c.sha256) ?? EMPTY_RECORD;
          return certificateItem(c, prior, 0, 0);
        }),
        `certificates of case ${caseId}`,
      );
      const counted = await this.table.updateIf(
        { pk: 'CASES', sk: `CASE#${caseId}` },
        { expression: 'ADD certCount :n', condition: 'attribute_exists(pk)', values: { ':n': fresh.size } },
        `the certificate count of case ${caseId}`,
      );
      if (counted === null) throw new StoreError(`counting the certificates of case ${caseId} in table ${this.name} failed: no such case`);
      added += fresh.size;
    }
    return added;
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

  async getCaseCertificates(wanted: readonly { caseId: string; sha256: string }[]): Promise<CaseCertificate[]> {
    if (wanted.length === 0) return [];
    const items = await this.table.batchGet(
      wanted.map((k) => ({ pk: `CASE#${k.caseId}`, sk: `CERT#${k.sha256}` })),
      'evidence records',
    );
    return items.map(toCaseCertificate);
  }

  async loadCase(caseId: string): Promise<CaseCertificate[]> {
    return this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#' }, `the certificates of case ${caseId}`, toCaseCertificate);
  }

  async visitCase(caseId: string, visit: (cc: CaseCertificate) => void | Promise<void>): Promise<void> {
    // A certificate's sort key is CERT# and its SHA-256 in hex, so the partition splits exactly into 16 ranges
    // by the first digit. Two ranges are read side by side, each a page ahead: one paginated Query waits on
    // every page in turn, and at 100,000 certificates that wait was a third of `status`. Pages are handed to
    // `visit` one at a time, whichever range they come from; after a failure, no further page is.
    const inTurn = oneAtATime();
    await mapLimit([...SHA256_DIGITS], 2, (digit) =>
      this.table.queryPages({ pk: `CASE#${caseId}`, prefix: `CERT#${digit}` }, `the certificates of case ${caseId}`, (items) =>
        inTurn(async () => {
          for (const item of items) {
            const wait = visit(toCaseCertificate(item));
            if (wait) await wait;
          }
        }),
      ),
    );
  }

  async getCaseCertificate(caseId: string, sha256: string): Promise<CaseCertificate | null> {
    const item = await this.table.get({ pk: `CASE#${caseId}`, sk: `CERT#${sha256}` }, `certificate ${sha256} of case ${caseId}`);
    return item ? toCaseCertificate(item) : null;
  }

  async listPollDue(now: number): Promise<CaseCertificate[]> {
    if (this.pollIndex === false) {
      // A home created before the index existed (dynalite cannot add one to a table): read every case instead.
      const out: CaseCertificate[] = [];
      for (const kase of await this.listCases()) {
        for (const item of await this.table.queryAll({ pk: `CASE#${kase.id}`, prefix: 'CERT#' }, `the certificates of case ${kase.id}`)) {
          if (item.pd !== undefined && Number(item.pd) <= now) out.push(toCaseCertificate(item));
        }
      }
      return out;
    }
    const upTo = pollUpTo(now);
    const shards = await Promise.all(
      [...POLL_SHARDS].map((shard) =>
        this.table.queryAll({ pk: `POLL#${shard}`, index: POLL_INDEX, upTo }, `the certificates due (shard ${shard})`, toCaseCertificate),
      ),
    );
    return shards.flat();
  }

  async visitPollDue(now: number, visit: (shard: CaseCertificate[]) => void | Promise<void>): Promise<void> {
    if (this.pollIndex === false) {
      await visit(await this.listPollDue(now));
      return;
    }
    // Shard by shard, in shard order, each handed over as soon as it is read whole while the next two are read:
    // the planner starts on the first shards (and their certificates can be asked) long before the last, where
    // reading all 16 at once finished them together.
    const upTo = pollUpTo(now);
    const shards = [...POLL_SHARDS];
    const reads: Promise<CaseCertificate[]>[] = [];
    const read = (i: number): void => {
      const shard = shards[i]!;
      const p = this.table.queryAll(
        { pk: `POLL#${shard}`, index: POLL_INDEX, upTo },
        `the certificates due (shard ${shard})`,
        toCaseCertificate,
      );
      p.catch(() => undefined); // awaited in turn below
      reads.push(p);
    };
    try {
      for (let i = 0; i < shards.length; i++) {
        while (reads.length < Math.min(shards.length, i + 3)) read(reads.length);
        const due = await reads[i]!;
        reads[i] = Promise.resolve([]); // visited: not held until the last shard
        await visit(due);
      }
    } finally {
      // Nothing is left reading once this returns, even after a failure.
      await Promise.allSettled(reads);
    }
  }

  async certificateCounts(): Promise<Map<string, number>> {
    const items = await this.table.queryAll({ pk: 'CASES', projection: ['sk', 'certCount'] }, 'the certificate counts');
    return new Map(items.map((i) => [String(i.sk).slice('CASE#'.length), Number(i.certCount ?? 0)]));
  }

  // -- observations and evidence records ---------------------------------------------

  async recordObservations(observations: readonly StoredObservation[]): Promise<number> {
    const items = observations.map((o) => ({
      pk: `CERT#${o.sha256Cert}`,
      sk: observationSortKey(o),
      ...fromObservation(o),
      raw: o.raw ? Buffer.from(o.raw) : undefined,
    }));
    await this.table.batchPut(items, 'observations');
    return items.length;
  }

  async writeRecords(writes: readonly RecordWrite[]): Promise<RecordWrite[]> {
    await this.table.batchPut(
      writes.filter((w) => w.soleWriter).map((w) => certificateItem(w.cert, w.record, w.rev + 1, w.pollDue)),
      'evidence records',
    );
    const lost: RecordWrite[] = [];
    for (const w of writes.filter((x) => !x.soleWriter)) {
      const poll = pollKeys(w.cert, w.pollDue);
      const written = await this.table.updateIf(
        { pk: `CASE#${w.cert.caseId}`, sk: `CERT#${w.cert.sha256}` },
        {
          expression: poll
            ? 'SET ev = :ev, rev = :next, pk2 = :pk2, sk2 = :sk2, pd = :pd'
            : 'SET ev = :ev, rev = :next REMOVE pk2, sk2, pd',
          condition: 'rev = :rev',
          values: {
            ':ev': packRecord(w.record),
            ':next': w.rev + 1,
            ':rev': w.rev,
            ...(poll ? { ':pk2': poll.pk2, ':sk2': poll.sk2, ':pd': poll.pd } : {}),
          },
        },
        `the evidence record of certificate ${w.cert.sha256} in case ${w.cert.caseId}`,
      );
      if (written === null) lost.push(w);
    }
    return lost;
  }

  async setPollDue(caseId: string, sha256: string, rev: number, pollDue: number | null): Promise<boolean> {
    const poll = pollKeys({ caseId, sha256 }, pollDue);
    const written = await this.table.updateIf(
      { pk: `CASE#${caseId}`, sk: `CERT#${sha256}` },
      {
        expression: poll ? 'SET pk2 = :pk2, sk2 = :sk2, pd = :pd' : 'REMOVE pk2, sk2, pd',
        condition: 'rev = :rev',
        values: { ':rev': rev, ...(poll ? { ':pk2': poll.pk2, ':sk2': poll.sk2, ':pd': poll.pd } : {}) },
      },
      `the polling due time of certificate ${sha256} in case ${caseId}`,
    );
    return written !== null;
  }

  async listObservations(sha256: string): Promise<StoredObservation[]> {
    const items = await this.table.queryAll({ pk: `CERT#${sha256}`, prefix: 'OBS#' }, `the observations of certificate ${sha256}`);
    return items.map((i) => ({ ...toObservation(i), sha256Cert: sha256, raw: i.raw ? new Uint8Array(i.raw as Uint8Array) : null }));
  }

  // -- sources -------------------------------------------------------------------

  async getSourceStates(): Promise<Map<string, SourceState>> {
    const items = await this.table.queryAll({ pk: 'SOURCES' }, 'the source states');
    return new Map(items.map((i) => [String(i.sk), stripKeys(i) as unknown as SourceState]));
  }

  async putSourceStates(states: readonly SourceState[]): Promise<number> {
    await this.table.batchPut(
      states.map((s) => ({ pk: 'SOURCES', sk: `${s.kind} ${s.url}`, ...s })),
      'source states',
    );
    return states.length;
  }

  async putCrlSnapshot(s: CrlSnapshot): Promise<boolean> {
    return this.table.putIfAbsent(
      { pk: `SNAP#${s.url}`, sk: `SNAP#${pad(s.thisUpdate)}#${s.sha256}`, ...s },
      `the snapshot of CRL ${s.url}`,
    );
  }

  async listCrlSnapshots(url: string): Promise<CrlSnapshot[]> {
    return (await this.table.queryAll({ pk: `SNAP#${url}` }, `the snapshots of CRL ${url}`)).map(
      (i) => stripKeys(i) as unknown as CrlSnapshot,
    );
  }

  // -- runs ----------------------------------------------------------------------

  async recordRun(run: RunRecord): Promise<void> {
    await this.table.put({ pk: 'RUNS', sk: `RUN#${pad(run.startedAt)}#${run.runId}`, ...run }, `run ${run.runId}`);
  }

  async recordDigest(at: number, findingKeys: readonly string[]): Promise<void> {
    await this.table.batchPut(
      findingKeys.map((key) => ({ pk: 'DIGESTED', sk: key, at })),
      'digested findings',
    );
    await this.table.put({ pk: 'DIGESTS', sk: `DIGEST#${pad(at)}`, at }, 'the digest record');
  }

  async digestedFindings(): Promise<Set<string>> {
    return new Set((await this.table.queryAll({ pk: 'DIGESTED', projection: ['sk'] }, 'the digested findings')).map((i) => String(i.sk)));
  }

  async lastDigestAt(): Promise<number | null> {
    const item = (await this.table.queryLatest('DIGESTS', 1, 'the last digest'))[0];
    return item ? Number(item.at) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return (await this.table.queryLatest('RUNS', limit, 'the latest runs')).map((i) => stripKeys(i) as unknown as RunRecord);
  }

  // -- changed cases (for the notifier) --------------------------------------------

  async markCasesChanged(caseIds: readonly string[], at: number): Promise<void> {
    await this.table.batchPut(
      [...new Set(caseIds)].map((id) => ({ pk: 'CHANGED', sk: `CASE#${id}`, changedAt: at })),
      'changed-case marks',
    );
  }

  async listChangedCases(): Promise<Map<string, number>> {
    return new Map(
      (await this.table.queryAll({ pk: 'CHANGED' }, 'the changed-case marks')).map((i) => [
        String(i.sk).slice('CASE#'.length),
        Number(i.changedAt),
      ]),
    );
  }

  async clearChangedCases(marks: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, at] of marks) {
      // Only the mark as it was read: one renewed since then stays.
      await this.table.deleteIf(
        { pk: 'CHANGED', sk: `CASE#${id}` },
        { expression: 'changedAt = :at', values: { ':at': at } },
        `the changed mark of case ${id}`,
      );
    }
  }

  // -- fan-out runs (OPENRUNS / RUN#<runId>, JOB#<runId>) ---------------------------

  async openRun(run: OpenRun, expiresAt: number): Promise<void> {
    // finishedAt stays absent until claimRunFinish sets it (its condition is attribute_not_exists).
    const item = { pk: 'OPENRUNS', sk: `RUN#${run.runId}`, ...run, finishedAt: undefined, expiresAt: Math.trunc(expiresAt / 1000) };
    if (!(await this.table.putIfAbsent(item, `open run ${run.runId}`)))
      throw new StoreError(`storing open run ${run.runId} in table ${this.name} failed: the run id is taken`);
  }

  async completeRunJob(
    runId: string,
    jobId: string,
    counts: { observationsWritten: number; itemsWritten: number; sourcesFailed: number },
  ): Promise<{ run: OpenRun; duplicate: boolean }> {
    const key = { pk: 'OPENRUNS', sk: `RUN#${runId}` };
    // One conditional update: the job is counted once however often the queue delivers it.
    const updated = await this.table.updateIf(
      key,
      {
        expression: 'ADD done :job, observationsWritten :o, itemsWritten :i, sourcesFailed :f SET remaining = remaining - :one',
        condition: 'attribute_exists(pk) AND NOT contains(done, :id)',
        values: {
          ':job': new Set([jobId]),
          ':id': jobId,
          ':o': counts.observationsWritten,
          ':i': counts.itemsWritten,
          ':f': counts.sourcesFailed,
          ':one': 1,
        },
        returnNew: true,
      },
      `job ${jobId} of run ${runId}`,
    );
    if (updated) return { run: toOpenRun(updated), duplicate: false };
    const existing = await this.table.get(key, `open run ${runId}`);
    if (!existing) throw new Error(`run ${runId} is not open (expired or never planned)`);
    return { run: toOpenRun(existing), duplicate: true };
  }

  async claimRunFinish(runId: string, at: number): Promise<boolean> {
    const claimed = await this.table.updateIf(
      { pk: 'OPENRUNS', sk: `RUN#${runId}` },
      {
        expression: 'SET finishedAt = :at',
        condition: 'attribute_exists(pk) AND attribute_not_exists(finishedAt) AND remaining <= :zero',
        values: { ':at': at, ':zero': 0 },
      },
      `the finish of run ${runId}`,
    );
    return claimed !== null;
  }

  async getOpenRun(runId: string, jobId: string): Promise<{ run: OpenRun; jobDone: boolean } | null> {
    const item = await this.table.get({ pk: 'OPENRUNS', sk: `RUN#${runId}` }, `open run ${runId}`);
    if (!item) return null;
    return { run: toOpenRun(item), jobDone: item.done instanceof Set && item.done.has(jobId) };
  }

  async listOpenRuns(): Promise<OpenRun[]> {
    return (await this.table.queryAll({ pk: 'OPENRUNS' }, 'the open runs')).map(toOpenRun);
  }

  async putJobPayload(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Promise<void> {
    await this.table.batchPut(jobPayloadItems(runId, jobId, payload, expiresAt), `payload parts of job ${jobId}`);
  }

  async getJobPayload(runId: string, jobId: string): Promise<Uint8Array | null> {
    const parts = await this.table.queryAll({ pk: `JOB#${runId}`, prefix: `${jobId}#` }, `the payload of job ${jobId}`);
    if (parts.length === 0) return null;
    return Buffer.concat(parts.map((p) => p.data as Uint8Array));
  }

  // -- notice ledger (CASE#<id> / NOTICE#<key>) ----------------------------------

  async claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]> {
    const claimed: string[] = [];
    for (const key of keys) {
      const ok = await this.table.putIfAbsent(
        { pk: `CASE#${caseId}`, sk: `NOTICE#${key}`, st: 'sending', runId, claimedAt: now },
        `notice ${key} of case ${caseId}`,
        {
          // Released after a failed send, or claimed by a run that never finished.
          condition: '#st = :released OR (#st = :sending AND claimedAt < :stale)',
          names: { '#st': 'st' },
          values: { ':released': 'released', ':sending': 'sending', ':stale': now - leaseMs },
        },
      );
      if (ok) claimed.push(key);
    }
    return claimed;
  }

  async markNoticesSent(caseId: string, keys: readonly string[], runId: string, now: number): Promise<void> {
    await this.updateNotices(caseId, keys, runId, 'sent', { sentAt: now });
  }

  async releaseNotices(caseId: string, keys: readonly string[], runId: string): Promise<void> {
    await this.updateNotices(caseId, keys, runId, 'released', {});
  }

  async listNotices(caseId: string): Promise<{ key: string; state: string; claimedAt: number; sentAt: number | null }[]> {
    return (await this.table.queryAll({ pk: `CASE#${caseId}`, prefix: 'NOTICE#' }, `the notices of case ${caseId}`)).map((i) => ({
      key: String(i.sk).slice('NOTICE#'.length),
      state: String(i.st),
      claimedAt: Number(i.claimedAt),
      sentAt: i.sentAt === undefined ? null : Number(i.sentAt),
    }));
  }

  private async updateNotices(
    caseId: string,
    keys: readonly string[],
    runId: string,
    state: string,
    extra: Record<string, number>,
  ): Promise<void> {
    for (const key of keys) {
      const names: Record<string, string> = { '#st': 'st', '#run': 'runId' };
      const values: Record<string, unknown> = { ':st': state, ':run': runId };
      let set = '#st = :st';
      for (const [k, v] of Object.entries(extra)) {
        names[`#${k}`] = k;
        values[`:${k}`] = v;
        set += `, #${k} = :${k}`;
      }
      // A failed condition: another run took the claim over after ours lapsed, and it owns the notice now.
      await this.table.updateIf(
        { pk: `CASE#${caseId}`, sk: `NOTICE#${key}` },
        { expression: `SET ${set}`, condition: '#run = :run', names, values },
        `notice ${key} of case ${caseId}`,
      );
    }
  }
}
