/**
 * Builds the revocation index from the difference between consecutive
 * snapshots of one URL: an unchanged CRL (a 304, or the same bytes) costs no
 * index work, a changed one costs a merge of the two sorted entry lists and
 * one fold per serial that changed.
 *
 * Folding is idempotent: a segment replayed after a crash (its records
 * written, the sweep state not) changes nothing, because an open listing of
 * the same URL is kept and an equal claim is not appended twice.
 */
import type { ChangeSegment, Claim, IndexRecord, Listing, RevocationIndexStore, SnapshotRef } from '../ports/revocation-index.js';
import type { CrlEntry } from './crl-entries.js';

export interface EntryDiff {
  readonly added: CrlEntry[];
  readonly removed: CrlEntry[];
  /** Listed in both, with another revocationDate or reasonCode in the newer. */
  readonly claimChanged: CrlEntry[];
}

/** Merges two entry lists sorted by serial (crl-entries.ts): O(n + m), nothing allocated per unchanged entry. */
export function diffEntries(previous: readonly CrlEntry[], next: readonly CrlEntry[]): EntryDiff {
  const added: CrlEntry[] = [];
  const removed: CrlEntry[] = [];
  const claimChanged: CrlEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < previous.length || j < next.length) {
    const a = previous[i];
    const b = next[j];
    if (b === undefined || (a !== undefined && a.serial < b.serial)) {
      removed.push(a!);
      i++;
    } else if (a === undefined || b.serial < a.serial) {
      added.push(b);
      j++;
    } else {
      if (a.revocationDate !== b.revocationDate || a.reasonCode !== b.reasonCode) claimChanged.push(b);
      i++;
      j++;
    }
  }
  return { added, removed, claimChanged };
}

export interface SnapshotChange {
  readonly url: string;
  readonly issuerKey: string;
  readonly snapshot: SnapshotRef;
  /** The previous read of this URL (a 304 counts), null on its first. */
  readonly previousRead: number | null;
  /** The previous snapshot's entries; null when there was none, or its CRL is no longer kept. */
  readonly previous: { readonly sha256: string; readonly entries: readonly CrlEntry[] } | null;
  readonly entries: readonly CrlEntry[];
}

export interface IndexWork {
  readonly added: number;
  readonly removed: number;
  readonly claimChanged: number;
  /** Records written: the index work this snapshot cost. */
  readonly recordsWritten: number;
  /**
   * Serials newly listed here that another URL of the issuer lists too (an open listing), with those URLs:
   * the sweep's "serial in two shards" check, from the records this fold read anyway.
   */
  readonly listedElsewhere?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Applies one new snapshot of a URL to the index. Without the previous
 * entries every entry is folded as listed (an open listing of the URL stays
 * as it was, so only serials new to the URL get a first-seen time) and no
 * removal can be seen.
 */
export async function indexSnapshot(store: RevocationIndexStore, change: SnapshotChange): Promise<IndexWork> {
  const diff = change.previous
    ? diffEntries(change.previous.entries, change.entries)
    : { added: change.entries as CrlEntry[], removed: [], claimChanged: [] };
  await store.addSnapshot(change.snapshot);
  if (diff.added.length === 0 && diff.removed.length === 0 && diff.claimChanged.length === 0) {
    return { added: 0, removed: 0, claimChanged: 0, recordsWritten: 0 };
  }
  const sweep = change.snapshot.sweep;
  const touched = [...diff.added, ...diff.removed, ...diff.claimChanged].map((e) => e.serial);
  const existing = await store.records(change.issuerKey, touched);
  const records = new Map<string, IndexRecord>();
  const current = (serial: string): IndexRecord =>
    records.get(serial) ?? existing.get(serial) ?? { issuerKey: change.issuerKey, serial, listings: [], claims: [] };
  const listedElsewhere = new Map<string, string[]>();
  const fresh: IndexRecord[] = [];
  // Every serial new to the issuer gets the same listing: one (read-only) list shared by all their records, so
  // a first sweep's millions of records cost a claim each, and the store can pack the shared list once.
  const newListing: readonly Listing[] = [{ url: change.url, firstSeen: sweep, notListedAt: change.previousRead, removed: null }];
  for (const e of diff.added) {
    const before = records.get(e.serial) ?? existing.get(e.serial);
    if (!before) {
      // New to the issuer (every entry of a first sweep): the record made at once, kept apart from the map (the
      // added, removed and changed serials of a diff are distinct, so no later step of this fold looks it up).
      fresh.push({
        issuerKey: change.issuerKey,
        serial: e.serial,
        listings: newListing,
        claims: [{ url: change.url, sweep, revocationDate: e.revocationDate, reasonCode: e.reasonCode }],
      });
      continue;
    }
    const r = before;
    const elsewhere = r.listings.filter((l) => l.url !== change.url && l.removed === null).map((l) => l.url);
    if (elsewhere.length > 0) listedElsewhere.set(e.serial, elsewhere);
    const open = r.listings.some((l) => l.url === change.url && l.removed === null);
    const listings: Listing[] = open
      ? [...r.listings]
      : [...r.listings, { url: change.url, firstSeen: sweep, notListedAt: change.previousRead, removed: null }];
    records.set(e.serial, { ...r, listings, claims: withClaim(r.claims, change.url, sweep, e) });
  }
  for (const e of diff.claimChanged) {
    const r = current(e.serial);
    records.set(e.serial, { ...r, claims: withClaim(r.claims, change.url, sweep, e) });
  }
  for (const e of diff.removed) {
    const r = current(e.serial);
    const listings = r.listings.map((l) => (l.url === change.url && l.removed === null ? { ...l, removed: sweep } : l));
    records.set(e.serial, { ...r, listings });
  }
  let addedTuples: ChangeSegment['added'] | null = null;
  const segment: ChangeSegment = {
    url: change.url,
    issuerKey: change.issuerKey,
    sweep,
    previousRead: change.previousRead,
    previousSha256: change.previous?.sha256 ?? null,
    sha256: change.snapshot.sha256,
    // Made when read: a first read adds every entry of its CRL, and the local files name the kept CRL instead of
    // listing them (a tuple per entry, millions in a first sweep, made for nothing).
    get added() {
      addedTuples ??= diff.added.map((e) => [e.serial, e.revocationDate, e.reasonCode] as const);
      return addedTuples;
    },
    removed: diff.removed.map((e) => e.serial),
    claimChanged: diff.claimChanged.map((e) => [e.serial, e.revocationDate, e.reasonCode] as const),
  };
  // Only records that changed are written: a replayed or re-based segment folds to what is already there.
  const changed = fresh;
  for (const r of records.values()) {
    const before = existing.get(r.serial);
    if (!before || JSON.stringify(before) !== JSON.stringify(r)) changed.push(r);
  }
  await store.commit(segment, changed);
  return {
    added: diff.added.length,
    removed: diff.removed.length,
    claimChanged: diff.claimChanged.length,
    recordsWritten: changed.length,
    ...(listedElsewhere.size > 0 ? { listedElsewhere } : {}),
  };
}

/** Appends the claim unless this URL's latest claim already says the same. */
function withClaim(claims: readonly Claim[], url: string, sweep: number, e: CrlEntry): Claim[] {
  let latest: Claim | undefined;
  for (const c of claims) if (c.url === url) latest = c;
  if (latest && latest.revocationDate === e.revocationDate && latest.reasonCode === e.reasonCode) return [...claims];
  return [...claims, { url, sweep, revocationDate: e.revocationDate, reasonCode: e.reasonCode }];
}

/** The snapshot a URL served at a sweep: the latest one read at or before it. */
export function snapshotAt(snapshots: readonly SnapshotRef[], sweep: number): SnapshotRef | null {
  let found: SnapshotRef | null = null;
  for (const s of snapshots) if (s.sweep <= sweep) found = s;
  return found;
}
