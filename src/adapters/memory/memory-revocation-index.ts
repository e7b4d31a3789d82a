/** The revocation index and sweep state in memory, for unit tests (same port as adapters/local/revocation-index-files.ts). */
import {
  emptySweepState,
  type ChangeSegment,
  type IndexRecord,
  type RevocationIndexStore,
  type SnapshotRef,
  type SweepState,
  type SweepStateStore,
} from '../../ports/revocation-index.js';

export class MemoryRevocationIndex implements RevocationIndexStore {
  readonly byIssuer = new Map<string, Map<string, IndexRecord>>();
  readonly segmentLog: ChangeSegment[] = [];
  readonly snapshotLog: SnapshotRef[] = [];

  async records(issuerKey: string, serials: readonly string[]): Promise<Map<string, IndexRecord>> {
    const held = this.byIssuer.get(issuerKey);
    const out = new Map<string, IndexRecord>();
    for (const s of serials) {
      const r = held?.get(s);
      if (r) out.set(s, structuredClone(r));
    }
    return out;
  }

  async issuerKeys(): Promise<string[]> {
    return [...this.byIssuer.keys()].sort();
  }

  async commit(segment: ChangeSegment, records: readonly IndexRecord[]): Promise<void> {
    this.segmentLog.push(structuredClone(segment));
    if (records.length === 0) return;
    const held = this.byIssuer.get(segment.issuerKey) ?? new Map<string, IndexRecord>();
    for (const r of records) held.set(r.serial, structuredClone(r));
    this.byIssuer.set(segment.issuerKey, held);
  }

  async addSnapshot(snapshot: SnapshotRef): Promise<void> {
    if (!this.snapshotLog.some((s) => s.url === snapshot.url && s.sweep === snapshot.sweep && s.sha256 === snapshot.sha256)) {
      this.snapshotLog.push({ ...snapshot });
    }
  }

  async snapshots(url: string): Promise<SnapshotRef[]> {
    return this.snapshotLog.filter((s) => s.url === url);
  }

  async segments(url: string): Promise<ChangeSegment[]> {
    return this.segmentLog.filter((s) => s.url === url);
  }
}

export class MemorySweepState implements SweepStateStore {
  private state: SweepState = emptySweepState();

  async load(): Promise<SweepState> {
    return structuredClone(this.state);
  }

  async save(state: SweepState): Promise<void> {
    this.state = structuredClone(state);
  }
}
