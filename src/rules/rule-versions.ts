/**
 * Rule versions: how the deadline clock starts and what counts as "revoked".
 * These change more rarely than the deadline table and change the meaning of
 * every verdict at once, so they are data too. A version whose
 * `effectiveFrom` is null is pending: written down, but never applied until a
 * date is set (a ballot adopted, with its effective date).
 */

/** When the deadline clock starts. */
export type ClockStart =
  /** BR 4.9.5 (since BR 1.6.1): "from receipt of the Certificate Problem Report or revocation-related notice". */
  | 'report-received'
  /**
   * servercert PR 622 (draft) 4.9.5: a Certificate Problem Report counts from when it is determined
   * actionable ("Within twenty-four (24) hours after receiving a Certificate Problem Report, the CA SHALL
   * investigate … and determine if it's \"actionable.\""); a Subscriber's revocation request counts from
   * receipt, or from its authentication when it was not authenticated on receipt.
   */
  | 'determined-actionable';

/** What the verdicts count as revoked. */
export type RevokedMeans =
  /** Any verified source (CRL or OCSP) says revoked (BR 4.9.5 "published revocation"). */
  | 'any-source'
  /**
   * servercert PR 622 (draft) 1.6.1 "Revoked": on a CRL at the certificate's CRL Distribution Point URI when
   * it has one, and "revoked" from its AIA OCSP URI when it has one; each condition only where the URI is.
   */
  | 'at-certificate-uris';

export interface RuleVersion {
  readonly id: string;
  /** null: pending, never applied. Selected like the deadline rules: by the time the CA was made aware. */
  readonly effectiveFrom: string | null;
  readonly clockStart: ClockStart;
  readonly revokedMeans: RevokedMeans;
  /** For `determined-actionable`: the longest a report may take to be determined actionable. */
  readonly actionableWithinHours: number | null;
  readonly section: string;
  readonly source: string;
  readonly note: string;
}

/** The rules as they stand: BR 4.9.5 since BR 1.6.1 (Ballot SC6). */
export const BR_REPORT_RECEIVED: RuleVersion = {
  id: 'br-4.9.5-receipt',
  effectiveFrom: '2018-10-14T00:00:00Z',
  clockStart: 'report-received',
  revokedMeans: 'any-source',
  actionableWithinHours: null,
  section: 'BR 4.9.5',
  source: 'cabforum/servercert@b92e7161 docs/BR.md (BR 1.6.1, Ballot SC6); unchanged in cabforum/servercert@168e0aa8 (BR 2.2.6)',
  note: 'The period from receipt of the Certificate Problem Report or revocation-related notice to published revocation.',
};

/**
 * servercert PR 622, "Improve Certificate Problem Reports and Clarify the
 * Meaning of Revocation": an open draft (head 6cf96bd, 2026-03-18, not rebased
 * on BR 2.2.6; its text would take effect 2026-09-15). Off until a ballot sets
 * its date. Its 4.9.5: "The period between receipt of a revocation request
 * from the Subscriber and published revocation MUST NOT exceed the time frame
 * set forth in Section 4.9.1.1. If the request is not authenticated upon
 * receipt, … the period listed above will be measured from the time of
 * authentication", and "The period between the determination that a
 * Certificate Problem Report is actionable and published revocation MUST NOT
 * exceed the time frame set forth in Section 4.9.1.1". Its 1.6.1: "if the
 * certificate contains a CRL Distribution Point URI: a CRL containing the
 * certificate serial number is available … at that URI"; "if the certificate
 * contains an Authority Information Access OCSP URI: an OCSP request to that
 * URI … results in a response with a certStatus value of revoked".
 */
export const SERVERCERT_PR_622: RuleVersion = {
  id: 'servercert-pr-622',
  effectiveFrom: null,
  clockStart: 'determined-actionable',
  revokedMeans: 'at-certificate-uris',
  actionableWithinHours: 24,
  section: 'BR 4.9.5, 1.6.1 "Revoked" (draft)',
  source: 'cabforum/servercert pull request 622 at 6cf96bd (2026-03-18; an open draft, not rebased on BR 2.2.6; not adopted)',
  note: "A Certificate Problem Report counts from when it is determined actionable (at most 24 hours after receipt); a Subscriber's revocation request from receipt, or from its authentication (--confirmed-at) when it was not authenticated on receipt. A certificate counts as revoked once a CRL at its CRL Distribution Point URI lists it (when it has one) and its AIA OCSP URI answers revoked (when it has one); a certificate with neither counts as revoked by any source. A report amended later to become actionable (its Note) is not modelled: give that time as --reported-at.",
};

export const RULE_VERSIONS: readonly RuleVersion[] = [BR_REPORT_RECEIVED, SERVERCERT_PR_622];

/**
 * The version in force at `at`: the latest one with a date at or before it.
 * Pending versions (no date) are skipped; before every dated version the
 * earliest one applies (the pre-SC6 BR counted from the report as well).
 */
export function ruleVersionAt(at: number, versions: readonly RuleVersion[] = RULE_VERSIONS): RuleVersion {
  const dated = versions
    .filter((v) => v.effectiveFrom !== null)
    .sort((a, b) => Date.parse(a.effectiveFrom!) - Date.parse(b.effectiveFrom!));
  let inForce = dated[0] ?? BR_REPORT_RECEIVED;
  for (const v of dated) if (Date.parse(v.effectiveFrom!) <= at) inForce = v;
  return inForce;
}

const HOUR = 3_600_000;

/**
 * When the deadline clock starts under `version`. For a report that must be
 * determined actionable, the CA's confirmation time is that determination when
 * known (held to the allowed window); when unknown, revwatch counts from the
 * latest instant the version allows, so it never holds a CA to an earlier
 * start than the rule does.
 */
export function clockStartFor(version: RuleVersion, kase: { reportedAt: number; confirmedAt?: number | null; reason?: string }): number {
  if (version.clockStart === 'report-received') return kase.reportedAt;
  // PR 622: a Subscriber's request counts from receipt, or from its authentication, with no 24-hour cap.
  if (kase.reason === 'subscriber-request') return Math.max(kase.confirmedAt ?? kase.reportedAt, kase.reportedAt);
  const latest = kase.reportedAt + (version.actionableWithinHours ?? 0) * HOUR;
  if (kase.confirmedAt == null) return latest;
  return Math.min(Math.max(kase.confirmedAt, kase.reportedAt), latest);
}
