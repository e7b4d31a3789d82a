/**
 * The evidence trail over a Table (ports/table.ts): observations (append-only, keyed by their content),
 * CRL snapshots (put-if-absent) and each source's heartbeat. The base of TableStore (table-store.ts), which
 * adds runs and notices (table-runs.ts) and cases (table-store.ts) over the same table.
 */
import type { CrlSnapshot, ObservationStore, SourceState, StoredObservation } from '../ports/store.js';
import { sourceKey } from '../ports/store.js';
import { ABSENT, queryAll, type Table } from '../ports/table.js';
import {
  fromObservation,
  OBSERVATION_PREFIX,
  observationPartition,
  observationSortKey,
  snapshotKey,
  snapshotPartition,
  SOURCES,
  stripKeys,
  toObservation,
} from './layout.js';

export class TableObservationStore implements ObservationStore {
  /** The table itself, for parts of the core kept in it beside the Store ports (the CCADB disclosures). */
  readonly table: Table;

  constructor(table: Table) {
    this.table = table;
  }

  /** Items written through this store since it was opened. */
  get itemsWritten(): number {
    return this.table.itemsWritten;
  }

  /** Items returned by queries and gets since the store was opened: what a run's reads cost. */
  get itemsRead(): number {
    return this.table.itemsRead;
  }

  async recordObservations(observations: readonly StoredObservation[]): Promise<number> {
    const items = observations.map((o) => ({
      pk: observationPartition(o.sha256Cert),
      sk: observationSortKey(o),
      ...fromObservation(o),
      raw: o.raw ? Buffer.from(o.raw) : undefined,
    }));
    await this.table.batchPut(items, 'observations');
    return items.length;
  }

  async listObservations(sha256: string): Promise<StoredObservation[]> {
    const items = await queryAll(
      this.table,
      { pk: observationPartition(sha256), prefix: OBSERVATION_PREFIX },
      `the observations of certificate ${sha256}`,
    );
    return items.map((i) => ({ ...toObservation(i), sha256Cert: sha256, raw: i.raw ? new Uint8Array(i.raw as Uint8Array) : null }));
  }

  async getSourceStates(): Promise<Map<string, SourceState>> {
    const items = await queryAll(this.table, { pk: SOURCES }, 'the source states');
    return new Map(items.map((i) => [String(i.sk), stripKeys(i) as unknown as SourceState]));
  }

  async putSourceStates(states: readonly SourceState[]): Promise<number> {
    await this.table.batchPut(
      states.map((s) => ({ pk: SOURCES, sk: sourceKey(s.kind, s.url), ...s })),
      'source states',
    );
    return states.length;
  }

  async putCrlSnapshot(s: CrlSnapshot): Promise<boolean> {
    return this.table.putIf({ ...snapshotKey(s), ...s }, ABSENT, `the snapshot of CRL ${s.url}`);
  }

  async listCrlSnapshots(url: string): Promise<CrlSnapshot[]> {
    return (await queryAll(this.table, { pk: snapshotPartition(url) }, `the snapshots of CRL ${url}`)).map(
      (i) => stripKeys(i) as unknown as CrlSnapshot,
    );
  }
}
