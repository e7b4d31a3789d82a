/**
 * The good-answer log: the latest verified "good" answer of every (source,
 * certificate) pair, kept outside the evidence records.
 *
 * An unchanged answer is not written per certificate (polling cost follows
 * changes), so between two recorded answers the record does not know the
 * later "good" answers a source signed. They matter at the moment a
 * certificate's answer changes: the last "good" before a revocation bounds a
 * backdated revocationTime (BR 4.9.5; docs/evidence.md, "Effective revocation
 * time") and is lastSeenGoodAt. So every run adds its good answers here, one
 * log per run in bulk, and when a change is recorded the recorder takes the
 * latest logged good of each of the certificate's sources into the record as
 * an ordinary observation (written, signed bytes and all, so `verify-evidence`
 * rebuilds the same record). A certificate whose answer never changes costs
 * nothing per certificate in the store.
 */
import type { StoredObservation } from './store.js';

export interface GoodAnswerLog {
  /** A verified good answer received in this run (kept in memory until `commit`). */
  add(observation: StoredObservation): void;
  /**
   * The latest good answer of each source for each certificate asked for, among those of earlier runs
   * (committed) and of this run (added so far). Keyed by certificate SHA-256; certificates without any are absent.
   * `sourcesOf` names the sources to look for: a log that keeps answers per source (S3: one object per job and
   * source) reads only those; a log that keeps them per certificate ignores it.
   */
  latest(
    sha256Certs: readonly string[],
    sourcesOf?: (sha256Cert: string) => readonly StoredObservation['source'][],
  ): Promise<Map<string, StoredObservation[]>>;
  /** Ends the run: its answers replace the older ones of the same (source, certificate); answers older than the log keeps are dropped. */
  commit(now: number): Promise<void>;
}

/** How long a logged answer is kept when no newer one replaces it (a certificate no longer asked). */
export const GOOD_ANSWER_KEEP_MS = 7 * 86_400_000;

/** The log key of an answer: one per (source, certificate). */
export const goodAnswerKey = (o: Pick<StoredObservation, 'sha256Cert' | 'source'>): string =>
  `${o.sha256Cert} ${o.source.kind} ${o.source.url}`;

/** The later of two answers of one (source, certificate): by observedAt, then by what the source dated. */
export function laterGood(a: StoredObservation | undefined, b: StoredObservation): StoredObservation {
  if (!a) return b;
  if (b.observedAt !== a.observedAt) return b.observedAt > a.observedAt ? b : a;
  const ta = a.producedAt ?? a.thisUpdate ?? 0;
  const tb = b.producedAt ?? b.thisUpdate ?? 0;
  return tb > ta ? b : a;
}
