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
 * The certificate and its record are packed as JSON strings on purpose: one
 * string attribute costs a fraction of a nested map to marshal, and `status`
 * reads every item of a case.
 */
import { createHash } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { Case, Observation } from '../domain.js';
import { EMPTY_RECORD, type EvidenceRecord } from '../rules/evidence.js';
import type { CaseCertificate, CrlSnapshot, RecordWrite, RunRecord, SourceState, Store, StoredCertificate, StoredObservation } from './store.js';
import type { NoticeLedger } from '../notify/notices.js';
import type { OpenRun, RunLedger } from '../check/fan-out.js';

type Item = Record<string, unknown>;

export { POLL_INDEX } from './poll-index.js';
import { POLL_INDEX } from './poll-index.js';
const POLL_SHARDS = '0123456789abcdef';

const urlHash = (url: string): string => createHash('sha1').update(url).digest('hex').slice(0, 12);
const pad = (ms: number): string => String(Math.max(0, Math.trunc(ms))).padStart(14, '0');

function observationSortKey(o: StoredObservation): string {
  // The content hash makes the key unique per distinct observation: a
  // retried batch rewrites identical items and can never replace another.
  const content = createHash('sha256')
    .update(JSON.stringify([o.status, o.revocationTime, o.reasonCode, o.thisUpdate, o.nextUpdate, o.producedAt, o.sha256 ?? null, o.error?.kind ?? null]))
    .digest('hex')
    .slice(0, 12);
  return `OBS#${pad(o.observedAt)}#${o.source.kind}#${urlHash(o.source.url)}#${content}`;
}

export interface DynamoStoreOptions {
  readonly tableName: string;
  /** Parallel BatchWrite requests. */
  readonly writeConcurrency?: number;
}

export class DynamoStore implements Store, NoticeLedger, RunLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly writeConcurrency: number;
  private written = 0;
  private read = 0;
  private pollIndex: boolean | null = null;

  constructor(
    private readonly client: DynamoDBClient,
    options: DynamoStoreOptions,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
    this.table = options.tableName;
    this.writeConcurrency = options.writeConcurrency ?? 8;
  }

  get itemsWritten(): number {
    return this.written;
  }

  /** Items returned by queries and gets since the store was opened: what a run's reads cost. */
  get itemsRead(): number {
    return this.read;
  }

  /**
   * Creates the table when it does not exist (local mode; in AWS the CDK stack
   * owns it), and waits until it is ACTIVE: a table still CREATING answers
   * every request with ResourceNotFoundException.
   */
  async ensureTable(): Promise<void> {
    let status: string | undefined;
    try {
      const table = (await this.client.send(new DescribeTableCommand({ TableName: this.table }))).Table;
      status = table?.TableStatus;
      this.pollIndex = (table?.GlobalSecondaryIndexes ?? []).some((i) => i.IndexName === POLL_INDEX);
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException') throw err;
      await this.createTable();
      this.pollIndex = true;
    }
    for (let attempt = 0; status !== 'ACTIVE'; attempt++) {
      if (attempt > 200) throw new Error(`table ${this.table} did not become ACTIVE`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 25));
      status = (await this.client.send(new DescribeTableCommand({ TableName: this.table }))).Table?.TableStatus;
    }
  }

  private async createTable(): Promise<void> {
    await this.client.send(
      new CreateTableCommand({
        TableName: this.table,
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
  }

  // -- cases -----------------------------------------------------------------

  async createCase(kase: Case, createdAt: number): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'CASES', sk: `CASE#${kase.id}`, ...kase, createdAt }, ConditionExpression: 'attribute_not_exists(pk)' }));
      this.written++;
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async getCase(id: string): Promise<Case | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: 'CASES', sk: `CASE#${id}` }, ConsistentRead: true }));
    if (r.Item) this.read++;
    return r.Item ? toCase(r.Item) : null;
  }

  async listCases(): Promise<Case[]> {
    return (await this.queryAll({ pk: 'CASES' })).map(toCase);
  }

  async setDelayedReportUrl(caseId: string, url: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: 'CASES', sk: `CASE#${caseId}` },
        UpdateExpression: 'SET delayedReportUrl = :url',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':url': url },
      }),
    );
    this.written++;
  }

  // -- certificates ------------------------------------------------------------

  async putCertificateDers(ders: readonly { sha256: string; der: Uint8Array }[]): Promise<void> {
    await this.batchPut(ders.map((d) => ({ pk: `CERT#${d.sha256}`, sk: 'DER', der: Buffer.from(d.der) })));
  }

  async getCertificateDer(sha256: string): Promise<Uint8Array | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `CERT#${sha256}`, sk: 'DER' } }));
    if (r.Item) this.read++;
    return r.Item ? new Uint8Array(r.Item.der as Uint8Array) : null;
  }

  async addCertificates(certs: readonly StoredCertificate[]): Promise<number> {
    const byCase = new Map<string, StoredCertificate[]>();
    for (const c of certs) byCase.set(c.caseId, [...(byCase.get(c.caseId) ?? []), c]);
    let added = 0;
    const otherCases = (await this.queryAll({ pk: 'CASES', projection: 'sk' })).map((i) => String(i.sk).slice('CASE#'.length));
    for (const [caseId, list] of byCase) {
      const existing = new Set((await this.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#', projection: 'sk' })).map((i) => String(i.sk).slice(5)));
      const fresh = new Map<string, StoredCertificate>();
      for (const c of list) if (!existing.has(c.sha256)) fresh.set(c.sha256, c);
      // A certificate another case already watches has observations: its record starts from theirs
      // (a record depends only on the certificate's observations, not on the case).
      const known = await this.recordsElsewhere(
        otherCases.filter((id) => id !== caseId),
        [...fresh.keys()],
      );
      await this.batchPut(
        [...fresh.values()].map((c) => {
          const prior = known.get(c.sha256) ?? EMPTY_RECORD;
          return certificateItem(c, prior, 0, 0);
        }),
      );
      await this.doc.send(
        new UpdateCommand({ TableName: this.table, Key: { pk: 'CASES', sk: `CASE#${caseId}` }, UpdateExpression: 'ADD certCount :n', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':n': fresh.size } }),
      );
      this.written++;
      added += fresh.size;
    }
    return added;
  }

  private async recordsElsewhere(caseIds: readonly string[], shas: readonly string[]): Promise<Map<string, EvidenceRecord>> {
    const out = new Map<string, EvidenceRecord>();
    for (const caseId of caseIds) {
      const wanted = shas.filter((s) => !out.has(s));
      for (const cc of await this.getCaseCertificates(wanted.map((sha256) => ({ caseId, sha256 })))) if (!cc.legacy) out.set(cc.cert.sha256, cc.record);
    }
    return out;
  }

  async getCaseCertificates(wanted: readonly { caseId: string; sha256: string }[]): Promise<CaseCertificate[]> {
    const out: CaseCertificate[] = [];
    for (let i = 0; i < wanted.length; i += 100) {
      let keys: Item[] = wanted.slice(i, i + 100).map((k) => ({ pk: `CASE#${k.caseId}`, sk: `CERT#${k.sha256}` }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${attempt} attempts`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const r = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of r.Responses?.[this.table] ?? []) {
          this.read++;
          out.push(toCaseCertificate(item));
        }
        keys = (r.UnprocessedKeys?.[this.table]?.Keys ?? []) as Item[];
      }
    }
    return out;
  }

  async loadCase(caseId: string): Promise<CaseCertificate[]> {
    return (await this.queryAll({ pk: `CASE#${caseId}`, prefix: 'CERT#' })).map(toCaseCertificate);
  }

  async getCaseCertificate(caseId: string, sha256: string): Promise<CaseCertificate | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `CASE#${caseId}`, sk: `CERT#${sha256}` }, ConsistentRead: true }));
    if (!r.Item) return null;
    this.read++;
    return toCaseCertificate(r.Item);
  }

  async listPollDue(now: number): Promise<CaseCertificate[]> {
    if (this.pollIndex === false) {
      // A home created before the index existed (dynalite cannot add one to a table): read every case instead.
      const out: CaseCertificate[] = [];
      for (const kase of await this.listCases()) {
        for (const item of await this.queryAll({ pk: `CASE#${kase.id}`, prefix: 'CERT#' })) if (item.pd !== undefined && Number(item.pd) <= now) out.push(toCaseCertificate(item));
      }
      return out;
    }
    const upTo = `${pad(now)}#\uffff`;
    const shards = await Promise.all([...POLL_SHARDS].map((shard) => this.queryAll({ pk: `POLL#${shard}`, index: POLL_INDEX, upTo })));
    return shards.flat().map(toCaseCertificate);
  }

  async certificateCounts(): Promise<Map<string, number>> {
    return new Map((await this.queryAll({ pk: 'CASES', projection: 'sk,certCount' })).map((i) => [String(i.sk).slice('CASE#'.length), Number(i.certCount ?? 0)]));
  }

  // -- observations and evidence records ---------------------------------------------

  async recordObservations(observations: readonly StoredObservation[]): Promise<number> {
    const items = observations.map((o) => ({ pk: `CERT#${o.sha256Cert}`, sk: observationSortKey(o), ...fromObservation(o), raw: o.raw ? Buffer.from(o.raw) : undefined }));
    await this.batchPut(items);
    return items.length;
  }

  async writeRecords(writes: readonly RecordWrite[]): Promise<RecordWrite[]> {
    await this.batchPut(writes.filter((w) => w.soleWriter).map((w) => certificateItem(w.cert, w.record, w.rev + 1, w.pollDue)));
    const lost: RecordWrite[] = [];
    for (const w of writes.filter((x) => !x.soleWriter)) {
      const poll = pollKeys(w.cert, w.pollDue);
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `CASE#${w.cert.caseId}`, sk: `CERT#${w.cert.sha256}` },
            UpdateExpression: poll ? 'SET ev = :ev, rev = :next, pk2 = :pk2, sk2 = :sk2, pd = :pd' : 'SET ev = :ev, rev = :next REMOVE pk2, sk2, pd',
            ConditionExpression: 'rev = :rev',
            ExpressionAttributeValues: { ':ev': JSON.stringify(w.record), ':next': w.rev + 1, ':rev': w.rev, ...(poll ? { ':pk2': poll.pk2, ':sk2': poll.sk2, ':pd': poll.pd } : {}) },
          }),
        );
        this.written++;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
        lost.push(w);
      }
    }
    return lost;
  }

  async setPollDue(caseId: string, sha256: string, rev: number, pollDue: number | null): Promise<boolean> {
    const poll = pollKeys({ caseId, sha256 }, pollDue);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `CASE#${caseId}`, sk: `CERT#${sha256}` },
          UpdateExpression: poll ? 'SET pk2 = :pk2, sk2 = :sk2, pd = :pd' : 'REMOVE pk2, sk2, pd',
          ConditionExpression: 'rev = :rev',
          ExpressionAttributeValues: { ':rev': rev, ...(poll ? { ':pk2': poll.pk2, ':sk2': poll.sk2, ':pd': poll.pd } : {}) },
        }),
      );
      this.written++;
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async listObservations(sha256: string): Promise<StoredObservation[]> {
    const items = await this.queryAll({ pk: `CERT#${sha256}`, prefix: 'OBS#' });
    return items.map((i) => ({ ...toObservation(i), sha256Cert: sha256, raw: i.raw ? new Uint8Array(i.raw as Uint8Array) : null }));
  }

  // -- sources -------------------------------------------------------------------

  async getSourceStates(): Promise<Map<string, SourceState>> {
    const items = await this.queryAll({ pk: 'SOURCES' });
    return new Map(items.map((i) => [String(i.sk), stripKeys(i) as unknown as SourceState]));
  }

  async putSourceStates(states: readonly SourceState[]): Promise<number> {
    await this.batchPut(states.map((s) => ({ pk: 'SOURCES', sk: `${s.kind} ${s.url}`, ...s })));
    return states.length;
  }

  async putCrlSnapshot(s: CrlSnapshot): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: { pk: `SNAP#${s.url}`, sk: `SNAP#${pad(s.thisUpdate)}#${s.sha256}`, ...s }, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      this.written++;
      return true;
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async listCrlSnapshots(url: string): Promise<CrlSnapshot[]> {
    return (await this.queryAll({ pk: `SNAP#${url}` })).map((i) => stripKeys(i) as unknown as CrlSnapshot);
  }

  // -- runs ----------------------------------------------------------------------

  async recordRun(run: RunRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'RUNS', sk: `RUN#${pad(run.startedAt)}#${run.runId}`, ...run } }));
    this.written++;
  }

  async recordDigest(at: number, findingKeys: readonly string[]): Promise<void> {
    await this.batchPut(findingKeys.map((key) => ({ pk: 'DIGESTED', sk: key, at })));
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: 'DIGESTS', sk: `DIGEST#${pad(at)}`, at } }));
    this.written++;
  }

  async digestedFindings(): Promise<Set<string>> {
    return new Set((await this.queryAll({ pk: 'DIGESTED', projection: 'sk' })).map((i) => String(i.sk)));
  }

  async lastDigestAt(): Promise<number | null> {
    const r = await this.doc.send(new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'DIGESTS' }, ScanIndexForward: false, Limit: 1 }));
    const item = r.Items?.[0];
    return item ? Number(item.at) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    const r = await this.doc.send(new QueryCommand({ TableName: this.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': 'RUNS' }, ScanIndexForward: false, Limit: limit }));
    return (r.Items ?? []).map((i) => stripKeys(i) as unknown as RunRecord);
  }

  // -- changed cases (for the notifier) --------------------------------------------

  async markCasesChanged(caseIds: readonly string[], at: number): Promise<void> {
    await this.batchPut([...new Set(caseIds)].map((id) => ({ pk: 'CHANGED', sk: `CASE#${id}`, changedAt: at })));
  }

  async listChangedCases(): Promise<Map<string, number>> {
    return new Map((await this.queryAll({ pk: 'CHANGED' })).map((i) => [String(i.sk).slice('CASE#'.length), Number(i.changedAt)]));
  }

  async clearChangedCases(marks: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, at] of marks) {
      try {
        await this.doc.send(
          new DeleteCommand({ TableName: this.table, Key: { pk: 'CHANGED', sk: `CASE#${id}` }, ConditionExpression: 'changedAt = :at', ExpressionAttributeValues: { ':at': at } }),
        );
        this.written++;
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
  }

  // -- fan-out runs (OPENRUNS / RUN#<runId>, JOB#<runId>) ---------------------------

  async openRun(run: OpenRun, expiresAt: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        // finishedAt stays absent until claimRunFinish sets it (its condition is attribute_not_exists).
        Item: { pk: 'OPENRUNS', sk: `RUN#${run.runId}`, ...run, finishedAt: undefined, expiresAt: Math.trunc(expiresAt / 1000) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    this.written++;
  }

  async completeRunJob(runId: string, jobId: string, counts: { observationsWritten: number; itemsWritten: number; sourcesFailed: number }): Promise<{ run: OpenRun; duplicate: boolean }> {
    const key = { pk: 'OPENRUNS', sk: `RUN#${runId}` };
    try {
      // One conditional update: the job is counted once however often the queue delivers it.
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'ADD done :job, observationsWritten :o, itemsWritten :i, sourcesFailed :f SET remaining = remaining - :one',
          ConditionExpression: 'attribute_exists(pk) AND NOT contains(done, :id)',
          ExpressionAttributeValues: { ':job': new Set([jobId]), ':id': jobId, ':o': counts.observationsWritten, ':i': counts.itemsWritten, ':f': counts.sourcesFailed, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.written++;
      return { run: toOpenRun(r.Attributes!), duplicate: false };
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      const existing = await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
      if (!existing.Item) throw new Error(`run ${runId} is not open (expired or never planned)`);
      return { run: toOpenRun(existing.Item), duplicate: true };
    }
  }

  async claimRunFinish(runId: string, at: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: 'OPENRUNS', sk: `RUN#${runId}` },
          UpdateExpression: 'SET finishedAt = :at',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(finishedAt) AND remaining <= :zero',
          ExpressionAttributeValues: { ':at': at, ':zero': 0 },
        }),
      );
      this.written++;
      return true;
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      return false;
    }
  }

  async getOpenRun(runId: string, jobId: string): Promise<{ run: OpenRun; jobDone: boolean } | null> {
    const r = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: 'OPENRUNS', sk: `RUN#${runId}` }, ConsistentRead: true }));
    if (!r.Item) return null;
    return { run: toOpenRun(r.Item), jobDone: r.Item.done instanceof Set && r.Item.done.has(jobId) };
  }

  async listOpenRuns(): Promise<OpenRun[]> {
    return (await this.queryAll({ pk: 'OPENRUNS' })).map(toOpenRun);
  }

  async putJobPayload(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Promise<void> {
    // DynamoDB items stop at 400 KB; big payloads are split.
    const PART = 300 * 1024;
    const parts: Item[] = [];
    for (let offset = 0, n = 0; offset < payload.length; offset += PART, n++) {
      parts.push({ pk: `JOB#${runId}`, sk: `${jobId}#${String(n).padStart(4, '0')}`, data: Buffer.from(payload.subarray(offset, offset + PART)), expiresAt: Math.trunc(expiresAt / 1000) });
    }
    await this.batchPut(parts);
  }

  async getJobPayload(runId: string, jobId: string): Promise<Uint8Array | null> {
    const parts = await this.queryAll({ pk: `JOB#${runId}`, prefix: `${jobId}#` });
    if (parts.length === 0) return null;
    return Buffer.concat(parts.map((p) => p.data as Uint8Array));
  }

  // -- notice ledger (CASE#<id> / NOTICE#<key>) ----------------------------------

  async claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]> {
    const claimed: string[] = [];
    for (const key of keys) {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: `CASE#${caseId}`, sk: `NOTICE#${key}`, st: 'sending', runId, claimedAt: now },
            // New, released after a failed send, or claimed by a run that never finished.
            ConditionExpression: 'attribute_not_exists(pk) OR #st = :released OR (#st = :sending AND claimedAt < :stale)',
            ExpressionAttributeNames: { '#st': 'st' },
            ExpressionAttributeValues: { ':released': 'released', ':sending': 'sending', ':stale': now - leaseMs },
          }),
        );
        this.written++;
        claimed.push(key);
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
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
    return (await this.queryAll({ pk: `CASE#${caseId}`, prefix: 'NOTICE#' })).map((i) => ({
      key: String(i.sk).slice('NOTICE#'.length),
      state: String(i.st),
      claimedAt: Number(i.claimedAt),
      sentAt: i.sentAt === undefined ? null : Number(i.sentAt),
    }));
  }

  private async updateNotices(caseId: string, keys: readonly string[], runId: string, state: string, extra: Record<string, number>): Promise<void> {
    for (const key of keys) {
      const names: Record<string, string> = { '#st': 'st', '#run': 'runId' };
      const values: Record<string, unknown> = { ':st': state, ':run': runId };
      let set = '#st = :st';
      for (const [k, v] of Object.entries(extra)) {
        names[`#${k}`] = k;
        values[`:${k}`] = v;
        set += `, #${k} = :${k}`;
      }
      try {
        await this.doc.send(
          new UpdateCommand({ TableName: this.table, Key: { pk: `CASE#${caseId}`, sk: `NOTICE#${key}` }, UpdateExpression: `SET ${set}`, ConditionExpression: '#run = :run', ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
        );
        this.written++;
      } catch (err) {
        // Another run took the claim over after ours lapsed: it owns the notice now.
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      }
    }
  }

  // -- plumbing ------------------------------------------------------------------

  private async queryAll(q: { pk: string; prefix?: string; projection?: string; index?: string; upTo?: string }): Promise<Item[]> {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    const [pk, sk] = q.index ? ['pk2', 'sk2'] : ['pk', 'sk'];
    do {
      const input: QueryCommandInput = {
        TableName: this.table,
        IndexName: q.index,
        KeyConditionExpression: q.prefix ? `${pk} = :p AND begins_with(${sk}, :s)` : q.upTo ? `${pk} = :p AND ${sk} <= :u` : `${pk} = :p`,
        ExpressionAttributeValues: q.prefix ? { ':p': q.pk, ':s': q.prefix } : q.upTo ? { ':p': q.pk, ':u': q.upTo } : { ':p': q.pk },
        ExclusiveStartKey: start,
        // Global secondary indexes are eventually consistent only.
        ConsistentRead: q.index ? undefined : true,
      };
      if (q.projection) {
        input.ProjectionExpression = q.projection.split(',').map((_, i) => `#p${i}`).join(',');
        input.ExpressionAttributeNames = Object.fromEntries(q.projection.split(',').map((n, i) => [`#p${i}`, n]));
      }
      const r = await this.doc.send(new QueryCommand(input));
      out.push(...((r.Items ?? []) as Item[]));
      this.read += r.Items?.length ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** BatchWriteItem in chunks of 25, several in flight, retrying unprocessed items with backoff. */
  private async batchPut(items: readonly Item[]): Promise<void> {
    // BatchWriteItem refuses a request that names one key twice; the last write of a key wins, as it would one by one.
    const unique = [...new Map(items.map((i) => [`${String(i.pk)}\u0000${String(i.sk)}`, i])).values()];
    const chunks: Item[][] = [];
    for (let i = 0; i < unique.length; i += 25) chunks.push(unique.slice(i, i + 25));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        let pending = chunks[next++]!.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} items unprocessed after ${attempt} attempts`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          const left = (r.UnprocessedItems?.[this.table] ?? []) as typeof pending;
          this.written += pending.length - left.length;
          pending = left;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, chunks.length) }, worker));
  }
}

function stripKeys(i: Item): Item {
  const { pk: _pk, sk: _sk, ...rest } = i;
  return rest;
}

function toCase(i: Item): Case {
  const { createdAt: _c, certCount: _n, ...rest } = stripKeys(i);
  return rest as unknown as Case;
}

function pollKeys(cert: { caseId: string; sha256: string }, due: number | null): { pk2: string; sk2: string; pd: number } | null {
  if (due === null) return null;
  return { pk2: `POLL#${cert.sha256.charAt(0)}`, sk2: `${pad(due)}#${cert.caseId}#${cert.sha256}`, pd: due };
}

function certificateItem(cert: StoredCertificate, record: EvidenceRecord, rev: number, pollDue: number | null): Item {
  return { pk: `CASE#${cert.caseId}`, sk: `CERT#${cert.sha256}`, c: JSON.stringify(cert), ev: JSON.stringify(record), rev, ...(pollKeys(cert, pollDue) ?? {}) };
}

function toCaseCertificate(i: Item): CaseCertificate {
  if (typeof i.c !== 'string') {
    // Written before evidence records: the certificate's fields are top-level attributes.
    const { pk: _pk, sk: _sk, ...rest } = i;
    return { cert: rest as unknown as StoredCertificate, record: EMPTY_RECORD, rev: 0, pollDue: 0, legacy: true };
  }
  const pollDue = i.pd === undefined || i.pd === null ? null : Number(i.pd);
  return { cert: JSON.parse(i.c) as StoredCertificate, record: JSON.parse(String(i.ev)) as EvidenceRecord, rev: Number(i.rev ?? 0), pollDue };
}

function fromObservation(o: Observation): Item {
  return {
    observedAt: o.observedAt,
    source: { kind: o.source.kind, url: o.source.url },
    status: o.status,
    revocationTime: o.revocationTime,
    reasonCode: o.reasonCode,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    producedAt: o.producedAt,
    crlNumber: o.crlNumber ?? null,
    signer: o.signer ?? null,
    sha256: o.sha256 ?? null,
    error: o.error ?? null,
  };
}

function toObservation(i: Item): Observation {
  const source = i.source as { kind: 'ocsp' | 'crl'; url: string };
  return {
    observedAt: Number(i.observedAt),
    source: { kind: source.kind, url: source.url },
    status: i.status as Observation['status'],
    revocationTime: (i.revocationTime as number | null) ?? null,
    reasonCode: (i.reasonCode as number | null) ?? null,
    thisUpdate: (i.thisUpdate as number | null) ?? null,
    nextUpdate: (i.nextUpdate as number | null) ?? null,
    producedAt: (i.producedAt as number | null) ?? null,
    crlNumber: (i.crlNumber as string | null) ?? null,
    signer: (i.signer as string | null) ?? null,
    sha256: (i.sha256 as string | null) ?? null,
    error: (i.error as { kind: string; message: string } | null) ?? null,
  };
}

function toOpenRun(i: Item): OpenRun {
  return {
    runId: String(i.runId),
    startedAt: Number(i.startedAt),
    jobs: Number(i.jobs),
    remaining: Number(i.remaining),
    certificates: Number(i.certificates),
    observationsWritten: Number(i.observationsWritten ?? 0),
    itemsWritten: Number(i.itemsWritten ?? 0),
    sourcesFailed: Number(i.sourcesFailed ?? 0),
    finishedAt: i.finishedAt === undefined || i.finishedAt === null ? null : Number(i.finishedAt),
  };
}
