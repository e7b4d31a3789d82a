/**
 * `revwatch deadline`: the MUST and SHOULD deadlines for a report, with the
 * rule that sets them and its citation. The JSON shape is part of the CLI
 * contract (design.md).
 */
import { CERT_KINDS, REASON_SLUGS, type CertKind, type ReasonSlug } from '../domain.js';
import { InputError } from '../errors.js';
import { isoOrNull } from '../time.js';
import { RuleLookupError, computeDeadline, reasonsFor } from './rules.js';

export function parseKind(value: string): CertKind {
  if ((CERT_KINDS as readonly string[]).includes(value)) return value as CertKind;
  throw new InputError(`unknown kind "${value}"; accepted: ${CERT_KINDS.join(', ')}`);
}

export function parseReason(value: string, kind: CertKind): ReasonSlug {
  if ((REASON_SLUGS as readonly string[]).includes(value) && reasonsFor(kind).includes(value as ReasonSlug)) return value as ReasonSlug;
  throw new InputError(`unknown reason "${value}" for ${kind}; accepted: ${reasonsFor(kind).join(', ')}`);
}

export interface DeadlineReport {
  deadline: string | null;
  shouldDeadline: string | null;
  hours: number | null;
  rule: { id: string; section: string; version: string; effectiveFrom: string | null; source: string };
}

export function deadlineReport(kind: CertKind, reason: ReasonSlug, reportedAt: number): DeadlineReport {
  let d;
  try {
    d = computeDeadline({ kind, reason, reportedAt });
  } catch (err) {
    if (err instanceof RuleLookupError) throw new InputError(err.message);
    throw err;
  }
  return {
    deadline: isoOrNull(d.deadline),
    shouldDeadline: isoOrNull(d.shouldDeadline),
    hours: d.rule.mustHours,
    rule: { id: d.rule.id, section: d.rule.section, version: d.rule.version, effectiveFrom: d.rule.effectiveFrom, source: d.rule.source },
  };
}

export function formatDeadlineReport(r: DeadlineReport, reportedAt: number, note?: string): string {
  const lines = [
    r.deadline
      ? `MUST deadline    ${r.deadline} (${r.hours} hours after ${isoOrNull(reportedAt)})`
      : `MUST deadline    none: no rule set a deadline for this report`,
    `SHOULD deadline  ${r.shouldDeadline ?? '-'}`,
    `rule             ${r.rule.id}: ${r.rule.section}, version ${r.rule.version}${r.rule.effectiveFrom ? `, in force from ${r.rule.effectiveFrom}` : ''}`,
    `source           ${r.rule.source}`,
  ];
  if (note) lines.push(`note             ${note}`);
  return lines.join('\n');
}
