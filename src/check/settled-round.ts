/**
 * Settled certificates (revoked on verified evidence, still live) are asked once a day, to catch a reversed
 * revocation (BR 4.10.1), and an unchanged answer to them writes nothing per certificate (issue 29): the
 * source's own state item, written once per run anyway, is the heartbeat.
 *
 * - A settled certificate's record goes into the settled pool of the polling index (store/layout.ts,
 *   pollKeys) with its first re-ask a day after that write; the entry does not move while its answers stand.
 * - Each source state carries `settledDueAt`, when some certificate of the pool next needs that source asked.
 *   The planner reads the pool only in a run where some source is due (its round), and asks each certificate's
 *   source once a day after the source last confirmed it.
 * - After a round with no error from a source (a settled certificate's answer, or the job), the source's
 *   `settledConfirmedAt` becomes the earliest of: the run's start, and the last confirmation of every pooled
 *   certificate it did not ask. Every certificate that was in the pool then (first re-ask at or before
 *   `settledConfirmedAt` + a day) was so answered by that source, unchanged, at or after it: its last
 *   confirmation is the later of its latest recorded answer and `settledConfirmedAt`. Anything that changed
 *   was written, and so is in the record.
 * - A certificate is put into the pool only by the write of its answers (never by the planner, before it is
 *   asked). It is not covered until a later round: its sources' `settledDueAt` is pulled in to a day after its
 *   latest recorded answers (the run's joins), so it is asked no later than it was before this change.
 * - The joins of a local run are kept in memory until its end, so a local run pools a certificate only when
 *   nothing of the run is needed to cover it (ObservationRecorder's `poolCovered`): every source of it has a
 *   state from before the run and has answered it in this run. A run killed part way then leaves no certificate
 *   pooled with a source that has not answered it, or that no round would ask (issue 29).
 *
 * A local run (one process runs every job) writes the source states once at its end with `finish`. A run fanned
 * out across the queue (fan-out.ts) stores its round as planned (`planned`) with the open run, each job records
 * its sources' errors and pool joins with the run, and the worker that finishes the run's last job advances the
 * heartbeats with `advanceRounds`: the same arithmetic, over what the jobs recorded.
 */
import type { Observation } from '../domain.js';
import type { PlannedRound, SettledHeartbeat } from '../ports/runs.js';
import { sourceKey, type SourceState } from '../ports/store.js';

export type { PlannedRound, SettledHeartbeat } from '../ports/runs.js';

/** A certificate's entry in the polling index, as the planner read it. */
export interface PollEntry {
  readonly pollDue: number | null;
  readonly pollSettled?: boolean;
}

/**
 * When a source last confirmed a settled certificate's answer: its latest recorded answer, or the source's
 * settled heartbeat when that covers the certificate (it was in the pool by then, and the answer is verified).
 */
export function settledConfirmedAt(
  latest: Observation | null | undefined,
  entry: PollEntry,
  state: SourceState | undefined,
  intervalMs: number,
): number {
  const recorded = latest?.observedAt ?? Number.NEGATIVE_INFINITY;
  const heartbeat = state?.settledConfirmedAt;
  if (!entry.pollSettled || entry.pollDue === null || heartbeat == null || !latest || latest.status === 'error') return recorded;
  return entry.pollDue - intervalMs <= heartbeat ? Math.max(recorded, heartbeat) : recorded;
}

/**
 * The heartbeats a run's rounds change (SettledRound.finish, and the fan-out's finisher): each due source that
 * gave no error this run is confirmed as of the earliest of the run's start and the last confirmation of every
 * pooled certificate it did not ask; a source whose pool gained certificates is due a day after their earliest
 * latest answer, at the latest. `stateOf`: each source's state as the run leaves it (a source without one is
 * left alone); `failed`: sources that gave an error (a job, or a settled certificate's answer); `joins`: the
 * pool joins of the run's writes.
 */
export function advanceRounds(
  round: PlannedRound,
  stateOf: (key: string) => SourceState | null | undefined,
  failed: ReadonlySet<string>,
  joins: ReadonlyMap<string, number>,
): Map<string, SettledHeartbeat> {
  const out = new Map<string, SettledHeartbeat>();
  const refused = new Set(round.failed);
  const current = (key: string): SettledHeartbeat | null => {
    const s = stateOf(key);
    if (!s) return null;
    return out.get(key) ?? { settledConfirmedAt: s.settledConfirmedAt ?? null, settledDueAt: s.settledDueAt ?? null };
  };
  for (const [key, notAsked] of round.due) {
    if (failed.has(key) || refused.has(key) || !current(key)) continue;
    const confirmedAt = Math.min(round.startedAt, notAsked ?? Number.POSITIVE_INFINITY);
    out.set(key, { settledConfirmedAt: confirmedAt, settledDueAt: confirmedAt + round.intervalMs });
  }
  const pulledIn = new Map<string, number>();
  for (const [key, at] of round.joins) pulledIn.set(key, at ?? Number.NEGATIVE_INFINITY);
  for (const [key, at] of joins) pulledIn.set(key, Math.min(pulledIn.get(key) ?? Number.POSITIVE_INFINITY, at));
  for (const [key, at] of pulledIn) {
    const s = current(key);
    if (!s) continue;
    const dueAt = Math.max(0, at + round.intervalMs);
    if (s.settledDueAt != null && s.settledDueAt <= dueAt) continue;
    out.set(key, { ...s, settledDueAt: Number.isFinite(dueAt) ? dueAt : 0 });
  }
  return out;
}

/** The planner's side of the settled rounds of one run. */
export class SettledRound {
  /** The sources whose round is in this run, with the earliest last confirmation among the pooled certificates not asked. */
  private readonly due = new Map<string, number>();

  /**
   * `partial`: the run plans one case only, so it does not see every pooled certificate of a source: it asks those
   * of its case that are due, but a source's heartbeat does not advance (they are asked again at the next run).
   */
  constructor(
    readonly states: ReadonlyMap<string, SourceState>,
    readonly startedAt: number,
    readonly intervalMs: number,
    private readonly partial = false,
  ) {
    for (const [key, s] of states)
      if ((s.settledDueAt ?? Number.NEGATIVE_INFINITY) <= startedAt) this.due.set(key, Number.POSITIVE_INFINITY);
  }

  /** Whether this run reads the settled pool: some source's round is due. */
  get readsPool(): boolean {
    return this.due.size > 0;
  }

  /**
   * The sources (keys) to ask of one certificate of the pool, given each source's latest recorded answer and the
   * certificate's index entries (one per case); notes the rest for the sources' rounds.
   */
  plan(
    sources: readonly { kind: 'ocsp' | 'crl'; url: string }[],
    latestOf: (key: string) => Observation | null | undefined,
    entries: readonly PollEntry[],
  ): Set<string> {
    const ask = new Set<string>();
    for (const s of sources) {
      const key = sourceKey(s.kind, s.url);
      const latest = latestOf(key);
      let confirmed = Number.POSITIVE_INFINITY;
      for (const e of entries) confirmed = Math.min(confirmed, settledConfirmedAt(latest, e, this.states.get(key), this.intervalMs));
      if (entries.length === 0) confirmed = latest?.observedAt ?? Number.NEGATIVE_INFINITY;
      if (confirmed + this.intervalMs <= this.startedAt) ask.add(key);
      else {
        const m = this.due.get(key);
        if (m !== undefined && confirmed < m) this.due.set(key, confirmed);
      }
    }
    return ask;
  }

  /**
   * The source states to write at the end of the run: those the run produced, with each source's settled
   * heartbeat carried over or advanced, and those of sources whose round or pool changed without being read.
   * `failed`: sources that gave an error this run (a job, or a settled certificate's answer): not advanced.
   */
  finish(ran: readonly SourceState[], failed: ReadonlySet<string>, joins: ReadonlyMap<string, number>): SourceState[] {
    const out = new Map<string, SourceState>();
    for (const s of ran) {
      const key = sourceKey(s.kind, s.url);
      const before = this.states.get(key);
      out.set(key, {
        ...s,
        settledConfirmedAt: before?.settledConfirmedAt ?? null,
        settledDueAt: before?.settledDueAt ?? null,
      });
    }
    const stateOf = (key: string): SourceState | undefined => out.get(key) ?? this.states.get(key);
    for (const [key, heartbeat] of advanceRounds(this.planned([]), stateOf, failed, joins))
      out.set(key, { ...stateOf(key)!, ...heartbeat });
    return [...out.values()];
  }

  /**
   * The rounds as planned, for a finisher in another process; `failed`: sources that do not advance whatever the
   * jobs answer. A partial run's rounds advance nothing.
   */
  planned(failed: Iterable<string>): PlannedRound {
    const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);
    return {
      startedAt: this.startedAt,
      intervalMs: this.intervalMs,
      due: this.partial ? [] : [...this.due].map(([key, notAsked]) => [key, finite(notAsked)] as const),
      // The planner puts nothing into the pool (plan.ts placeInPool): the joins are the jobs' writes'.
      joins: [],
      failed: [...new Set(failed)],
    };
  }

  /** Whether the run's end has anything of the rounds to do beyond what its jobs record. */
  get isEmpty(): boolean {
    return this.partial || this.due.size === 0;
  }
}
