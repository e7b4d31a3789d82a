/**
 * Runs over a Table: run records, digests, the changed-case marks the notifier follows, the fan-out run
 * ledger (a job counted once however often the queue delivers it, one finisher), job payloads too big for a
 * queue message, and the notice ledger (claims with a lease). Part of TableStore (table-store.ts).
 */
import type { NoticeLedger } from '../ports/mail.js';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { JobRoundOutcome, OpenRun, PlannedRound, RunLedger, SettledHeartbeat } from '../ports/runs.js';
import { sourceKey, StoreError, type RunRecord, type RunStore, type SourceState } from '../ports/store.js';
import { ABSENT, PRESENT, queryAll, type Condition } from '../ports/table.js';
import {
  CHANGED,
  caseIdOf,
  casePartition,
  changedKey,
  DIGESTED,
  DIGESTS,
  digestKey,
  jobOutcomeKey,
  jobOutcomeQuery,
  jobPayloadItems,
  jobPayloadPartItem,
  jobPayloadQuery,
  NOTICE_PREFIX,
  noticeKey,
  noticeKeyOf,
  OPENRUNS,
  openRunKey,
  RUNS,
  runKey,
  runRoundItems,
  runRoundQuery,
  sourceStateKey,
  stripKeys,
  toOpenRun,
} from './layout.js';
import { TableObservationStore } from './table-observations.js';
import { mapLimit } from '../util/map-limit.js';

/** A settled heartbeat's two attributes, as SourceState names them. */
const HEARTBEAT = ['settledConfirmedAt', 'settledDueAt'] as const;

export class TableRunStore extends TableObservationStore implements RunStore, RunLedger, NoticeLedger {
  // -- runs and digests ---------------------------------------------------------

  async recordRun(run: RunRecord): Promise<void> {
    await this.table.put({ ...runKey(run), ...run }, `run ${run.runId}`);
  }

  async recordDigest(at: number, findingKeys: readonly string[]): Promise<void> {
    await this.table.batchPut(
      findingKeys.map((key) => ({ pk: DIGESTED, sk: key, at })),
      'digested findings',
    );
    await this.table.put({ ...digestKey(at), at }, 'the digest record');
  }

  async digestedFindings(): Promise<Set<string>> {
    return new Set((await queryAll(this.table, { pk: DIGESTED, projection: ['sk'] }, 'the digested findings')).map((i) => String(i.sk)));
  }

  async lastDigestAt(): Promise<number | null> {
    const item = (await this.table.queryLatest(DIGESTS, 1, 'the last digest'))[0];
    return item ? Number(item.at) : null;
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return (await this.table.queryLatest(RUNS, limit, 'the latest runs')).map((i) => stripKeys(i) as unknown as RunRecord);
  }

  // -- changed cases (for the notifier) ---------------------------------------------

  async markCasesChanged(caseIds: readonly string[], at: number): Promise<void> {
    await this.table.batchPut(
      [...new Set(caseIds)].map((id) => ({ ...changedKey(id), changedAt: at })),
      'changed-case marks',
    );
  }

  async listChangedCases(): Promise<Map<string, number>> {
    return new Map(
      (await queryAll(this.table, { pk: CHANGED }, 'the changed-case marks')).map((i) => [caseIdOf(i.sk), Number(i.changedAt)]),
    );
  }

  async clearChangedCases(marks: ReadonlyMap<string, number>): Promise<void> {
    for (const [id, at] of marks) {
      // Only the mark as it was read: one renewed since then stays.
      await this.table.deleteIf(changedKey(id), { attr: 'changedAt', eq: at }, `the changed mark of case ${id}`);
    }
  }

  // -- fan-out runs ---------------------------------------------------------------------

  async openRun(run: OpenRun, expiresAt: number): Promise<void> {
    // finishedAt stays absent until claimRunFinish sets it (its condition is that it is absent).
    const item = { ...openRunKey(run.runId), ...run, finishedAt: undefined, expiresAt: Math.trunc(expiresAt / 1000) };
    if (!(await this.table.putIf(item, ABSENT, `open run ${run.runId}`)))
      throw new StoreError(`storing open run ${run.runId} in ${this.table.label} failed: the run id is taken`);
  }

  async completeRunJob(
    runId: string,
    jobId: string,
    counts: { observationsWritten: number; itemsWritten: number; sourcesFailed: number },
  ): Promise<{ run: OpenRun; duplicate: boolean }> {
    const key = openRunKey(runId);
    // One conditional update: the job is counted once however often the queue delivers it.
    const updated = await this.table.updateIf(
      key,
      {
        add: {
          done: new Set([jobId]),
          observationsWritten: counts.observationsWritten,
          itemsWritten: counts.itemsWritten,
          sourcesFailed: counts.sourcesFailed,
          remaining: -1,
        },
      },
      { and: [PRESENT, { attr: 'done', lacks: jobId }] },
      `job ${jobId} of run ${runId}`,
      { returnNew: true },
    );
    if (updated) return { run: toOpenRun(updated), duplicate: false };
    const existing = await this.table.get(key, `open run ${runId}`);
    if (!existing) throw new Error(`run ${runId} is not open (expired or never planned)`);
    return { run: toOpenRun(existing), duplicate: true };
  }

  async claimRunFinish(runId: string, at: number): Promise<boolean> {
    const claimed = await this.table.updateIf(
      openRunKey(runId),
      { set: { finishedAt: at } },
      { and: [PRESENT, { attr: 'finishedAt', absent: true }, { attr: 'remaining', le: 0 }] },
      `the finish of run ${runId}`,
    );
    return claimed !== null;
  }

  async getOpenRun(runId: string, jobId: string): Promise<{ run: OpenRun; jobDone: boolean } | null> {
    const item = await this.table.get(openRunKey(runId), `open run ${runId}`);
    if (!item) return null;
    return { run: toOpenRun(item), jobDone: item.done instanceof Set && item.done.has(jobId) };
  }

  async listOpenRuns(): Promise<OpenRun[]> {
    return queryAll(this.table, { pk: OPENRUNS }, 'the open runs', toOpenRun);
  }

  async putJobPayload(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Promise<number> {
    const parts = jobPayloadItems(runId, jobId, payload, expiresAt);
    await this.table.batchPut(parts, `payload parts of job ${jobId}`);
    return parts.length;
  }

  async putJobPayloadPart(runId: string, jobId: string, part: number, data: Uint8Array, expiresAt: number): Promise<void> {
    await this.table.put(jobPayloadPartItem(runId, jobId, part, data, expiresAt), `payload part ${part} of job ${jobId}`);
  }

  async addRunJobs(runId: string, jobs: number, certificates: number): Promise<void> {
    // An ADD, like completeRunJob's: the planner and the workers counting jobs done never overwrite each other.
    const updated = await this.table.updateIf(
      openRunKey(runId),
      { add: { jobs, remaining: jobs, certificates } },
      { and: [PRESENT, { attr: 'finishedAt', absent: true }] },
      `the job count of run ${runId}`,
    );
    if (updated === null) throw new StoreError(`adding jobs to run ${runId} in ${this.table.label} failed: the run is not open`);
  }

  async getJobPayload(runId: string, jobId: string): Promise<Uint8Array | null> {
    const parts = await queryAll(this.table, jobPayloadQuery(runId, jobId), `the payload of job ${jobId}`);
    if (parts.length === 0) return null;
    return Buffer.concat(parts.map((p) => p.data as Uint8Array));
  }

  // -- the settled rounds of a fan-out run (check/settled-round.ts) ------------------------------------

  async putRunRound(runId: string, round: PlannedRound, expiresAt: number): Promise<void> {
    await this.table.batchPut(runRoundItems(runId, gzipSync(JSON.stringify(round)), expiresAt), `settled round parts of run ${runId}`);
  }

  async getRunRound(runId: string): Promise<PlannedRound | null> {
    const parts = await queryAll(this.table, runRoundQuery(runId), `the settled rounds of run ${runId}`);
    if (parts.length === 0) return null;
    return JSON.parse(gunzipSync(Buffer.concat(parts.map((p) => p.data as Uint8Array))).toString('utf8')) as PlannedRound;
  }

  async addJobRoundOutcome(runId: string, jobId: string, outcome: JobRoundOutcome, expiresAt: number): Promise<void> {
    // String sets, added to: DynamoDB's ADD is a union, so a redelivered job's second outcome loses nothing of
    // its first and adds nothing twice. A join is kept as its JSON pair; the finisher takes each source's earliest.
    const add: Record<string, ReadonlySet<string>> = {};
    if (outcome.failed.size > 0) add.failed = new Set(outcome.failed);
    if (outcome.joins.size > 0)
      add.joins = new Set([...outcome.joins].map(([key, at]) => JSON.stringify([key, Number.isFinite(at) ? at : null])));
    if (Object.keys(add).length === 0) return;
    await this.table.updateIf(
      jobOutcomeKey(runId, jobId),
      { add, set: { expiresAt: Math.trunc(expiresAt / 1000) } },
      { or: [ABSENT, PRESENT] },
      `the settled-round outcome of job ${jobId} (run ${runId})`,
    );
  }

  async getRunRoundOutcome(runId: string): Promise<JobRoundOutcome> {
    const failed = new Set<string>();
    const joins = new Map<string, number>();
    await this.table.queryPages(jobOutcomeQuery(runId), `the settled-round outcomes of run ${runId}`, (items) => {
      for (const item of items) {
        for (const key of (item.failed as Set<string> | undefined) ?? []) failed.add(key);
        for (const pair of (item.joins as Set<string> | undefined) ?? []) {
          const [key, at] = JSON.parse(pair) as [string, number | null];
          joins.set(key, Math.min(joins.get(key) ?? Number.POSITIVE_INFINITY, at ?? Number.NEGATIVE_INFINITY));
        }
      }
    });
    return { failed, joins };
  }

  async putJobSourceStates(states: readonly SourceState[]): Promise<number> {
    if (states.length === 0) return 0;
    // The run's finisher alone writes a heartbeat, after every job of the run has written its states: each
    // state written here keeps the one stored (none written meanwhile), so it is neither lost nor moved back.
    const stored = await this.getSourceStatesOf(states.map((s) => sourceKey(s.kind, s.url)));
    const kept = states.map((s): SourceState => {
      const { settledConfirmedAt: _c, settledDueAt: _d, ...rest } = s;
      const before = stored.get(sourceKey(s.kind, s.url));
      return before?.settledConfirmedAt != null || before?.settledDueAt != null
        ? { ...rest, settledConfirmedAt: before.settledConfirmedAt ?? null, settledDueAt: before.settledDueAt ?? null }
        : rest;
    });
    return this.putSourceStates(kept);
  }

  async getSourceStatesOf(keys: readonly string[]): Promise<Map<string, SourceState>> {
    const items = await this.table.batchGet([...new Set(keys)].map(sourceStateKey), 'source states');
    return new Map(items.map((i) => [String(i.sk), stripKeys(i) as unknown as SourceState]));
  }

  async setSettledHeartbeats(heartbeats: ReadonlyMap<string, SettledHeartbeat>): Promise<number> {
    let written = 0;
    // One update per source, of the heartbeat only (thousands of sources: several at a time).
    await mapLimit([...heartbeats], 8, async ([key, heartbeat]) => {
      const set: Record<string, number> = {};
      const remove: string[] = [];
      for (const attr of HEARTBEAT) {
        const v = heartbeat[attr];
        if (v === null) remove.push(attr);
        else set[attr] = v;
      }
      if (await this.table.updateIf(sourceStateKey(key), { set, remove }, PRESENT, `the settled heartbeat of ${key}`)) written++;
    });
    return written;
  }

  // -- notice ledger ------------------------------------------------------------------------

  async claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]> {
    // New, released after a failed send, or claimed by a run that never finished.
    const claimable: Condition = {
      or: [
        ABSENT,
        { attr: 'st', eq: 'released' },
        {
          and: [
            { attr: 'st', eq: 'sending' },
            { attr: 'claimedAt', lt: now - leaseMs },
          ],
        },
      ],
    };
    const claimed: string[] = [];
    for (const key of keys) {
      const item = { ...noticeKey(caseId, key), st: 'sending', runId, claimedAt: now };
      if (await this.table.putIf(item, claimable, `notice ${key} of case ${caseId}`)) claimed.push(key);
    }
    return claimed;
  }

  async markNoticesSent(caseId: string, keys: readonly string[], runId: string, now: number): Promise<void> {
    await this.updateNotices(caseId, keys, runId, { st: 'sent', sentAt: now });
  }

  async releaseNotices(caseId: string, keys: readonly string[], runId: string): Promise<void> {
    await this.updateNotices(caseId, keys, runId, { st: 'released' });
  }

  async listNotices(caseId: string): Promise<{ key: string; state: string; claimedAt: number; sentAt: number | null }[]> {
    const items = await queryAll(this.table, { pk: casePartition(caseId), prefix: NOTICE_PREFIX }, `the notices of case ${caseId}`);
    return items.map((i) => ({
      key: noticeKeyOf(i.sk),
      state: String(i.st),
      claimedAt: Number(i.claimedAt),
      sentAt: i.sentAt === undefined ? null : Number(i.sentAt),
    }));
  }

  private async updateNotices(caseId: string, keys: readonly string[], runId: string, set: Record<string, string | number>): Promise<void> {
    for (const key of keys) {
      // A failed condition: another run took the claim over after ours lapsed, and it owns the notice now.
      await this.table.updateIf(noticeKey(caseId, key), { set }, { attr: 'runId', eq: runId }, `notice ${key} of case ${caseId}`);
    }
  }
}
