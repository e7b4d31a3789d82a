/**
 * The revocation index over the Table port (AWS: DynamoDB; tests: the memory table), the same port as the
 * local files (adapters/local/revocation-index-files.ts). Item layout in store/layout.ts; why this layout
 * and what it costs: docs/data-model.md, "The revocation index in the table".
 *
 * - records: one item per (issuer key, serial), read by key in batches. A changed CRL rewrites only the
 *   records its difference touched, each under 1 KB (one write unit), so index work stays proportional to
 *   the change; the lookup of n serials is n/100 batch reads.
 * - segments and snapshots: append-only per URL, read as one partition in sweep order. A segment is gzip
 *   JSON split into parts (a first read of a big CRL lists a million serials). Written before the records
 *   (commit), with keys fixed by URL and sweep, so a replay after a crash rewrites the same items.
 * - record writes are conditional on the record's revision (`rev`): the shards of one issuer are read by
 *   parallel workers, and two of them may fold the same serial at once (a serial on two shards, or moved
 *   from one to another). A fold of URL u changes only u's listings and claims, so on a conflict the
 *   record is read again and u's part of the fold is laid over what the other worker wrote: nothing lost.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ChangeSegment, Claim, IndexRecord, Listing, RevocationIndexStore, SnapshotRef } from '../ports/revocation-index.js';
import { ABSENT, PRESENT, queryAll, type Condition, type Item, type Table } from '../ports/table.js';
import { groupBy } from '../util/group-by.js';
import { mapLimit } from '../util/map-limit.js';
import {
  changeSegmentKey,
  changeSegmentPartition,
  changeSegmentSweepOf,
  REVOCATION_ISSUERS,
  revocationIssuerKey,
  revocationRecordKey,
  sweepSnapshotKey,
  sweepSnapshotPartition,
} from './layout.js';

/** Conditional writes cannot be batched (BatchWriteItem takes no condition): this many in flight at once. */
const RECORD_WRITES_IN_FLIGHT = 16;
/** Compare-and-swap attempts per record before the commit fails (and the queue retries the job). */
const RECORD_WRITE_ATTEMPTS = 8;

/** DynamoDB items stop at 400 KB; a segment part leaves room for its keys. */
const SEGMENT_PART_BYTES = 300 * 1024;

type PackedListing = [string, number, number | null, number | null];
type PackedClaim = [string, number, number, number | null];

export class TableRevocationIndex implements RevocationIndexStore {
  /** Issuer keys known to have their RIX#ISSUERS item: written once per issuer per process, not per commit. */
  private readonly issuersWritten = new Set<string>();

  constructor(private readonly table: Table) {}

  async records(issuerKey: string, serials: readonly string[]): Promise<Map<string, IndexRecord>> {
    const unique = [...new Set(serials)];
    const items = await this.table.batchGet(
      unique.map((serial) => revocationRecordKey(issuerKey, serial)),
      'revocation index records',
    );
    const out = new Map<string, IndexRecord>();
    for (const item of items) {
      const serial = String(item.sk);
      out.set(serial, unpack(issuerKey, serial, String(item.r)));
    }
    return out;
  }

  async issuerKeys(): Promise<string[]> {
    return queryAll(this.table, { pk: REVOCATION_ISSUERS }, 'the revocation index issuers', (i) => String(i.sk)).then((keys) =>
      keys.sort(),
    );
  }

  async commit(segment: ChangeSegment, records: readonly IndexRecord[]): Promise<void> {
    // The segment first: it is the source of truth, and the records fold from it again on a replay.
    const zipped = gzipSync(JSON.stringify(segment));
    const count = Math.max(1, Math.ceil(zipped.length / SEGMENT_PART_BYTES));
    const parts: Item[] = [];
    for (let n = 0; n < count; n++) {
      parts.push({
        ...changeSegmentKey(segment.url, segment.sweep, n),
        // Every part says how many there are: a replay that wrote fewer leaves no stale tail in the stream.
        parts: count,
        data: Buffer.from(zipped.subarray(n * SEGMENT_PART_BYTES, (n + 1) * SEGMENT_PART_BYTES)),
      });
    }
    await this.table.batchPut(parts, 'change segment parts');
    if (records.length === 0) return;
    if (!this.issuersWritten.has(segment.issuerKey)) {
      await this.table.put({ ...revocationIssuerKey(segment.issuerKey) }, 'a revocation index issuer');
      this.issuersWritten.add(segment.issuerKey);
    }
    // The records as the table holds them now, each laid under this fold's part (segment.url's) and written
    // only over the revision read; a conflict reads again and lays it over the newer record.
    let pending = records;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > RECORD_WRITE_ATTEMPTS)
        throw new Error(
          `revocation index records of ${segment.url}: ${pending.length} still changed by other writers after ${RECORD_WRITE_ATTEMPTS} attempts`,
        );
      const current = await this.currentRecords(
        segment.issuerKey,
        pending.map((r) => r.serial),
      );
      const conflicted = await mapLimit(pending, RECORD_WRITES_IN_FLIGHT, async (r) => {
        const held = current.get(r.serial) ?? null;
        const merged = held ? withUrlPart(held.record, r, segment.url) : r;
        const written = await this.table.putIf(
          { ...revocationRecordKey(r.issuerKey, r.serial), r: pack(merged), rev: (held?.rev ?? 0) + 1 },
          revisionCondition(held),
          'a revocation index record',
        );
        return written ? null : r;
      });
      pending = conflicted.filter((r): r is IndexRecord => r !== null);
    }
  }

  /** Records with their revisions (0 for an item written before revisions were kept). */
  private async currentRecords(issuerKey: string, serials: readonly string[]): Promise<Map<string, Revised>> {
    const items = await this.table.batchGet(
      [...new Set(serials)].map((serial) => revocationRecordKey(issuerKey, serial)),
      'revocation index records',
    );
    return new Map(
      items.map((i) => [String(i.sk), { record: unpack(issuerKey, String(i.sk), String(i.r)), rev: Number(i.rev ?? 0) }] as const),
    );
  }

  async addSnapshot(snapshot: SnapshotRef): Promise<void> {
    // Keyed by URL, sweep and hash: adding the same snapshot again rewrites the same item.
    await this.table.put({ ...sweepSnapshotKey(snapshot), d: JSON.stringify(snapshot) }, 'a sweep snapshot');
  }

  async snapshots(url: string): Promise<SnapshotRef[]> {
    return queryAll(this.table, { pk: sweepSnapshotPartition(url) }, 'sweep snapshots', (i) => JSON.parse(String(i.d)) as SnapshotRef);
  }

  async segments(url: string): Promise<ChangeSegment[]> {
    const parts = await queryAll(this.table, { pk: changeSegmentPartition(url) }, 'change segments');
    // Parts sort by sweep, then part number: each sweep's parts joined in order are one gzip stream.
    return [...groupBy(parts, (p) => changeSegmentSweepOf(p.sk)).values()].map((ps) => {
      const used = ps.slice(0, Number(ps[0]!.parts));
      return JSON.parse(gunzipSync(Buffer.concat(used.map((p) => toBytes(p.data)))).toString('utf8')) as ChangeSegment;
    });
  }
}

interface Revised {
  readonly record: IndexRecord;
  readonly rev: number;
}

/** The write goes through only over the revision read: absent, an item without `rev`, or that `rev`. */
function revisionCondition(held: Revised | null): Condition {
  if (!held) return ABSENT;
  if (held.rev === 0) return { and: [PRESENT, { attr: 'rev', absent: true }] };
  return { attr: 'rev', eq: held.rev };
}

/**
 * `held` with the listings and claims of `url` taken from `folded`: a fold of one URL's snapshot changes
 * only that URL's part of a record (sweep/revocation-index.ts), so every other URL's part stays as held.
 */
export function withUrlPart(held: IndexRecord, folded: IndexRecord, url: string): IndexRecord {
  const others = (r: IndexRecord) => JSON.stringify([r.listings.filter((l) => l.url !== url), r.claims.filter((c) => c.url !== url)]);
  // The usual case: nobody else wrote since the fold read the record, and it is written as folded.
  if (others(held) === others(folded)) return folded;
  // Both in the order they happened (a stable sort keeps each URL's own order within a sweep).
  return {
    ...held,
    listings: [...held.listings.filter((l) => l.url !== url), ...folded.listings.filter((l) => l.url === url)].sort(
      (a, b) => a.firstSeen - b.firstSeen,
    ),
    claims: [...held.claims.filter((c) => c.url !== url), ...folded.claims.filter((c) => c.url === url)].sort((a, b) => a.sweep - b.sweep),
  };
}

const toBytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : Buffer.from(String(v), 'base64'));

/** A record as one compact JSON string: [[url, firstSeen, notListedAt, removed]…], [[url, sweep, revocationDate s, reason]…]. */
function pack(r: IndexRecord): string {
  const listings: PackedListing[] = r.listings.map((l) => [l.url, l.firstSeen, l.notListedAt, l.removed]);
  const claims: PackedClaim[] = r.claims.map((c) => [c.url, c.sweep, c.revocationDate / 1000, c.reasonCode]);
  return JSON.stringify([listings, claims]);
}

function unpack(issuerKey: string, serial: string, packed: string): IndexRecord {
  const [listings, claims] = JSON.parse(packed) as [PackedListing[], PackedClaim[]];
  return {
    issuerKey,
    serial,
    listings: listings.map(([url, firstSeen, notListedAt, removed]): Listing => ({ url, firstSeen, notListedAt, removed })),
    claims: claims.map(([url, sweep, date, reasonCode]): Claim => ({ url, sweep, revocationDate: date * 1000, reasonCode })),
  };
}
