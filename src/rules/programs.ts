/**
 * Deadlines a root program sets when it notifies the CA itself (`--notified-by`).
 * One row per program and version; another program is one more row. A row
 * applies to every certificate kind and reason, from its effective date (by
 * the time the CA was notified: the case's reportedAt), and is used when it
 * ends sooner than the BR deadline.
 */
import type { CertKind, ReasonSlug } from '../domain.js';
import { InputError } from '../errors.js';
import type { Rule } from './rules.js';

export interface ProgramRule {
  readonly id: string;
  /** The `--notified-by` value. */
  readonly party: string;
  readonly mustHours: number;
  readonly section: string;
  readonly version: string;
  /** null: pending (a draft), written down but never applied, like servercert PR 622 (rule-versions.ts). */
  readonly effectiveFrom: string | null;
  readonly effectiveUntil: string | null;
  readonly source: string;
  readonly note: string;
}

const MS_PROGRAM = 'TrustedRootProgram/Program-Requirements@4425856';

export const PROGRAM_RULES: readonly ProgramRule[] = [
  {
    id: 'microsoft-2.1.13',
    party: 'microsoft',
    mustHours: 24,
    section: 'Microsoft Trusted Root Program Requirements 2.1.13, 2.1.15',
    version: 'v1.1',
    effectiveFrom: '2025-11-21T00:00:00Z',
    effectiveUntil: null,
    source: `${MS_PROGRAM} (Requirements v1.1/v1.2)`,
    note: "When Microsoft notifies the CA of a certificate contrary to the program requirements or the BRs, the CA must revoke it within 24 hours, for any reason; no exceptions (2.1.15). Counted from Microsoft's notice (`--notified-at` when it came after the problem report; the BR deadline still counts from the report, and the earlier binds). The no-exception text appeared in the requirements on 2025-10-10 (0231ed8), before v1.0 and v1.1 were published; revwatch applies it from v1.1's effective date, 2025-11-21, and before that the CA could revoke or request an exception within 24 hours, so the BR deadline stood.",
  },
  {
    id: 'mozilla-notice-draft',
    party: 'mozilla',
    mustHours: 24,
    section: 'MRSP 3.2 (draft)',
    version: 'draft',
    effectiveFrom: null,
    effectiveUntil: null,
    source: 'mozilla/pkipolicy issue 300 (2026-05-26; a draft for MRSP 3.2, not adopted)',
    note: "Proposed: on Mozilla's notice, the CA revokes within 24 hours or requests an exception. Pending: off until a version of the policy adopts it with a date; `--notified-by mozilla` is refused until then.",
  },
];

const dated = (r: ProgramRule): r is ProgramRule & { effectiveFrom: string } => r.effectiveFrom !== null;

/** The parties `--notified-by` accepts: every party with a dated row (a pending row changes nothing). */
export const NOTIFYING_PARTIES: readonly string[] = [...new Set(PROGRAM_RULES.filter(dated).map((r) => r.party))];

export function parseNotifiedBy(value: string | undefined): string | null {
  if (value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (NOTIFYING_PARTIES.includes(v)) return v;
  throw new InputError(`unknown --notified-by "${value}"; accepted: ${NOTIFYING_PARTIES.join(', ')}`);
}

/**
 * `--notified-at`: when the program's notice came, if after the report. It needs `--notified-by`, and a
 * notice before the report would be the earlier awareness, which is what `--reported-at` is.
 */
export function checkNotifiedAt(notifiedAt: number | null, notifiedBy: string | null, reportedAt: number): number | null {
  if (notifiedAt === null) return null;
  if (notifiedBy === null) throw new InputError('--notified-at needs --notified-by (the root program whose notice it was)');
  if (notifiedAt < reportedAt)
    throw new InputError(
      '--notified-at is before --reported-at: the CA was made aware first by the notice, so give its time as --reported-at',
    );
  return notifiedAt;
}

/** The program row in force at `at` for a notification by `party`, as a deadline rule for (kind, reason); null when none. */
export function programRuleInForce(party: string | null | undefined, kind: CertKind, reason: ReasonSlug, at: number): Rule | null {
  if (!party) return null;
  const row = PROGRAM_RULES.filter(dated).find(
    (r) => r.party === party && at >= Date.parse(r.effectiveFrom) && (r.effectiveUntil === null || at < Date.parse(r.effectiveUntil)),
  );
  if (!row) return null;
  return {
    id: row.id,
    kind,
    reasons: [reason],
    mustHours: row.mustHours,
    shouldHours: null,
    section: row.section,
    version: row.version,
    effectiveFrom: row.effectiveFrom,
    effectiveUntil: row.effectiveUntil,
    source: row.source,
    note: row.note,
  };
}
