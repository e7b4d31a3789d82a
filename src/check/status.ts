/**
 * `revwatch status`: every case's certificates with their deadlines, verdicts
 * and findings, computed from the stored observations at `now`.
 */
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { certificateStatus, type CertificateStatus, type Verdict } from '../rules/verdict.js';
import type { RuleOptions } from '../rules/rules.js';
import { isoOrNull } from '../time.js';
import { sourceKey, type CrlSnapshot, type Store, type StoredCertificate, type StoredObservation } from '../store/store.js';
import type { Observation } from '../domain.js';

/**
 * Unchanged answers are recorded per certificate only as a daily heartbeat,
 * but every new CRL is kept as a snapshot. A tracked certificate absent from a
 * verified CRL published before its first revoked answer from that CRL was
 * "good" at that CRL's thisUpdate: that is evidence for the bound on
 * backdating (design.md, "Verdicts"), as tight as the CA's CRL cadence.
 */
export function goodFromSnapshots(cert: StoredCertificate, observations: readonly Observation[], snapshots: ReadonlyMap<string, readonly CrlSnapshot[]>): Observation[] {
  const out: Observation[] = [];
  for (const url of cert.crlUrls) {
    const mine = observations.filter((o) => o.source.kind === 'crl' && o.source.url === url && o.status !== 'error');
    if (mine.length === 0) continue; // never answered for this certificate: nothing to extend
    const firstRevoked = Math.min(...mine.filter((o) => o.status === 'revoked').map((o) => o.thisUpdate ?? o.observedAt));
    const firstAnswer = Math.min(...mine.map((o) => o.observedAt));
    for (const snap of snapshots.get(url) ?? []) {
      if (snap.observedAt < firstAnswer || snap.observedAt < cert.trackedAt || snap.thisUpdate >= firstRevoked) continue;
      out.push({
        observedAt: snap.observedAt,
        source: { kind: 'crl', url },
        status: 'good',
        revocationTime: null,
        reasonCode: null,
        thisUpdate: snap.thisUpdate,
        nextUpdate: snap.nextUpdate,
        producedAt: null,
        crlNumber: snap.crlNumber,
        sha256: snap.sha256,
        error: null,
      });
    }
  }
  return out;
}

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
  /** Present when every case was judged under the rules of this date (`status --rules-as-of`). */
  readonly rulesAsOf?: string;
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

/** What building a status read, for callers that need it too (reports), so nothing is read twice. */
export interface StatusReads {
  readonly observations: Map<string, StoredObservation[]>;
  readonly certificates: Map<string, StoredCertificate[]>;
}

export async function buildStatus(store: Store, now: number, caseId?: string, reads?: StatusReads, rules: RuleOptions = {}): Promise<StatusReport> {
  let cases: Case[];
  if (caseId) {
    const c = await store.getCase(caseId);
    if (!c) throw new InputError(`no case "${caseId}"`);
    cases = [c];
  } else {
    cases = await store.listCases();
  }
  const states = await store.getSourceStates();
  const observationsOf = reads?.observations ?? new Map<string, StoredObservation[]>();
  const snapshots = new Map<string, CrlSnapshot[]>();
  const out: CaseStatus[] = [];
  for (const kase of cases.sort((a, b) => a.reportedAt - b.reportedAt || a.id.localeCompare(b.id))) {
    const { certificates } = await store.loadCase(kase.id);
    reads?.certificates.set(kase.id, certificates);
    const sorted = certificates.sort((a, b) => a.serial.localeCompare(b.serial));
    for (const url of new Set(sorted.flatMap((c) => c.crlUrls))) if (!snapshots.has(url)) snapshots.set(url, await store.listCrlSnapshots(url));
    const statuses = await mapLimit(sorted, 16, async (cert) => {
      let obs = observationsOf.get(cert.sha256);
      if (!obs) {
        obs = await store.listObservations(cert.sha256);
        observationsOf.set(cert.sha256, obs);
      }
      const s = certificateStatus(kase, cert, [...obs, ...goodFromSnapshots(cert, obs, snapshots)], now, rules);
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
  return rules.rulesAsOf === undefined ? { cases: out } : { cases: out, rulesAsOf: isoOrNull(rules.rulesAsOf)! };
}

export function verdictCounts(report: StatusReport): Record<Verdict, number> {
  const counts: Record<Verdict, number> = { pending: 0, overdue: 0, revoked_on_time: 0, revoked_late: 0, expired: 0, expired_overdue: 0, no_deadline: 0, undetermined: 0 };
  for (const c of report.cases) for (const s of c.certificates) counts[s.verdict]++;
  return counts;
}

const hours = (seconds: number | null): string => (seconds === null ? '' : `${(seconds / 3600).toFixed(1)} h`);

export function formatStatus(report: StatusReport): string {
  if (report.cases.length === 0) return 'no cases yet: start with `revwatch track`';
  const lines: string[] = report.rulesAsOf ? [`judged under the rules in force at ${report.rulesAsOf}`, ''] : [];
  for (const c of report.cases) {
    lines.push(`${c.id}  ${c.title}`, `  reported ${c.reportedAt}, ${c.reason}, ${c.kind}, ${c.certificates.length} certificate(s)`);
    const contested = c.certificates.find((s) => s.interpretation === 'contested');
    if (contested) lines.push(`  note: ${contested.interpretationNote}`);
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
