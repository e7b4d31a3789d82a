/**
 * CRL-health notices: when a sweep completes (in AWS, the "Sweep Completed" event; src/sweep/fan-out.ts),
 * each CA owner with open violation-level CRL-health findings not yet notified gets one email listing them,
 * with their citations (the table in sweep/health.ts). Warnings and info findings wait for the digest.
 *
 * Nothing is sent twice: each finding's notice is claimed in a ledger before the send (a lease, so a crash
 * between claim and send frees it again later), marked sent after it, and released when the send fails so
 * the next sweep tries again. The notice key is the finding's key and its first-seen time: a finding that
 * resolves and opens again is a new notice.
 */
import type { Clock, Mailer } from '../ports/index.js';
import type { HealthFindingState, SweepStateStore } from '../ports/revocation-index.js';
import type { HealthNoticeLedger } from '../ports/sweep-runs.js';
import { healthFindingOut } from '../sweep/health-report.js';
import { iso } from '../time.js';

/** A claimed notice is held this long; after it, an unsent claim (its sender died) may be claimed again. */
export const HEALTH_NOTICE_LEASE_MS = 15 * 60_000;

export interface CrlHealthNoticeDeps {
  readonly sweepState: SweepStateStore;
  readonly ledger: HealthNoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly from: string;
  readonly to: readonly string[];
}

export interface CrlHealthNoticeResult {
  readonly owner: string;
  readonly findings: readonly string[];
  readonly error?: string;
}

/** The notice key of a finding: its state key and when it was first seen (a reopened finding is new again). */
export const healthNoticeKey = (stateKey: string, f: HealthFindingState): string => `${stateKey}@${f.firstSeen}`;

/** Sends one email per CA owner with violation-level findings open and not yet notified, after sweep `sweep`. */
export async function notifyCrlHealth(deps: CrlHealthNoticeDeps, sweep: number): Promise<CrlHealthNoticeResult[]> {
  if (deps.to.length === 0) return [];
  const state = await deps.sweepState.load();
  const byOwner = new Map<string, [string, HealthFindingState][]>();
  for (const [stateKey, f] of Object.entries(state.health)) {
    if (f.resolvedAt !== null || healthFindingOut(f).severity !== 'violation') continue;
    byOwner.set(f.owner, [...(byOwner.get(f.owner) ?? []), [healthNoticeKey(stateKey, f), f]]);
  }
  const results: CrlHealthNoticeResult[] = [];
  for (const [owner, findings] of [...byOwner.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const now = deps.clock.now().getTime();
    const held: [string, HealthFindingState][] = [];
    for (const [key, f] of findings) if (await deps.ledger.claimHealthNotice(key, sweep, now, HEALTH_NOTICE_LEASE_MS)) held.push([key, f]);
    if (held.length === 0) continue;
    const keys = held.map(([key]) => key);
    try {
      await deps.mailer.send({
        from: deps.from,
        to: [...deps.to],
        subject: `revwatch: CRL health of ${owner || '(no owner)'}: ${held.length} violation(s) after sweep ${sweep}`,
        text: healthNoticeText(owner, held, sweep),
        date: new Date(now),
        attachments: [],
      });
    } catch (err) {
      for (const key of keys) await deps.ledger.releaseHealthNotice(key, sweep);
      results.push({ owner, findings: keys, error: (err as Error).message });
      continue;
    }
    for (const key of keys) await deps.ledger.markHealthNoticeSent(key, sweep, deps.clock.now().getTime());
    results.push({ owner, findings: keys });
  }
  return results;
}

function healthNoticeText(owner: string, findings: readonly [string, HealthFindingState][], sweep: number): string {
  const lines = [
    `Sweep ${sweep} of the CRLs the CCADB discloses found ${findings.length} new CRL-health violation(s) of ${owner || '(no owner)'}:`,
    '',
  ];
  for (const [, f] of findings) {
    const out = healthFindingOut(f);
    lines.push(`* ${out.code}: ${out.url}`, `  ${out.message}`, `  first seen ${iso(f.firstSeen)}; ${out.citation}`, '');
  }
  lines.push('Each finding is notified once; `revwatch crl-health` and the digest list the open ones.', '');
  return lines.join('\n');
}
