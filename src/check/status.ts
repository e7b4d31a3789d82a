/**
 * `revwatch status`: every case's certificates with their deadlines, verdicts
 * and findings, computed from the stored observations at `now`.
 */
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { certificateStatus, type CertificateStatus, type Verdict } from '../rules/verdict.js';
import { isoOrNull } from '../time.js';
import { sourceKey, type Store, type StoredObservation } from '../store/store.js';

export interface CaseStatus {
  readonly id: string;
  readonly title: string;
  readonly reportedAt: string;
  readonly reason: string;
  readonly kind: string;
  readonly certificates: CertificateStatus[];
}

export interface StatusReport {
  readonly cases: CaseStatus[];
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export async function buildStatus(store: Store, now: number, caseId?: string): Promise<StatusReport> {
  let cases: Case[];
  if (caseId) {
    const c = await store.getCase(caseId);
    if (!c) throw new InputError(`no case "${caseId}"`);
    cases = [c];
  } else {
    cases = await store.listCases();
  }
  const states = await store.getSourceStates();
  const observationsOf = new Map<string, StoredObservation[]>();
  const out: CaseStatus[] = [];
  for (const kase of cases.sort((a, b) => a.reportedAt - b.reportedAt || a.id.localeCompare(b.id))) {
    const { certificates } = await store.loadCase(kase.id);
    const sorted = certificates.sort((a, b) => a.serial.localeCompare(b.serial));
    const statuses = await mapLimit(sorted, 16, async (cert) => {
      let obs = observationsOf.get(cert.sha256);
      if (!obs) {
        obs = await store.listObservations(cert.sha256);
        observationsOf.set(cert.sha256, obs);
      }
      const s = certificateStatus(kase, cert, obs, now);
      // Unchanged answers are not rewritten per certificate: the source's own
      // heartbeat says when the answer was last confirmed.
      const sources = s.sources.map((src) => {
        const state = states.get(sourceKey(src.kind, src.url));
        if (state?.ok && src.status !== 'error' && state.lastCheckedAt > Date.parse(src.checkedAt)) {
          return { ...src, checkedAt: isoOrNull(state.lastCheckedAt)! };
        }
        return src;
      });
      return { ...s, sources };
    });
    out.push({ id: kase.id, title: kase.title, reportedAt: isoOrNull(kase.reportedAt)!, reason: kase.reason, kind: kase.kind, certificates: statuses });
  }
  return { cases: out };
}

export function verdictCounts(report: StatusReport): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pending: 0, overdue: 0, revoked_on_time: 0, revoked_late: 0, expired: 0, expired_overdue: 0, no_deadline: 0, undetermined: 0 };
  for (const c of report.cases) for (const s of c.certificates) counts[s.verdict]++;
  return counts;
}

const hours = (seconds: number | null): string => (seconds === null ? '' : `${(seconds / 3600).toFixed(1)} h`);

export function formatStatus(report: StatusReport): string {
  if (report.cases.length === 0) return 'no cases yet: start with `revwatch track`';
  const lines: string[] = [];
  for (const c of report.cases) {
    lines.push(`${c.id}  ${c.title}`, `  reported ${c.reportedAt}, ${c.reason}, ${c.kind}, ${c.certificates.length} certificate(s)`);
    lines.push(`  ${'serial'.padEnd(34)} ${'verdict'.padEnd(16)} ${'deadline'.padEnd(21)} ${'revoked (effective)'.padEnd(21)} ${'late by'.padStart(9)}  findings`);
    for (const s of c.certificates) {
      const findings = [...new Set(s.findings.filter((f) => f.severity !== 'info').map((f) => f.code))].join(', ');
      lines.push(`  ${s.serial.slice(0, 34).padEnd(34)} ${s.verdict.padEnd(16)} ${(s.deadline ?? '-').padEnd(21)} ${(s.effectiveRevocationTime ?? '-').padEnd(21)} ${hours(s.lateBySeconds).padStart(9)}  ${findings}`);
    }
    lines.push('');
  }
  const counts = verdictCounts(report);
  lines.push(Object.entries(counts).filter(([, n]) => n > 0).map(([v, n]) => `${v}: ${n}`).join('  '));
  return lines.join('\n');
}
