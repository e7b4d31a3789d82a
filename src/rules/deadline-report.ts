/**
 * `revwatch deadline`: the MUST and SHOULD deadlines for a report, with the
 * rule that sets them and its citation. The JSON shape is part of the CLI
 * contract (docs/cli.md, docs/schemas/deadline.schema.json).
 */
import { CERT_KINDS, REASON_SLUGS, type CertKind, type ReasonSlug } from '../domain.js';
import { InputError } from '../errors.js';
import { isoOrNull } from '../time.js';
import { PROGRAM_RULES } from './programs.js';
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
  /** "contested" when another defensible reading gives a shorter deadline (the note says which); null otherwise. */
  interpretation: 'contested' | null;
  note: string | null;
  /** The root program that notified the CA (`--notified-by`), or null. */
  notifiedBy: string | null;
  /** When its notice came (`--notified-at`), or null when it came with the report. */
  notifiedAt: string | null;
}

export function deadlineReport(
  kind: CertKind,
  reason: ReasonSlug,
  reportedAt: number,
  options: { notifiedBy?: string | null; notifiedAt?: number | null; rule?: string | null } = {},
): DeadlineReport {
  let d: ReturnType<typeof computeDeadline>;
  try {
    d = computeDeadline({
      kind,
      reason,
      reportedAt,
      notifiedBy: options.notifiedBy ?? null,
      notifiedAt: options.notifiedAt ?? null,
      rule: options.rule ?? null,
    });
  } catch (err) {
    if (err instanceof RuleLookupError) throw new InputError(err.message);
    throw err;
  }
  return {
    deadline: isoOrNull(d.deadline),
    shouldDeadline: isoOrNull(d.shouldDeadline),
    hours: d.rule.mustHours,
    rule: { id: d.rule.id, section: d.rule.section, version: d.rule.version, effectiveFrom: d.rule.effectiveFrom, source: d.rule.source },
    interpretation: d.rule.interpretation ?? null,
    note: d.rule.note ?? null,
    notifiedBy: options.notifiedBy ?? null,
    notifiedAt: isoOrNull(options.notifiedAt ?? null),
  };
}

export function formatDeadlineReport(r: DeadlineReport, reportedAt: number, note: string | undefined = r.note ?? undefined): string {
  // A root program's deadline counts from its notice (programs.ts).
  const fromNotice = r.notifiedAt !== null && PROGRAM_RULES.some((p) => p.id === r.rule.id);
  const lines = [
    r.deadline
      ? `MUST deadline    ${r.deadline} (${r.hours === null ? 'a fixed date' : `${r.hours} hours after ${fromNotice ? r.notifiedAt : isoOrNull(reportedAt)}`})`
      : `MUST deadline    none: no rule set a deadline for this report`,
    `SHOULD deadline  ${r.shouldDeadline ?? '-'}`,
    `rule             ${r.rule.id}: ${r.rule.section}, version ${r.rule.version}${r.rule.effectiveFrom ? `, in force from ${r.rule.effectiveFrom}` : ''}`,
    `source           ${r.rule.source}`,
  ];
  if (r.notifiedBy) lines.push(`notified by      ${r.notifiedBy}${r.notifiedAt ? ` at ${r.notifiedAt}` : ''}`);
  if (r.interpretation) lines.push(`interpretation   ${r.interpretation}`);
  if (note) lines.push(`note             ${note}`);
  return lines.join('\n');
}
