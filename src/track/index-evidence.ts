/**
 * A certificate tracked after its revocation was swept starts its evidence
 * record from the revocation index (issue 27): a case reported after the fact
 * then has evidence from before it was tracked, and a verdict at once.
 *
 * For every URL whose CRL the index holds the certificate's (issuer key,
 * serial) as listed on, each snapshot that first made a claim about it (the
 * first listing, then each later change of revocationDate or reasonCode) is
 * read again from the evidence archive by hash and judged as a check reading
 * it at the sweep's read time would have judged it (probe.ts: the signature
 * verified against this certificate's own issuer, the IDP's scope, the dates'
 * plausibility). Each verified "revoked" answer is recorded as an observation
 * labelled `sweepIndex`, with the bracket of the listing: the sweep that first
 * read it listed and the last one before that read the URL without it. A
 * snapshot that is no longer archived, or that does not verify with this
 * issuer, gives nothing: the index alone is never evidence.
 */
import { createHash } from 'node:crypto';
import type { SweepIndexOrigin } from '../domain.js';
import { probeCrl } from '../check/probe.js';
import { StoreConflictError, toObservation } from '../check/execute.js';
import { pollDue } from '../check/poll.js';
import type { ArchivedCrls } from '../check/sweep-readings.js';
import { parseRawCertificate, type RawCertificate } from '../pki/raw-certificate.js';
import type { FetchResult } from '../ports/index.js';
import type { RevocationIndexStore, SnapshotRef, SweepState } from '../ports/revocation-index.js';
import type { CaseStore, ObservationStore, RecordWrite, StoredCertificate, StoredObservation } from '../ports/store.js';
import { mergeEvidence } from '../rules/evidence.js';

export interface IndexEvidenceDeps {
  readonly store: CaseStore & ObservationStore;
  readonly index: RevocationIndexStore;
  readonly state: SweepState;
  readonly archive: ArchivedCrls;
  readonly now: number;
}

export interface IndexEvidenceResult {
  /** Certificates whose record took answers from the index. */
  readonly certificates: number;
  readonly observations: number;
}

/** The answers the index holds for `cert`, re-verified from the archived snapshots (see the file comment). */
export async function indexObservations(
  deps: Pick<IndexEvidenceDeps, 'index' | 'state' | 'archive'>,
  cert: Pick<StoredCertificate, 'sha256' | 'serial'>,
  issuer: RawCertificate,
  isCA: boolean,
  snapshotsOf: (url: string) => Promise<SnapshotRef[]>,
): Promise<StoredObservation[]> {
  const issuerKey = createHash('sha256').update(issuer.spki).digest('hex');
  const record = (await deps.index.records(issuerKey, [cert.serial])).get(cert.serial);
  if (!record) return [];
  const sweepStart = new Map(deps.state.sweeps.map((s) => [s.sweep, s.startedAt]));
  const out: StoredObservation[] = [];
  for (const listing of record.listings) {
    if (listing.removed !== null) continue; // taken off since: what the index holds now is not "revoked"
    const snapshots = await snapshotsOf(listing.url);
    // The time of the bracket's other end: that read's own snapshot when it brought one, else when its sweep began.
    const notListedAt =
      listing.notListedAt === null
        ? null
        : (snapshots.find((s) => s.sweep === listing.notListedAt)?.at ?? sweepStart.get(listing.notListedAt) ?? null);
    const origin: SweepIndexOrigin = { firstSeenSweep: listing.firstSeen, notListedSweep: listing.notListedAt, notListedAt };
    const claimSweeps = new Set([listing.firstSeen]);
    for (const c of record.claims) if (c.url === listing.url && c.sweep >= listing.firstSeen) claimSweeps.add(c.sweep);
    for (const sweep of [...claimSweeps].sort((a, b) => a - b)) {
      const snapshot = snapshots.find((s) => s.sweep === sweep);
      const bytes = snapshot ? deps.archive.readCrl(snapshot.sha256) : null;
      if (!snapshot || !bytes || createHash('sha256').update(bytes).digest('hex') !== snapshot.sha256) continue;
      const served: FetchResult = {
        ok: true,
        status: 200,
        url: listing.url,
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        sha256: snapshot.sha256,
        notModified: false,
        etag: null,
        lastModified: null,
        contentType: null,
        redirects: 0,
        attempts: 0,
      };
      const probed = await probeCrl({
        url: listing.url,
        serials: [cert.serial],
        issuer,
        fetcher: { fetch: async () => served },
        now: () => snapshot.at,
        certificatesAreCAs: isCA,
      });
      const outcome = probed.outcomes[0];
      if (outcome?.status !== 'revoked') continue;
      out.push({ ...toObservation(cert.sha256, outcome), sweepIndex: origin });
    }
  }
  return out;
}

/**
 * Starts the records of `certificates` (as tracked in `caseId`) from the index: observations first (the
 * audit trail), then each record with them folded in, conditionally on its revision.
 */
export async function startFromIndex(deps: IndexEvidenceDeps, caseId: string, sha256s: readonly string[]): Promise<IndexEvidenceResult> {
  if (deps.state.sweeps.length === 0 || sha256s.length === 0) return { certificates: 0, observations: 0 };
  const tracked = await deps.store.getCaseCertificates(sha256s.map((sha256) => ({ caseId, sha256 })));
  const issuers = new Map<string, RawCertificate | null>();
  const snapshots = new Map<string, Promise<SnapshotRef[]>>();
  const snapshotsOf = (url: string): Promise<SnapshotRef[]> => {
    let s = snapshots.get(url);
    if (!s) {
      s = deps.index.snapshots(url);
      snapshots.set(url, s);
    }
    return s;
  };
  const found = new Map<string, StoredObservation[]>();
  for (const cc of tracked) {
    if (!issuers.has(cc.cert.issuerSha256)) {
      const der = await deps.store.getCertificateDer(cc.cert.issuerSha256);
      issuers.set(cc.cert.issuerSha256, der ? parseRawCertificate(der) : null);
    }
    const issuer = issuers.get(cc.cert.issuerSha256);
    if (!issuer) continue;
    const observations = await indexObservations(deps, cc.cert, issuer, cc.cert.isCA, snapshotsOf);
    if (observations.length > 0) found.set(cc.cert.sha256, observations);
  }
  if (found.size === 0) return { certificates: 0, observations: 0 };
  const all = [...found.values()].flat();
  await deps.store.recordObservations(all);
  let pending = tracked.filter((cc) => found.has(cc.cert.sha256));
  for (let attempt = 0; pending.length > 0; attempt++) {
    const writes: RecordWrite[] = pending.map((cc) => {
      const record = mergeEvidence(cc.record, found.get(cc.cert.sha256)!, cc.cert.notAfter);
      return { cert: cc.cert, record, rev: cc.rev, pollDue: pollDue(cc.cert, record, deps.now), soleWriter: false };
    });
    const lost = await deps.store.writeRecords(writes);
    if (lost.length === 0) break;
    // A check wrote one of these meanwhile: fold ours into its record and try again (joins commute).
    if (attempt >= 8)
      throw new StoreConflictError(`evidence records of ${lost.length} certificate(s) kept changing while the index's answers were added`);
    pending = await deps.store.getCaseCertificates(lost.map((w) => ({ caseId: w.cert.caseId, sha256: w.cert.sha256 })));
  }
  return { certificates: found.size, observations: all.length };
}
