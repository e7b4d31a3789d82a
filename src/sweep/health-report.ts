/** The CRL-health findings a sweep keeps (health.ts), grouped per CA owner for `revwatch crl-health`. */
import type { HealthFindingState, OwnerAvailability, SweepState } from '../ports/revocation-index.js';
import { iso } from '../time.js';
import { CRL_HEALTH_CHECKS, type HealthCode } from './health.js';

export interface HealthFindingOut {
  readonly code: string;
  readonly severity: string;
  readonly citation: string;
  readonly url: string;
  readonly subject: string | null;
  readonly message: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly resolvedAt: string | null;
}

export interface OwnerHealth {
  readonly owner: string;
  readonly findings: readonly HealthFindingOut[];
}

export interface HealthReport {
  /** The last sweep, when there was one. */
  readonly lastSweep: LastSweepOut | null;
  readonly owners: readonly OwnerHealth[];
}

const SEVERITY_ORDER = { violation: 0, warning: 1, info: 2 } as const;

/** A kept finding as `crl-health` and the digest print it: its check's severity and citation, times in ISO. */
export function healthFindingOut(f: HealthFindingState): HealthFindingOut {
  const check = CRL_HEALTH_CHECKS[f.code as HealthCode];
  return {
    code: f.code,
    severity: check?.severity ?? 'warning',
    citation: check?.citation ?? '',
    url: f.url,
    subject: f.subject || null,
    message: f.message,
    firstSeen: iso(f.firstSeen),
    lastSeen: iso(f.lastSeen),
    resolvedAt: f.resolvedAt === null ? null : iso(f.resolvedAt),
  };
}

export type LastSweepOut = { readonly sweep: number; readonly startedAt: string; readonly finishedAt: string | null };

/** The state's last sweep run, times in ISO; null before the first sweep. */
export function lastSweepOut(state: SweepState): LastSweepOut | null {
  const last = state.sweeps[state.sweeps.length - 1];
  return last
    ? { sweep: last.sweep, startedAt: iso(last.startedAt), finishedAt: last.finishedAt === null ? null : iso(last.finishedAt) }
    : null;
}

export function healthReport(state: SweepState, filter: { owners?: readonly string[]; since: number | null }): HealthReport {
  const wanted = (owner: string): boolean =>
    !filter.owners || filter.owners.length === 0 || filter.owners.some((o) => owner.toLowerCase().includes(o.toLowerCase()));
  const byOwner = new Map<string, HealthFindingOut[]>();
  for (const f of Object.values(state.health)) {
    if (!wanted(f.owner)) continue;
    const shown = filter.since === null ? f.resolvedAt === null : f.lastSeen >= filter.since || (f.resolvedAt ?? 0) >= filter.since;
    if (!shown) continue;
    const list = byOwner.get(f.owner) ?? [];
    list.push(healthFindingOut(f));
    byOwner.set(f.owner, list);
  }
  return {
    lastSweep: lastSweepOut(state),
    owners: [...byOwner.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([owner, findings]) => ({
        owner,
        findings: findings.sort(
          (a, b) =>
            SEVERITY_ORDER[a.severity as keyof typeof SEVERITY_ORDER] - SEVERITY_ORDER[b.severity as keyof typeof SEVERITY_ORDER] ||
            (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
            (a.url < b.url ? -1 : 1),
        ),
      })),
  };
}

export function formatHealth(r: HealthReport): string {
  if (!r.lastSweep) return 'no sweep has run yet: revwatch sweep reads the disclosed CRLs';
  const lines = [`CRL health after sweep ${r.lastSweep.sweep} (${r.lastSweep.startedAt})`];
  if (r.owners.length === 0) lines.push('  no findings');
  for (const o of r.owners) {
    lines.push(`${o.owner || '(no owner)'}: ${o.findings.length} finding(s)`);
    for (const f of o.findings) {
      lines.push(`  ${f.severity} ${f.code}${f.resolvedAt ? ` (resolved ${f.resolvedAt})` : ''}: ${f.url}: ${f.message}`);
      lines.push(`    first seen ${f.firstSeen}, last seen ${f.lastSeen}; ${f.citation}`);
    }
  }
  return lines.join('\n');
}

/** The faults of a read that fetched something: the rest (HTTP error, timeout, refused, too large) left nothing to read. */
const FAULTS_AFTER_FETCH: ReadonlySet<string> = new Set(['not-der', 'unparseable', 'no-ca-certificate', 'bad-signature']);

/** Per CA owner, how a sweep's reads went: kept with the sweep run so the site can draw availability over time. */
export function ownerAvailability(
  results: readonly { readonly owner: string; readonly outcome: string; readonly fault: { readonly kind: string } | null }[],
): Record<string, OwnerAvailability> {
  // A Map, then own properties: an owner name is CCADB text, "__proto__" included.
  const out = new Map<string, { urls: number; readable: number; unreachable: number }>();
  for (const r of results) {
    const a = out.get(r.owner) ?? { urls: 0, readable: 0, unreachable: 0 };
    out.set(r.owner, a);
    a.urls++;
    if (r.outcome !== 'fault') a.readable++;
    else if (r.fault && !FAULTS_AFTER_FETCH.has(r.fault.kind)) a.unreachable++;
  }
  return Object.fromEntries(out);
}

/** One sweep's availability for one owner (or for all, summed). */
export interface AvailabilityPoint {
  readonly sweep: number;
  readonly at: number;
  readonly urls: number;
  readonly readable: number;
  readonly unreachable: number;
}

export interface AvailabilityHistory {
  /** Every owner's URLs summed, one point per sweep that recorded availability, oldest first. */
  readonly all: readonly AvailabilityPoint[];
  readonly byOwner: ReadonlyMap<string, readonly AvailabilityPoint[]>;
  /** Sweeps recorded before availability was kept: left out of the points, counted here. */
  readonly unrecorded: number;
}

/** Availability over the sweeps the state holds; a sweep's time is when it started. */
export function availabilityHistory(state: SweepState): AvailabilityHistory {
  const all: AvailabilityPoint[] = [];
  const byOwner = new Map<string, AvailabilityPoint[]>();
  let unrecorded = 0;
  for (const run of state.sweeps) {
    if (!run.availability) {
      unrecorded++;
      continue;
    }
    let urls = 0;
    let readable = 0;
    let unreachable = 0;
    for (const [owner, a] of Object.entries(run.availability)) {
      urls += a.urls;
      readable += a.readable;
      unreachable += a.unreachable;
      const list = byOwner.get(owner) ?? [];
      list.push({ sweep: run.sweep, at: run.startedAt, ...a });
      byOwner.set(owner, list);
    }
    all.push({ sweep: run.sweep, at: run.startedAt, urls, readable, unreachable });
  }
  return { all, byOwner, unrecorded };
}
