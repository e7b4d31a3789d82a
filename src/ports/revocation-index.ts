/**
 * The revocation index (issue 27): for every (issuer key, serial) ever listed
 * on a swept CRL, when its listing first appeared, what the CRL claimed, and
 * when it was taken off. The index is built from the difference between two
 * consecutive snapshots of one URL (sweep/revocation-index.ts), so this port
 * is written one changed URL at a time and read one issuer at a time.
 *
 * Sweeps are referred to by their sequence number (1, 2, ...); the sweep
 * state (SweepStateStore) says when each ran. The issuer key is the SHA-256
 * of the CA certificate's subjectPublicKeyInfo: a CA's cross-certificates
 * and re-issued certificates share it, and a CRL verified with one of them
 * speaks for all.
 */

/** One time a serial was listed on one URL's CRL, from first seen to removed. */
export interface Listing {
  readonly url: string;
  /** The sweep that first read a CRL of this URL listing the serial. */
  readonly firstSeen: number;
  /**
   * The last sweep that read this URL's CRL without the serial, before `firstSeen`: the other end of the
   * bracket. null when `firstSeen` was the first read of the URL (listed "since at least" then).
   */
  readonly notListedAt: number | null;
  /** The sweep that first read this URL's CRL without the serial after it was listed; null while listed. */
  readonly removed: number | null;
}

/** What a CRL claimed about a serial; a later different claim is appended, never overwritten. */
export interface Claim {
  readonly url: string;
  /** The sweep that first read this claim. */
  readonly sweep: number;
  readonly revocationDate: number;
  readonly reasonCode: number | null;
}

export interface IndexRecord {
  readonly issuerKey: string;
  readonly serial: string;
  readonly listings: readonly Listing[];
  readonly claims: readonly Claim[];
}

/** One distinct CRL read at a URL (unchanged re-reads add none). */
export interface SnapshotRef {
  readonly url: string;
  readonly sweep: number;
  /** When it was read (epoch ms). */
  readonly at: number;
  readonly sha256: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly crlNumber: string | null;
  readonly entries: number;
}

/** The difference between two consecutive snapshots of one URL, appended to that URL's history. */
export interface ChangeSegment {
  readonly url: string;
  readonly issuerKey: string;
  readonly sweep: number;
  /** The previous read of the URL (null: the first); `previousSha256` its snapshot, null when not kept. */
  readonly previousRead: number | null;
  readonly previousSha256: string | null;
  readonly sha256: string;
  /** [serial, revocationDate, reasonCode] */
  readonly added: readonly (readonly [string, number, number | null])[];
  readonly removed: readonly string[];
  readonly claimChanged: readonly (readonly [string, number, number | null])[];
}

export interface RevocationIndexStore {
  /** The folded records of `serials` under one issuer key; a serial never listed is absent from the map. */
  records(issuerKey: string, serials: readonly string[]): Promise<Map<string, IndexRecord>>;
  /** Every issuer key the index holds records for. */
  issuerKeys(): Promise<string[]>;
  /**
   * Records one URL's change: the segment first (the source of truth, append-only), then the records it
   * touched. Replaying a segment after a crash folds to the same records.
   */
  commit(segment: ChangeSegment, records: readonly IndexRecord[]): Promise<void>;
  addSnapshot(snapshot: SnapshotRef): Promise<void>;
  /** A URL's snapshots, oldest first. */
  snapshots(url: string): Promise<SnapshotRef[]>;
  /** A URL's change segments, oldest first. */
  segments(url: string): Promise<ChangeSegment[]>;
  /**
   * An index that writes behind its commits (the local files) makes every commit durable, or throws the
   * first write that failed; the sweep calls it before it saves its state.
   */
  flush?(): Promise<void>;
}

/** A sweep run as the state keeps it. */
export interface SweepRun {
  readonly sweep: number;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly urls: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly faults: number;
  /**
   * Per CA owner, how its CRL URLs fared in this sweep (what the site's availability chart draws). Absent
   * in sweeps recorded before it was kept: those are shown as not recorded, never guessed.
   */
  readonly availability?: Readonly<Record<string, OwnerAvailability>>;
}

/** One CA owner's CRL URLs in one sweep. */
export interface OwnerAvailability {
  /** The URLs the sweep read. */
  readonly urls: number;
  /** Those where a verified CRL stood after the read (changed, or unchanged: a 304 or the same bytes). */
  readonly readable: number;
  /** Those that could not be fetched at all (HTTP error, timeout, refused, too large). */
  readonly unreachable: number;
}

/** A fault reading a URL, kept while it lasts (CCADB Policy 2.1 §6.2 counts how long a CRL was not retrievable). */
export interface UrlFault {
  readonly kind: string;
  readonly message: string;
  /** The first failing read of this run of faults (epoch ms) and its sweep; the latest failing read. */
  readonly since: number;
  readonly sinceSweep: number;
  readonly lastAt: number;
}

/** What the sweep keeps per CRL URL between runs. */
export interface UrlState {
  readonly url: string;
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** The last snapshot read and kept (by hash in <home>/crls/), its numbers, and how big it was. */
  readonly sha256: string | null;
  readonly crlNumber: string | null;
  readonly thisUpdate: number | null;
  readonly nextUpdate: number | null;
  readonly bytes: number | null;
  readonly issuerKey: string | null;
  /** The last sweep that read a CRL here (a 304 counts: it said the CRL had not changed), and when. */
  readonly lastRead: { readonly sweep: number; readonly at: number } | null;
  /** When the sha256 snapshot was first read, and when its content last changed. */
  readonly lastChangedAt: number | null;
  readonly lastGoodAt: number | null;
  readonly fault: UrlFault | null;
}

/** An issuer key and the disclosed CA certificates that carry it. */
export interface IssuerInfo {
  readonly issuerKey: string;
  readonly subjectKeyId: string | null;
  readonly caSha256: readonly string[];
  readonly name: string;
  readonly owner: string;
}

/** A CRL-health finding as kept between sweeps (sweep/health.ts): open until a sweep no longer finds it. */
export interface HealthFindingState {
  readonly code: string;
  readonly owner: string;
  readonly url: string;
  /** What within the CRL it concerns (a serial), or '' for the CRL as a whole. */
  readonly subject: string;
  readonly message: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly resolvedAt: number | null;
}

export interface SweepState {
  readonly sweeps: readonly SweepRun[];
  readonly urls: Readonly<Record<string, UrlState>>;
  readonly issuers: Readonly<Record<string, IssuerInfo>>;
  /** Keyed by code, URL and subject. */
  readonly health: Readonly<Record<string, HealthFindingState>>;
}

export interface SweepStateStore {
  load(): Promise<SweepState>;
  save(state: SweepState): Promise<void>;
}

export const emptySweepState = (): SweepState => ({ sweeps: [], urls: {}, issuers: {}, health: {} });
