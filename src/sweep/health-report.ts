/** The CRL-health findings a sweep keeps (health.ts), grouped per CA owner for `revwatch crl-health`. */
import type { SweepState } from '../ports/revocation-index.js';
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
  readonly lastSweep: { readonly sweep: number; readonly startedAt: string; readonly finishedAt: string | null } | null;
  readonly owners: readonly OwnerHealth[];
}

const SEVERITY_ORDER = { violation: 0, warning: 1, info: 2 } as const;

export function healthReport(state: SweepState, filter: { owners?: readonly string[]; since: number | null }): HealthReport {
  const wanted = (owner: string): boolean =>
    !filter.owners || filter.owners.length === 0 || filter.owners.some((o) => owner.toLowerCase().includes(o.toLowerCase()));
  const byOwner = new Map<string, HealthFindingOut[]>();
  for (const f of Object.values(state.health)) {
    if (!wanted(f.owner)) continue;
    const shown = filter.since === null ? f.resolvedAt === null : f.lastSeen >= filter.since || (f.resolvedAt ?? 0) >= filter.since;
    if (!shown) continue;
    const check = CRL_HEALTH_CHECKS[f.code as HealthCode];
    const list = byOwner.get(f.owner) ?? [];
    list.push({
      code: f.code,
      severity: check?.severity ?? 'warning',
      citation: check?.citation ?? '',
      url: f.url,
      subject: f.subject || null,
      message: f.message,
      firstSeen: iso(f.firstSeen),
      lastSeen: iso(f.lastSeen),
      resolvedAt: f.resolvedAt === null ? null : iso(f.resolvedAt),
    });
    byOwner.set(f.owner, list);
  }
  const last = state.sweeps[state.sweeps.length - 1];
  return {
    lastSweep: last
      ? { sweep: last.sweep, startedAt: iso(last.startedAt), finishedAt: last.finishedAt === null ? null : iso(last.finishedAt) }
      : null,
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
