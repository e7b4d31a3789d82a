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
import { PRESENT, queryAll, type Item, type Key, type Table } from '../ports/table.js';
import { SWEEP_HEALTH, SWEEP_ISSUERS, SWEEP_RUNS, SWEEP_URLS, sweepHealthKey, sweepIssuerKey, sweepRunKey, sweepUrlKey } from './layout.js';

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
    keyOf: (findingKey: string) => sweepHealthKey(findingKey),
    entries: (s: SweepState) => Object.entries(s.health),
  } satisfies Part<HealthFindingState>,
};

/** Each item holds its state key (`k`) and its value as JSON (`d`): what is compared and what is read back. */
const itemKey = (key: Key): string => `${key.pk}\n${key.sk}`;

export class TableSweepState implements SweepStateStore {
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
}
