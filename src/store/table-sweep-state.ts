/**
 * The sweep state over the Table port (AWS: DynamoDB; tests: the memory table), the same port as the local
 * <home>/sweep/state.json (adapters/local/sweep-state-file.ts). Where the file is written whole, the table
 * keeps one item per sweep run, per CRL URL, per issuer key and per health finding (keys in store/layout.ts),
 * and `save` writes only the items that differ from what `load` read (or the last `save` wrote): an
 * unchanged URL costs no write, and at ~10,000 URLs a sweep rewrites the few that changed rather than
 * megabytes of state. An item no longer in the state is deleted.
 */
import {
  emptySweepState,
  type HealthFindingState,
  type IssuerInfo,
  type SweepRun,
  type SweepState,
  type SweepStateStore,
  type UrlState,
} from '../ports/revocation-index.js';
import type { HealthNoticeLedger, OpenSweep, SweepJobCounts, SweepLedger } from '../ports/sweep-runs.js';
import { ABSENT, PRESENT, queryAll, type Item, type Key, type Table } from '../ports/table.js';
import {
  openSweepKey,
  SWEEP_HEALTH,
  SWEEP_ISSUERS,
  SWEEP_OPEN,
  SWEEP_RUNS,
  SWEEP_URLS,
  sweepHealthKey,
  sweepNoticeKey,
  sweepHealthPrefix,
  sweepIssuerKey,
  sweepRunKey,
  sweepUrlKey,
} from './layout.js';

/** One part of the state: its partition, how an entry is keyed, and the entries by their state key. */
interface Part<T> {
  readonly pk: string;
  readonly noun: string;
  readonly keyOf: (stateKey: string, value: T) => Key;
  readonly entries: (s: SweepState) => Iterable<readonly [string, T]>;
}

const PARTS = {
  sweeps: {
    pk: SWEEP_RUNS,
    noun: 'sweep runs',
    keyOf: (_k: string, run: SweepRun) => sweepRunKey(run.sweep),
    entries: (s: SweepState) => s.sweeps.map((r) => [String(r.sweep), r] as const),
  } satisfies Part<SweepRun>,
  urls: {
    pk: SWEEP_URLS,
    noun: 'sweep URL states',
    keyOf: (url: string) => sweepUrlKey(url),
    entries: (s: SweepState) => Object.entries(s.urls),
  } satisfies Part<UrlState>,
  issuers: {
    pk: SWEEP_ISSUERS,
    noun: 'sweep issuers',
    keyOf: (issuerKey: string) => sweepIssuerKey(issuerKey),
    entries: (s: SweepState) => Object.entries(s.issuers),
  } satisfies Part<IssuerInfo>,
  health: {
    pk: SWEEP_HEALTH,
    noun: 'CRL-health findings',
    keyOf: (findingKey: string, f: HealthFindingState) => sweepHealthKey(f.url, findingKey),
    entries: (s: SweepState) => Object.entries(s.health),
  } satisfies Part<HealthFindingState>,
};

/** Each item holds its state key (`k`) and its value as JSON (`d`): what is compared and what is read back. */
const itemKey = (key: Key): string => `${key.pk}\n${key.sk}`;

export class TableSweepState implements SweepStateStore, SweepLedger, HealthNoticeLedger {
  /** What the table holds, as this instance last read or wrote it: item key → JSON. */
  private held = new Map<string, { key: Key; json: string }>();

  constructor(private readonly table: Table) {}

  async load(): Promise<SweepState> {
    const held = new Map<string, { key: Key; json: string }>();
    const read = async <T>(part: Part<T>): Promise<[string, T][]> => {
      const items = await queryAll(this.table, { pk: part.pk }, `the ${part.noun}`);
      return items.map((i) => {
        held.set(itemKey({ pk: String(i.pk), sk: String(i.sk) }), { key: { pk: String(i.pk), sk: String(i.sk) }, json: String(i.d) });
        return [String(i.k), JSON.parse(String(i.d)) as T];
      });
    };
    const [sweeps, urls, issuers, health] = await Promise.all([
      read(PARTS.sweeps),
      read(PARTS.urls),
      read(PARTS.issuers),
      read(PARTS.health),
    ]);
    this.held = held;
    return {
      ...emptySweepState(),
      sweeps: sweeps.map(([, r]) => r).sort((a, b) => a.sweep - b.sweep),
      urls: Object.fromEntries(urls),
      issuers: Object.fromEntries(issuers),
      health: Object.fromEntries(health),
    };
  }

  async save(state: SweepState): Promise<void> {
    const next = new Map<string, { key: Key; json: string; k: string }>();
    const collect = <T>(part: Part<T>): void => {
      for (const [k, value] of part.entries(state)) {
        const key = part.keyOf(k, value);
        next.set(itemKey(key), { key, json: JSON.stringify(value), k });
      }
    };
    collect(PARTS.sweeps);
    collect(PARTS.urls);
    collect(PARTS.issuers);
    collect(PARTS.health);
    const puts: Item[] = [];
    for (const [id, e] of next) if (this.held.get(id)?.json !== e.json) puts.push({ ...e.key, k: e.k, d: e.json });
    await this.table.batchPut(puts, 'sweep state items');
    for (const [id, e] of this.held) if (!next.has(id)) await this.table.deleteIf(e.key, PRESENT, 'a sweep state item');
    this.held = new Map([...next].map(([id, e]) => [id, { key: e.key, json: e.json }]));
  }

  // -- the fan-out (ports/sweep-runs.ts): one job's URLs at a time, and the run's countdown ----------------

  async lastSweep(): Promise<number> {
    const [run] = await this.table.queryLatest(SWEEP_RUNS, 1, 'the last sweep run');
    const [open] = await this.table.queryLatest(SWEEP_OPEN, 1, 'the last open sweep');
    return Math.max(0, Number(run?.sk ?? 0), Number(open?.sk ?? 0));
  }

  async openSweep(run: OpenSweep, expiresAt: number): Promise<boolean> {
    // finishedAt stays absent until claimSweepFinish sets it (its condition is that it is absent).
    const item = { ...openSweepKey(run.sweep), ...run, finishedAt: undefined, expiresAt: Math.trunc(expiresAt / 1000) };
    return this.table.putIf(item, ABSENT, `open sweep ${run.sweep}`);
  }

  async openSweeps(): Promise<OpenSweep[]> {
    return queryAll(this.table, { pk: SWEEP_OPEN }, 'the open sweeps', toOpenSweep);
  }

  async getOpenSweep(sweep: number, jobId: string): Promise<{ run: OpenSweep; jobDone: boolean } | null> {
    const item = await this.table.get(openSweepKey(sweep), `open sweep ${sweep}`);
    if (!item) return null;
    return { run: toOpenSweep(item), jobDone: item.done instanceof Set && item.done.has(jobId) };
  }

  async completeSweepJob(sweep: number, jobId: string, counts: SweepJobCounts): Promise<{ run: OpenSweep; duplicate: boolean }> {
    const key = openSweepKey(sweep);
    // One conditional update: the job is counted once however often the queue delivers it.
    const updated = await this.table.updateIf(
      key,
      { add: { done: new Set([jobId]), ...counts, remaining: -1 } },
      { and: [PRESENT, { attr: 'done', lacks: jobId }] },
      `job ${jobId} of sweep ${sweep}`,
      { returnNew: true },
    );
    if (updated) return { run: toOpenSweep(updated), duplicate: false };
    const existing = await this.table.get(key, `open sweep ${sweep}`);
    if (!existing) throw new Error(`sweep ${sweep} is not open (expired or never planned)`);
    return { run: toOpenSweep(existing), duplicate: true };
  }

  async claimSweepFinish(sweep: number, at: number): Promise<boolean> {
    const claimed = await this.table.updateIf(
      openSweepKey(sweep),
      { set: { finishedAt: at } },
      { and: [PRESENT, { attr: 'finishedAt', absent: true }, { attr: 'remaining', le: 0 }] },
      `the finish of sweep ${sweep}`,
    );
    return claimed !== null;
  }

  async recordSweep(run: SweepRun): Promise<void> {
    await this.table.put({ ...sweepRunKey(run.sweep), k: String(run.sweep), d: JSON.stringify(run) }, `sweep run ${run.sweep}`);
  }

  async urlStates(urls: readonly string[]): Promise<Map<string, UrlState>> {
    const items = await this.table.batchGet(
      [...new Set(urls)].map((u) => sweepUrlKey(u)),
      'sweep URL states',
    );
    return new Map(items.map((i) => [String(i.k), JSON.parse(String(i.d)) as UrlState]));
  }

  async putUrlState(state: UrlState): Promise<void> {
    await this.table.put({ ...sweepUrlKey(state.url), k: state.url, d: JSON.stringify(state) }, `the sweep state of ${state.url}`);
  }

  async healthOf(url: string): Promise<Record<string, HealthFindingState>> {
    const items = await queryAll(this.table, { pk: SWEEP_HEALTH, prefix: sweepHealthPrefix(url) }, `the CRL-health findings of ${url}`);
    return Object.fromEntries(items.map((i) => [String(i.k), JSON.parse(String(i.d)) as HealthFindingState]));
  }

  async putHealth(findings: Readonly<Record<string, HealthFindingState>>): Promise<void> {
    await this.table.batchPut(
      Object.entries(findings).map(([k, f]) => ({ ...sweepHealthKey(f.url, k), k, d: JSON.stringify(f) })),
      'CRL-health findings',
    );
  }

  async putIssuers(issuers: readonly IssuerInfo[]): Promise<void> {
    await this.table.batchPut(
      issuers.map((i) => ({ ...sweepIssuerKey(i.issuerKey), k: i.issuerKey, d: JSON.stringify(i) })),
      'sweep issuers',
    );
  }

  // -- CRL-health notices (notify/crl-health-notices.ts): claimed, then sent, once -----------------------

  async claimHealthNotice(noticeKey: string, sweep: number, now: number, leaseMs: number): Promise<boolean> {
    // Attribute names avoid DynamoDB reserved words (STATE, AT). Absent, or claimed under a lease that lapsed (its sender died between claim and send); never once sent.
    return this.table.putIf(
      { ...sweepNoticeKey(noticeKey), k: noticeKey, noticeState: 'claimed', sweep, claimedAt: now },
      {
        or: [
          ABSENT,
          {
            and: [
              { attr: 'noticeState', eq: 'claimed' },
              { attr: 'claimedAt', lt: now - leaseMs },
            ],
          },
        ],
      },
      `the CRL-health notice ${noticeKey}`,
    );
  }

  async markHealthNoticeSent(noticeKey: string, sweep: number, now: number): Promise<void> {
    await this.table.put(
      { ...sweepNoticeKey(noticeKey), k: noticeKey, noticeState: 'sent', sweep, claimedAt: now },
      `the CRL-health notice ${noticeKey}`,
    );
  }

  async releaseHealthNotice(noticeKey: string, sweep: number): Promise<void> {
    await this.table.deleteIf(
      sweepNoticeKey(noticeKey),
      {
        and: [
          { attr: 'noticeState', eq: 'claimed' },
          { attr: 'sweep', eq: sweep },
        ],
      },
      `the CRL-health notice ${noticeKey}`,
    );
  }
}

function toOpenSweep(i: Item): OpenSweep {
  return {
    sweep: Number(i.sweep),
    startedAt: Number(i.startedAt),
    jobs: Number(i.jobs),
    remaining: Number(i.remaining),
    urls: Number(i.urls ?? 0),
    changed: Number(i.changed ?? 0),
    unchanged: Number(i.unchanged ?? 0),
    faults: Number(i.faults ?? 0),
    finishedAt: i.finishedAt === undefined || i.finishedAt === null ? null : Number(i.finishedAt),
  };
}
