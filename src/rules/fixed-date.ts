/**
 * Deadlines that are a date, not a number of hours after a report: a rule
 * selected by the certificate (its kind, and a property such as its
 * signature algorithm) rather than by a problem report. A case names the
 * rule (`track --rule <id>`); its deadline is the date, whatever the report
 * time, and the verdicts are the usual ones.
 */
import type { CertKind, ReasonSlug } from '../domain.js';
import { InputError } from '../errors.js';

export interface FixedDateRule {
  readonly id: string;
  readonly kind: CertKind;
  /** The reason the case is filed under when none is given (it labels the case; the date is the deadline). */
  readonly reason: ReasonSlug;
  /** The deadline: revoked before this instant (exclusive: "prior to"). */
  readonly deadline: string;
  /** When the text took effect: the case's report time when none is given. */
  readonly effectiveFrom: string;
  readonly section: string;
  readonly version: string;
  readonly source: string;
  /** Which certificates it selects, in the text's words. */
  readonly selects: string;
  readonly note: string;
}

export const FIXED_DATE_RULES: readonly FixedDateRule[] = [
  {
    id: 'sha1-subca-sunset',
    kind: 'tls-subca',
    reason: 'misissuance',
    deadline: '2026-09-15T00:00:00Z',
    effectiveFrom: '2026-02-25T00:00:00Z',
    section: 'BR 7.1.3.2.1',
    version: '2.2.5 (SC097)',
    source: 'cabforum/servercert@d4ea87e docs/BR.md (BR 2.2.5, Ballot SC097); unchanged in cabforum/servercert@168e0aa8 (BR 2.2.6)',
    selects: 'unexpired Subordinate CA Certificates that contain RSASSA-PKCS1-v1_5 with SHA-1',
    note: '"Prior to 2026-09-15, the CA SHALL revoke any unexpired Subordinate CA Certificate that contains RSASSA-PKCS1-v1_5 with SHA-1 within the Certificate." A case names the rule (`track --rule sha1-subca-sunset`) to be judged by the date; a sub-CA tracked without it whose signature algorithm is sha1WithRSAEncryption gets the finding sha1_subca_sunset (info before the date, a violation after it unrevoked), and a CRL issued from that date signed so is the finding crl_signed_sha1.',
  },
];

export function fixedDateRule(id: string | null | undefined): FixedDateRule | null {
  if (!id) return null;
  return FIXED_DATE_RULES.find((r) => r.id === id) ?? null;
}

/** The `--rule` value, checked against the table and, when given, the kind. */
export function parseFixedDateRule(value: string | undefined): FixedDateRule | null {
  if (value === undefined) return null;
  const rule = fixedDateRule(value.trim());
  if (!rule) throw new InputError(`unknown --rule "${value}"; accepted: ${FIXED_DATE_RULES.map((r) => r.id).join(', ')}`);
  return rule;
}

/** Resolves --kind, --reason and --reported-at against a --rule: each defaults to the rule's, and the kind must be its kind. */
export function factsWithRule(
  rule: FixedDateRule | null,
  given: { kind?: string; reason?: string; reportedAt?: string },
): { kind: string; reason: string; reportedAt: string } {
  if (rule && given.kind !== undefined && given.kind !== rule.kind)
    throw new InputError(`--rule ${rule.id} applies to --kind ${rule.kind}, not ${given.kind}`);
  const kind = given.kind ?? rule?.kind ?? 'tls-subscriber';
  const reason = given.reason ?? rule?.reason;
  const reportedAt = given.reportedAt ?? rule?.effectiveFrom;
  if (reason === undefined) throw new InputError('--reason is required (unless --rule names a fixed-date rule)');
  if (reportedAt === undefined) throw new InputError('--reported-at is required (unless --rule names a fixed-date rule)');
  return { kind, reason, reportedAt };
}
