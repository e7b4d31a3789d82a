/**
 * When the planner should next ask about a certificate: the due time kept in
 * the sparse polling index (docs/evidence.md, "Which certificates are polled"). Pure.
 *
 * - Not yet revoked: every run.
 * - Revoked on verified evidence (settled): once a day, to catch a reversed
 *   revocation (BR 4.10.1), until it expires.
 * - Expired: until every source has given a verified answer since expiry
 *   (OCSP may still answer; a CRL may still list it), so a certificate
 *   tracked after the fact is judged on evidence; then never again.
 */
import type { TrackedCertificate } from '../domain.js';
import { revocationSources, type RevocationSource, type SourcedCertificate } from '../rules/revocation-sources.js';
import { evidenceOf, latestAnswers, recordObservations, type EvidenceRecord } from '../rules/evidence.js';

export const DAY_MS = 86_400_000;

export function pollDue(
  cert: Pick<TrackedCertificate, 'notAfter'> & SourcedCertificate,
  record: EvidenceRecord,
  now: number,
  settledIntervalMs = DAY_MS,
): number | null {
  return pollDueFrom(cert, record, latestAnswers(record), revocationSources(cert), now, settledIntervalMs);
}

/** pollDue, given the record's latest answers and the certificate's sources, which the planner needs as well. */
export function pollDueFrom(
  cert: Pick<TrackedCertificate, 'notAfter'>,
  record: EvidenceRecord,
  facts: ReturnType<typeof latestAnswers>,
  revocation: readonly RevocationSource[],
  now: number,
  settledIntervalMs = DAY_MS,
  /** Whether the record's effective revocation is at or before notAfter, when known without the record (a polling summary). */
  revokedInLife?: boolean,
): number | null {
  const sources = revocation.map((s) => `${s.kind} ${s.url}`);
  if (cert.notAfter <= now) {
    if (revokedInLife ?? revokedBy(cert, record)) return null;
    const answeredSinceExpiry = sources.every((id) => {
      const latest = facts.get(id)?.latestVerified;
      return latest !== null && latest !== undefined && latest.observedAt >= cert.notAfter;
    });
    return answeredSinceExpiry ? null : 0;
  }
  const settled = sources.some((id) => facts.get(id)?.latestDefinite?.status === 'revoked');
  if (!settled) return 0;
  let due = Number.POSITIVE_INFINITY; // not Math.min(...): a spread of thousands of sources can overflow the stack
  for (const id of sources) due = Math.min(due, (facts.get(id)?.latest?.observedAt ?? 0) + settledIntervalMs);
  return due;
}

function revokedBy(cert: Pick<TrackedCertificate, 'notAfter'>, record: EvidenceRecord): boolean {
  const evidence = evidenceOf(cert, recordObservations(record));
  return evidence.effectiveRevocationTime !== null && evidence.effectiveRevocationTime <= cert.notAfter;
}

/**
 * Where a record goes in the polling index when settled certificates are asked in their sources' daily rounds
 * (check/settled-round.ts): a settled one into the settled pool, first re-asked a day after this write
 * (`writtenAt`), later only when a round finds it due; anything else as pollDue says.
 */
export function pollEntry(
  cert: Pick<TrackedCertificate, 'notAfter'> & SourcedCertificate,
  record: EvidenceRecord,
  writtenAt: number,
  settledIntervalMs = DAY_MS,
): { due: number; settled: boolean } | null {
  const due = pollDue(cert, record, writtenAt, settledIntervalMs);
  if (due === null) return null;
  // pollDue is 0 (every run) for all but a live certificate settled as revoked.
  return due === 0 ? { due, settled: false } : { due: writtenAt + settledIntervalMs, settled: true };
}
