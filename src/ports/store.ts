/**
 * The Store ports: what the core needs to keep, in its own words, split by
 * concern (cases and certificates, the evidence trail, runs). One
 * implementation, store/table-store.ts, writes them over the Table port
 * (ports/table.ts), which DynamoDB (in AWS, and an embedded dynalite
 * locally) and an in-memory table (for fast tests) implement. A service
 * takes the narrow ports it uses.
 */
import type { Case, Observation, TrackedCertificate } from '../domain.js';
import type { EvidenceRecord } from '../rules/evidence.js';
import type { CertificateStatus, VerdictPlan } from '../rules/verdict.js';

export { StoreError } from './store-error.js';

/** A certificate as tracked in one case, with the issuer that signs its CRLs and OCSP responses. */
export interface StoredCertificate extends TrackedCertificate {
  readonly caseId: string;
  /** SHA-256 of the revocation issuer's certificate (stored with putCertificateDer). */
  readonly issuerSha256: string;
  readonly isCA: boolean;
  readonly trackedAt: number;
  /** crt.sh id, when known, for report links. */
  readonly crtshId?: string | null;
  /**
   * The subjectAltName entries, read once at `track` for the report's appendix, so a report of a
   * 100,000-certificate case reads no certificate bytes. Absent on certificates tracked before they were kept.
   */
  readonly sans?: readonly string[];
}

/**
 * A certificate as one case tracks it, with its evidence record (derived from
 * the observations, rewritten when an observation changes it) and the
 * record's revision, which conditional writes compare.
 */
export interface CaseCertificate {
  readonly cert: StoredCertificate;
  readonly record: EvidenceRecord;
  readonly rev: number;
  /** When the planner should next ask (epoch ms); null when it is out of the polling index. */
  readonly pollDue: number | null;
  /**
   * In the settled pool (revoked on verified evidence): `pollDue` is then the first re-ask, a day after the
   * record was last written, and the certificate is asked in its sources' daily settled rounds (check/settled-round.ts).
   */
  readonly pollSettled?: boolean;
  /** Stored before evidence records existed: the record must be rebuilt from the observations. */
  readonly legacy?: boolean;
}

/**
 * Where `status` keeps a case's verdicts between judging them (in the order
 * the store reads them, so judging runs while the next page is read) and
 * handing them out (in serial order). The default keeps them in memory; the
 * CLI's spools them to a temporary file and keeps only an index, so memory
 * does not grow with the case.
 */
export interface StatusSpool {
  /** `cert`: the certificate judged, for a spool that keeps more of it beside the status (report/irg-csv.ts). */
  add(sortKey: string, status: CertificateStatus, cert?: StoredCertificate): void;
  /** Every status added, ordered by sort key (as JavaScript compares strings; equal keys in the order added), each handed out once. */
  inOrder(): Iterable<CertificateStatus>;
  /** Releases what the spool holds (a file, an index). */
  close(): void;
}

/** A new evidence record for one (case, certificate). */
export interface RecordWrite {
  readonly cert: StoredCertificate;
  readonly record: EvidenceRecord;
  /** The revision the record was derived from; the write stores rev + 1. */
  readonly rev: number;
  /** When the planner should next pick it up (epoch ms); null takes it out of the polling index. */
  readonly pollDue: number | null;
  /** Into the settled pool rather than the polling index's every-run shards. */
  readonly pollSettled?: boolean;
  /**
   * Only one writer can touch this record in this run (one process runs every job, or the certificate has
   * one source): written in a batch. Otherwise a conditional write on `rev`.
   */
  readonly soleWriter: boolean;
}

/** What revwatch knows about a CRL URL or OCSP responder as a whole. */
export interface SourceState {
  readonly kind: 'ocsp' | 'crl';
  readonly url: string;
  readonly lastCheckedAt: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  readonly crlNumber?: string | null;
  readonly thisUpdate?: number | null;
  readonly nextUpdate?: number | null;
  readonly sha256?: string | null;
  readonly bytes?: number | null;
  readonly issuerSha256?: string | null;
  /** The CRL's signature algorithm, carried into the answers an unchanged CRL (304) confirms. */
  readonly signatureAlgorithm?: string | null;
  /**
   * The source's heartbeat for settled certificates (check/settled-round.ts): every certificate of the settled
   * pool whose first re-ask is at or before `settledConfirmedAt` + the settled interval was answered by this
   * source, verified and unchanged, at or after `settledConfirmedAt`. Their unchanged answers are not written.
   */
  readonly settledConfirmedAt?: number | null;
  /** When a certificate of the settled pool next needs this source asked; absent: at the next run. */
  readonly settledDueAt?: number | null;
}

/** One CRL as fetched and verified: the evidence behind CRL observations. */
export interface CrlSnapshot {
  readonly url: string;
  readonly observedAt: number;
  readonly crlNumber: string | null;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  readonly sha256: string;
  readonly bytes: number;
  readonly entries: number;
}

export interface RunRecord {
  readonly runId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly certificates: number;
  readonly sourcesFailed: number;
  readonly observationsWritten: number;
  readonly itemsWritten: number;
}

export interface StoredObservation extends Observation {
  readonly sha256Cert: string;
  /** Raw OCSP response, kept as evidence (they are small). */
  readonly raw?: Uint8Array | null;
}

/** What a store has cost since it was opened. */
export interface StoreCounters {
  /** Items written through this store since it was opened: polling cost should follow changes, not polls. */
  readonly itemsWritten: number;
  /** Items read (returned by queries and gets) since it was opened: planning cost should follow what is due. */
  readonly itemsRead: number;
}

/**
 * How much of the settled pool a polling read takes (check/settled-round.ts): `due` (the default) what is due
 * by then, like the every-run shards; `whole` every certificate in it, for a settled round (which decides what
 * is asked); `none` nothing, in a run without a settled round.
 */
export interface SettledPoolRead {
  readonly settled?: 'due' | 'whole' | 'none';
}

/** One source of a polling summary: its route, kind and hash, and its latest answers as the planner reads them. */
export interface SummarySource {
  readonly kind: 'crl' | 'ocsp';
  readonly route: 'cdp' | 'aia' | 'given' | 'ccadb';
  readonly hash: string;
  /** The latest answer, with only what planning reads (status, times, reason, error kind, whether served stale). */
  readonly latest: SummaryAnswer | null;
  readonly latestVerifiedAt: number | null;
  readonly latestDefiniteStatus: Observation['status'] | null;
}

export interface SummaryAnswer {
  readonly observedAt: number;
  readonly status: Observation['status'];
  readonly revocationTime: number | null;
  readonly reasonCode: number | null;
  readonly errorKind: string | null;
  readonly stale: boolean;
}

/**
 * A polling summary as read from the narrow polling index (store/layout.ts has its format), its issuer and sources
 * still short hashes that the planner resolves (check/poll-summary.ts).
 */
export interface PollSummary {
  readonly kind: 'summary';
  readonly caseId: string;
  readonly sha256: string;
  readonly rev: number;
  readonly serial: string;
  readonly notAfter: number;
  readonly issuerHash: string;
  readonly isCA: boolean;
  readonly revokedInLife: boolean;
  readonly refused: boolean;
  readonly sources: readonly SummarySource[];
  readonly verdicts: VerdictPlan | null;
  readonly pollDue: number | null;
  readonly pollSettled: boolean;
}

/** An entry of the polling index as planning reads it: its summary, or the whole item where it has none yet. */
export type PollRead = PollSummary | CaseCertificate;

export const isPollSummary = (r: PollRead): r is PollSummary => (r as PollSummary).kind === 'summary';

/** Cases, the certificates they track with their evidence records, and the polling index over those records. */
export interface CaseStore extends StoreCounters {
  /** Creates the case; false when a case with that id exists already (conditional write). */
  createCase(kase: Case, createdAt: number): Promise<boolean>;
  getCase(id: string): Promise<Case | null>;
  listCases(): Promise<Case[]>;
  /** Records the CA's delayed-revocation incident report on an existing case (it is filed after the case is tracked). */
  setDelayedReportUrl(caseId: string, url: string): Promise<void>;

  /** Stores DER by SHA-256 (certificates and issuers); idempotent. */
  putCertificateDers(ders: readonly { sha256: string; der: Uint8Array }[]): Promise<void>;
  getCertificateDer(sha256: string): Promise<Uint8Array | null>;
  /** Many at once (BatchGetItem, 100 keys a request): a report of 100,000 certificates reads them in ~1,000 requests, not 100,000. */
  getCertificateDers(sha256s: readonly string[]): Promise<Map<string, Uint8Array>>;

  /** Adds certificates to a case; those already tracked in it are left alone. Returns how many were new. */
  addCertificates(certs: readonly StoredCertificate[]): Promise<number>;
  /**
   * Adds one case's certificates handed over in slices, for inputs too large to hold whole (an incident appendix
   * of 80,000 rows): the case's tracked ids are read once, each slice is written while the next is made, and
   * counted once written. Those already tracked are left alone and handed to `alreadyTracked`. Returns how many
   * were new. Re-running after a run that stopped part way writes the rest and sets the case's count right.
   */
  addCertificatesInSlices(
    caseId: string,
    slices: AsyncIterable<readonly StoredCertificate[]>,
    alreadyTracked?: (certs: readonly StoredCertificate[]) => Promise<void>,
  ): Promise<number>;
  /** A case's certificates with their evidence records: one paginated Query over the case's partition. */
  loadCase(caseId: string): Promise<CaseCertificate[]>;
  /**
   * The same certificates, each handed to `visit` as its page arrives (in no particular order) and kept by nobody else: a caller
   * that keeps only what it needs never holds a whole case (`status` at millions of certificates). The next
   * page is read while `visit` works on this one; a promise it returns is awaited before the next certificate.
   */
  visitCase(caseId: string, visit: (cc: CaseCertificate) => void | Promise<void>): Promise<void>;
  /** Certificates of every case that the planner should ask at `now`: one Query per shard of the sparse polling index. */
  listPollDue(now: number, options?: SettledPoolRead): Promise<CaseCertificate[]>;
  /**
   * The same certificates, handed to `visit` shard by shard (one shard of the polling index holds every case of
   * a certificate), one call at a time, as each is read whole: a planner can start on the first shards while
   * the rest are read. The settled pool's shards follow (SettledPoolRead).
   */
  visitPollDue(now: number, visit: (shard: CaseCertificate[]) => void | Promise<void>, options?: SettledPoolRead): Promise<void>;
  /**
   * What visitPollDue hands over, read through the narrow polling index: each due certificate's polling summary
   * (~180 bytes) where it has one, its whole item where it has none (written before summaries, or a table without
   * the narrow index). Planning reads whole items only for what it cannot decide from a summary.
   *
   * Where no certificate can have two entries (at most one case), a shard is handed over page by page as it is
   * read, `shardEnd` false, then once more empty with `shardEnd` true (issue 29: a page held, not a shard); with
   * several cases, each shard whole with `shardEnd` true. Either way every entry of a certificate is in one call.
   */
  visitPollSummaries(
    now: number,
    visit: (reads: PollRead[], shardEnd: boolean) => void | Promise<void>,
    options?: SettledPoolRead,
  ): Promise<void>;
  /** How many certificates each case tracks (kept on the case item). */
  certificateCounts(): Promise<Map<string, number>>;
  /** One record, read consistently (after a conditional write lost). */
  getCaseCertificate(caseId: string, sha256: string): Promise<CaseCertificate | null>;
  /** Several records, read consistently in batches (a worker about to update the records its answers changed). */
  getCaseCertificates(keys: readonly { caseId: string; sha256: string }[]): Promise<CaseCertificate[]>;

  /**
   * Writes evidence records. Returns the writes that lost a conditional write to another writer: the caller
   * merges them into the stored record and tries again.
   */
  writeRecords(writes: readonly RecordWrite[]): Promise<RecordWrite[]>;
  /** Moves a record in or out of the polling index without touching it (conditional on `rev`); false when it changed meanwhile. */
  setPollDue(caseId: string, sha256: string, rev: number, pollDue: number | null, settled?: boolean): Promise<boolean>;
}

/** The evidence trail: observations (append-only), CRL snapshots, and each source's heartbeat. */
export interface ObservationStore extends StoreCounters {
  /** Appends observations; never overwrites one (keys are derived from the content). Returns items written. */
  recordObservations(observations: readonly StoredObservation[]): Promise<number>;
  listObservations(sha256: string): Promise<StoredObservation[]>;

  getSourceStates(): Promise<Map<string, SourceState>>;
  putSourceStates(states: readonly SourceState[]): Promise<number>;
  /** Adds a CRL snapshot unless that exact CRL was recorded already. Returns true when written. */
  putCrlSnapshot(snapshot: CrlSnapshot): Promise<boolean>;
  listCrlSnapshots(url: string): Promise<CrlSnapshot[]>;
}

/** Run records, digests, and the changed-case marks the notifier follows. */
export interface RunStore extends StoreCounters {
  recordRun(run: RunRecord): Promise<void>;
  /** When digests were produced, and which findings (case, certificate, code) they reported. */
  recordDigest(at: number, findingKeys: readonly string[]): Promise<void>;
  lastDigestAt(): Promise<number | null>;
  digestedFindings(): Promise<Set<string>>;
  listRuns(limit: number): Promise<RunRecord[]>;

  /** Marks cases whose answers changed, so the notifier looks at them (written after the observations). */
  markCasesChanged(caseIds: readonly string[], at: number): Promise<void>;
  /** The cases marked changed, with the time of each one's latest mark. */
  listChangedCases(): Promise<Map<string, number>>;
  /** Clears the given marks, except those renewed since they were read (a change that came in meanwhile stays marked). */
  clearChangedCases(marks: ReadonlyMap<string, number>): Promise<void>;
}

/**
 * Everything the core keeps. The notice ledger (notify/notices.ts) and the
 * fan-out run ledger (check/fan-out.ts) are ports of their own, implemented
 * by the same adapters.
 */
export interface Store extends CaseStore, ObservationStore, RunStore {}

export const sourceKey = (kind: 'ocsp' | 'crl', url: string): string => `${kind} ${url}`;

/** Local copies of the CRLs a check read, kept as evidence (a report's bundle ships them). */
export interface EvidenceFiles {
  saveCrl(sha256: string, bytes: Uint8Array): Promise<void>;
  /** The path of the kept copy, or null when none was kept. */
  crlPath(sha256: string): string | null;
  readCrl(sha256: string): Uint8Array | null;
}
