/**
 * The digest's "CRL health" section: per CA owner, the CRL-health findings
 * (sweep/health.ts) opened and resolved since the last digest. Like the case
 * findings, a delivered digest remembers what it carried (DIGESTED items, keys
 * made here), so a finding is reported new once and resolved once; a finding
 * that is opened again after it was resolved is a new one (its firstSeen
 * differs). Info findings (a delta or indirect CRL) are left out, as they are
 * for certificates.
 */
import { createHash } from 'node:crypto';
import type { HealthFindingState, SweepState } from '../ports/revocation-index.js';
import { CRL_HEALTH_CHECKS, findingKey, type HealthCode } from '../sweep/health.js';
import { healthFindingOut, type HealthFindingOut, lastSweepOut, type LastSweepOut } from '../sweep/health-report.js';

/** A finding as the digest shows it: as `crl-health` prints it. */
export type DigestHealthFinding = HealthFindingOut;

export interface DigestHealthOwner {
  readonly owner: string;
  /** Open now, not carried by an earlier delivered digest (or first seen after `since`). */
  readonly newFindings: readonly DigestHealthFinding[];
  /** Resolved since the last digest (or after `since`), not carried as resolved before. */
  readonly resolvedFindings: readonly DigestHealthFinding[];
}

export interface DigestCrlHealth {
  readonly lastSweep: LastSweepOut;
  /** Findings open after the last sweep, warnings and violations, every owner. */
  readonly openFindings: number;
  readonly owners: readonly DigestHealthOwner[];
}

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);
/** The DIGESTED key of a finding reported open: one per opening, so a finding opened again is new again. */
const openedKey = (f: HealthFindingState): string => `crl-health#opened#${hash(`${findingKey(f.code, f.url, f.subject)}#${f.firstSeen}`)}`;
const resolvedKey = (f: HealthFindingState): string =>
  `crl-health#resolved#${hash(`${findingKey(f.code, f.url, f.subject)}#${f.firstSeen}#${f.resolvedAt}`)}`;

const severityOf = (code: string): string => CRL_HEALTH_CHECKS[code as HealthCode]?.severity ?? 'warning';

const SEVERITY_ORDER: Record<string, number> = { violation: 0, warning: 1, info: 2 };
const byImportance = (a: DigestHealthFinding, b: DigestHealthFinding): number =>
  (SEVERITY_ORDER[a.severity] ?? 1) - (SEVERITY_ORDER[b.severity] ?? 1) ||
  (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
  (a.url < b.url ? -1 : a.url > b.url ? 1 : 0) ||
  ((a.subject ?? '') < (b.subject ?? '') ? -1 : 1);

/**
 * The section, or null when no sweep has run (nothing to say, and nothing made up), and the DIGESTED
 * keys a delivery records for it so that the next digest does not carry the same again.
 * `reported`: the DIGESTED keys of earlier delivered digests; without it (`digest --since`),
 * new means first seen after `since` and resolved means resolved after it.
 */
export function digestCrlHealth(
  state: SweepState | null,
  since: number,
  reported?: ReadonlySet<string>,
): { readonly section: DigestCrlHealth | null; readonly keys: readonly string[] } {
  const lastSweep = state ? lastSweepOut(state) : null;
  if (!state || !lastSweep) return { section: null, keys: [] };
  const owners = new Map<string, { opened: DigestHealthFinding[]; resolved: DigestHealthFinding[] }>();
  const of = (owner: string) => {
    const entry = owners.get(owner) ?? { opened: [], resolved: [] };
    owners.set(owner, entry);
    return entry;
  };
  const keys: string[] = [];
  let openFindings = 0;
  for (const f of Object.values(state.health)) {
    if (severityOf(f.code) === 'info') continue;
    if (f.resolvedAt === null) {
      openFindings++;
      if (reported ? reported.has(openedKey(f)) : f.firstSeen <= since) continue;
      of(f.owner).opened.push(healthFindingOut(f));
      keys.push(openedKey(f));
    } else if (f.resolvedAt > since && !reported?.has(resolvedKey(f))) {
      of(f.owner).resolved.push(healthFindingOut(f));
      keys.push(resolvedKey(f));
    }
  }
  const section: DigestCrlHealth = {
    lastSweep,
    openFindings,
    owners: [...owners.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([owner, e]) => ({ owner, newFindings: e.opened.sort(byImportance), resolvedFindings: e.resolved.sort(byImportance) })),
  };
  return { section, keys };
}

/** The section's lines in the digest's text or Markdown. */
export function formatCrlHealthSection(section: DigestCrlHealth | null, md: boolean): string[] {
  const lines: string[] = [md ? '### CRL health' : 'CRL health', md ? '' : '-'.repeat(10)];
  if (!section) return [...lines, 'No sweep has run yet: `revwatch sweep` reads the CRLs the CCADB discloses.', ''];
  const newCount = section.owners.reduce((n, o) => n + o.newFindings.length, 0);
  const resolvedCount = section.owners.reduce((n, o) => n + o.resolvedFindings.length, 0);
  lines.push(
    `Last sweep ${section.lastSweep.sweep} (${section.lastSweep.startedAt}): ${section.openFindings} open finding(s); ${newCount} new, ${resolvedCount} resolved since the last digest.`,
  );
  const item = md ? '  - ' : '  * ';
  for (const o of section.owners) {
    lines.push(`${md ? '- ' : ''}${o.owner || '(no owner)'}:`);
    for (const f of o.newFindings)
      lines.push(`${item}new ${f.severity} ${f.code}: ${f.url}: ${f.message} (first seen ${f.firstSeen}; ${f.citation})`);
    for (const f of o.resolvedFindings)
      lines.push(`${item}resolved ${f.code}: ${f.url} (seen ${f.firstSeen} to ${f.lastSeen}, resolved ${f.resolvedAt})`);
  }
  lines.push('');
  return lines;
}
