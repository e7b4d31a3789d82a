/**
 * Per-certificate verdicts (docs/evidence.md, "Verdicts"): a pure function of the
 * case, the certificate, its observations and `now`. Observations may arrive
 * in any order and more than once; the result does not change.
 */
import type { Case, Observation, TrackedCertificate } from '../domain.js';
import { reasonName } from '../pki/oids.js';
import { iso, isoOrNull } from '../time.js';
import { evidenceOf, evidenceTime, observationKey, type CitedAnswer, type Evidence } from './evidence.js';
import { computeDeadline, rulesInstant, type Deadline, type RuleOptions } from './rules.js';
import { backdatingSeverity } from './backdating.js';
import { preliminaryReportFinding } from './preliminary-report.js';
import { reasonCodeFindings } from './reason-codes.js';
import { sha1CrlFinding, sha1SubCaFinding } from './sha1-sunset.js';
import { ruleVersionAt, type RuleVersion } from './rule-versions.js';
import { revocationSources, routeOf, type SourceRoute } from './revocation-sources.js';

/**
 * Every verdict a certificate can get, written once (their meanings: docs/verdicts.md). The `Verdict` type,
 * the order counts are kept and printed in (this table's order: run and status summaries, the names
 * `status --verdict` accepts) and the order reports list them in (`reportRank`: settled first, then open,
 * then the rest) all derive from it.
 */
export const VERDICTS = [
  { verdict: 'pending', reportRank: 3 },
  { verdict: 'overdue', reportRank: 2 },
  { verdict: 'revoked_on_time', reportRank: 0 },
  { verdict: 'revoked_late', reportRank: 1 },
  { verdict: 'expired', reportRank: 4 },
  { verdict: 'expired_overdue', reportRank: 5 },
  { verdict: 'no_deadline', reportRank: 6 },
  { verdict: 'undetermined', reportRank: 7 },
] as const;

export type Verdict = (typeof VERDICTS)[number]['verdict'];

/** Every verdict, in the order counts are kept and printed. */
export const VERDICT_NAMES: readonly Verdict[] = VERDICTS.map((v) => v.verdict);

/** Every verdict, in the order reports list them. */
export const VERDICT_REPORT_ORDER: readonly Verdict[] = [...VERDICTS].sort((a, b) => a.reportRank - b.reportRank).map((v) => v.verdict);

/** A zero count of every verdict, keyed in `VERDICT_NAMES` order. */
export function noVerdicts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICT_NAMES.map((v) => [v, 0])) as Record<Verdict, number>;
}

/** How many of the given certificates have each verdict (every verdict present, zero when none). */
export function countVerdicts(certificates: Iterable<{ readonly verdict: Verdict }>): Record<Verdict, number> {
  const counts = noVerdicts();
  for (const c of certificates) counts[c.verdict]++;
  return counts;
}

/** How old a CCADB disclosure may be before ccadb_disclosure_stale (48 hours, letsencrypt/boulder#8891; ccadb/refresh.ts uses the same). */
export const DISCLOSURE_STALE_AFTER_MS = 48 * 3_600_000;

export type FindingCode =
  | 'ocsp_unknown_for_issued'
  | 'ocsp_crl_disagree'
  | 'revocation_backdated'
  | 'reason_code_mismatch'
  | 'reason_code_missing'
  | 'reason_code_invalid'
  | 'stale_response'
  | 'bad_signature'
  | 'revocation_reversed'
  | 'should_deadline_missed'
  | 'no_revocation_source'
  | 'confirmed_after_report'
  | 'preliminary_report_late'
  | 'evidence_insufficient'
  | 'crl_sources_disagree'
  | 'partition_idp_mismatch'
  | 'disclosed_crl_unreadable'
  | 'ccadb_disclosure_stale'
  | 'revocation_before_issuance'
  | 'sha1_subca_sunset'
  | 'crl_signed_sha1'
  | 'crl_duplicate_entry';

export interface Finding {
  readonly code: FindingCode;
  readonly severity: 'violation' | 'warning' | 'info';
  readonly message: string;
}

export interface SourceStatus {
  readonly kind: 'ocsp' | 'crl';
  readonly url: string;
  readonly status: Observation['status'];
  readonly checkedAt: string;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly error: string | null;
  /** How the source was reached (revocation-sources.ts); null for a source the certificate no longer lists. */
  readonly route?: SourceRoute | null;
  /**
   * When the source last confirmed this answer unchanged, later than `checkedAt`: a settled certificate's
   * unchanged answers are not written, its source's settled heartbeat vouches for them (check/settled-round.ts).
   */
  readonly confirmedAt?: string;
}

/** The certificate entry of `status --json` (docs/cli.md, `status`; docs/schemas/). */
export interface CertificateStatus {
  readonly sha256: string;
  readonly serial: string;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly deadline: string | null;
  readonly shouldDeadline: string | null;
  readonly verdict: Verdict;
  readonly revocationTime: string | null;
  readonly effectiveRevocationTime: string | null;
  readonly reasonCode: string | null;
  readonly firstSeenRevokedAt: string | null;
  readonly lastSeenGoodAt: string | null;
  readonly lateBySeconds: number | null;
  readonly sources: readonly SourceStatus[];
  readonly findings: readonly Finding[];
  /** Present when the deadline rests on a contested reading of the texts (see the rule's note). */
  readonly interpretation?: 'contested';
  readonly interpretationNote?: string;
  /** 'appendix': notBefore and notAfter are the CA's appendix's, not read from the certificate (TrackedCertificate.validityFrom). */
  readonly validityFrom?: 'appendix';
  /**
   * Present when the first revoked answer came from the sweep's revocation index (evidence that predates
   * tracking): the swept CRL, its snapshot, and the two sweeps that bracket when the listing first appeared.
   */
  readonly firstSeenRevokedBySweep?: SweepBracket;
}

/** Where an index-derived first revoked answer comes from (docs/evidence.md, "Evidence from the sweep's index"). */
export interface SweepBracket {
  readonly url: string;
  readonly sha256: string | null;
  /** The sweep that first read the CRL listing the serial (at `firstSeenRevokedAt`). */
  readonly sweep: number;
  /** The last sweep before it that read the URL's CRL without the serial, and when; null when there was none. */
  readonly notListedSweep: number | null;
  readonly notListedAt: string | null;
}

/** Numeric form of the result, for reports and properties. */
export interface Judgement {
  readonly deadline: Deadline;
  readonly verdict: Verdict;
  readonly revoked: boolean;
  readonly claimedRevocationTime: number | null;
  readonly effectiveRevocationTime: number | null;
  readonly reasonCode: number | null;
  readonly firstSeenRevokedAt: number | null;
  readonly lastSeenGoodAt: number | null;
  readonly firstRevoked: CitedAnswer | null;
  readonly lastGood: CitedAnswer | null;
  readonly lateBySeconds: number | null;
  readonly findings: readonly Finding[];
  readonly sources: readonly SourceStatus[];
}

/** What a finding check reads. */
export interface FindingContext {
  readonly kase: Case;
  readonly cert: TrackedCertificate;
  readonly evidence: Evidence;
  readonly deadline: Deadline;
  readonly verdict: Verdict;
  readonly now: number;
  /** Revoked within the certificate's life (effective <= notAfter). */
  readonly revokedInLife: boolean;
  readonly rules: RuleOptions;
}

type FindingCheck = (ctx: FindingContext) => Finding[];

const one = (f: Finding | null): Finding[] => (f ? [f] : []);
const where = (s: { kind: string; url: string }): string => `${s.kind.toUpperCase()} ${s.url}`;

/**
 * The finding checks, one small check per code (docs/verdicts.md, "Findings"). Each
 * reads only the evidence, so a finding never depends on arrival order.
 */
export const FINDING_CHECKS: Readonly<Record<FindingCode, FindingCheck>> = {
  revocation_backdated: ({ kase, evidence }) => {
    const { claimedRevocationTime: claimed, goodBoundAt, goodBound } = evidence;
    if (claimed === null || goodBoundAt === null || goodBoundAt <= claimed || !goodBound) return [];
    // How serious depends on who may backdate (backdating.ts); lateness counts from the bound either way.
    const backdating = backdatingSeverity(kase, evidence.reasonClaims);
    return [
      {
        code: 'revocation_backdated',
        severity: backdating.severity,
        message: `revocationTime ${iso(claimed)} is earlier than a signed "good" answer of ${iso(goodBoundAt)} (${where(goodBound.source)})${backdating.why}; counted from ${iso(goodBoundAt)}`,
      },
    ];
  },
  should_deadline_missed: ({ deadline, verdict, evidence, revokedInLife, cert, now }) => {
    const should = deadline.shouldDeadline;
    if (should === null || verdict === 'no_deadline' || verdict === 'undetermined') return [];
    const end = revokedInLife ? evidence.effectiveRevocationTime! : Math.min(now, cert.notAfter);
    return one(
      end > should && cert.notAfter > should
        ? {
            code: 'should_deadline_missed',
            severity: 'warning',
            message: `not revoked by the SHOULD deadline ${iso(should)} (${deadline.rule.section})`,
          }
        : null,
    );
  },
  no_revocation_source: ({ cert }) =>
    one(
      revocationSources(cert).length === 0
        ? {
            code: 'no_revocation_source',
            severity: 'violation',
            message:
              'the certificate names neither an OCSP responder nor a CRL distribution point, and no CRL was given or disclosed for it',
          }
        : null,
    ),
  ocsp_unknown_for_issued: ({ evidence, cert }) =>
    evidence.sources
      .filter((s) => s.kind === 'ocsp' && s.firstUnknown)
      .map((s) => {
        const first = s.firstUnknown!.observedAt;
        const last = s.lastUnknown!.observedAt;
        const when = first === last ? `at ${iso(first)}` : `between ${iso(first)} and ${iso(last)}`;
        return {
          code: 'ocsp_unknown_for_issued' as const,
          severity: 'violation' as const,
          message: `${s.url} answered "unknown" ${when} for an issued ${cert.precertificate ? 'precertificate' : 'certificate'} (BR 4.9.10)`,
        };
      }),
  bad_signature: ({ evidence }) =>
    evidence.sources.flatMap((s) =>
      [s.firstBadSignature, s.lastBadSignature]
        .filter((o): o is Observation => o !== null)
        .map((o) => ({
          code: 'bad_signature' as const,
          severity: 'violation' as const,
          message: `${o.source.url} at ${iso(o.observedAt)}: ${o.error!.message}`,
        })),
    ),
  // Staleness: judged on the latest verified answer of each source.
  stale_response: ({ evidence }) =>
    evidence.sources.flatMap((s) => {
      const o = s.latestVerified;
      return one(
        o && o.nextUpdate !== null && o.nextUpdate < o.observedAt
          ? {
              code: 'stale_response',
              severity: 'warning',
              message: `${o.source.url} served an answer whose nextUpdate ${iso(o.nextUpdate)} had passed at ${iso(o.observedAt)}`,
            }
          : null,
      );
    }),
  // Reversal (BR 4.10.1: a revocation is not undone before expiry): the same source vouched "good" at a date
  // later than one at which it vouched "revoked": a newer CRL that omits what an older one lists, or a
  // response produced after a revoked one that says good. Judged on the source's own dates, not on when
  // revwatch happened to see the answers: an older cached "good" served after a revoked answer is not one.
  revocation_reversed: ({ evidence, cert }) =>
    evidence.sources.flatMap((s) => {
      const older = s.revokedEarliestVouched;
      const newer = s.goodBound;
      if (!older || !newer || evidenceTime(newer) <= evidenceTime(older) || evidenceTime(newer) >= cert.notAfter) return [];
      const what =
        s.kind === 'crl'
          ? `a CRL dated ${iso(evidenceTime(newer))} omits the entry that a CRL dated ${iso(evidenceTime(older))} lists`
          : `a response produced at ${iso(evidenceTime(newer))} says good after one produced at ${iso(evidenceTime(older))} said revoked`;
      return [{ code: 'revocation_reversed' as const, severity: 'violation' as const, message: `${s.url}: ${what}, before expiry` }];
    }),
  // OCSP and CRL disagree: their latest verified answers differ on revoked vs good.
  ocsp_crl_disagree: ({ evidence }) => {
    const latestOf = (kind: 'ocsp' | 'crl'): Observation | null =>
      evidence.sources
        .filter((s) => s.kind === kind)
        .map((s) => s.latestDefinite)
        .reduce<Observation | null>(
          (a, o) =>
            o && (!a || o.observedAt > a.observedAt || (o.observedAt === a.observedAt && observationKey(o) > observationKey(a))) ? o : a,
          null,
        );
    const ocsp = latestOf('ocsp');
    const crl = latestOf('crl');
    return one(
      ocsp && crl && (ocsp.status === 'revoked') !== (crl.status === 'revoked')
        ? {
            code: 'ocsp_crl_disagree',
            severity: 'warning',
            message: `OCSP said ${ocsp.status} at ${iso(ocsp.observedAt)} while the CRL said ${crl.status} at ${iso(crl.observedAt)}`,
          }
        : null,
    );
  },
  // The CRL the certificate names (CDP) and the CRL its CA disclosed in the CCADB disagree: ocsp_crl_disagree's
  // CRL twin. Both are the CA's signed word on the same certificate; one of them is wrong.
  crl_sources_disagree: ({ evidence, cert }) => {
    const latestOf = (route: 'cdp' | 'ccadb'): Observation | null =>
      evidence.sources
        .filter((s) => s.kind === 'crl' && routeOf(cert, 'crl', s.url) === route)
        .map((s) => s.latestDefinite)
        .reduce<Observation | null>(
          (a, o) =>
            o && (!a || o.observedAt > a.observedAt || (o.observedAt === a.observedAt && observationKey(o) > observationKey(a))) ? o : a,
          null,
        );
    const cdp = latestOf('cdp');
    const disclosed = latestOf('ccadb');
    return one(
      cdp && disclosed && (cdp.status === 'revoked') !== (disclosed.status === 'revoked')
        ? {
            code: 'crl_sources_disagree',
            severity: 'warning',
            message: `the CRL the certificate names (${cdp.source.url}) said ${cdp.status} at ${iso(cdp.observedAt)} while the CRL its CA disclosed in the CCADB (${disclosed.source.url}) said ${disclosed.status} at ${iso(disclosed.observedAt)}`,
          }
        : null,
    );
  },
  // A CRL whose issuingDistributionPoint does not name the URL it was fetched from (or, for a disclosed
  // partitioned shard, that lacks a critical IDP) was set aside: RFC 5280 5.2.5, Apple Root Program 2.1.2.
  partition_idp_mismatch: ({ evidence, cert }) =>
    evidence.sources
      .filter((s) => s.kind === 'crl' && s.latest?.error?.kind === 'wrong-distribution-point')
      .map((s) => {
        const route = routeOf(cert, 'crl', s.url);
        const o = s.latest!;
        return {
          code: 'partition_idp_mismatch' as const,
          severity: route === 'ccadb' ? ('violation' as const) : ('warning' as const),
          message: `${route === 'ccadb' ? 'the CRL disclosed in the CCADB at' : 'the CRL at'} ${s.url} was set aside at ${iso(o.observedAt)}: ${o.error!.message}`,
        };
      }),
  // The CRLs this certificate is checked against come from a CCADB disclosure imported more than 48 hours
  // ago: the CA may have moved its CRLs since. Let's Encrypt's CCADB prober uses its last good copy for up to
  // 48 hours (letsencrypt/boulder#8891); past that, revwatch says so. Info: it is about revwatch's input, not
  // the CA's conduct, and the answers of the CRLs still count.
  ccadb_disclosure_stale: ({ cert, now }) => {
    const at = cert.disclosureImportedAt;
    if (at === undefined || !cert.disclosedCrlUrls?.length || now - at <= DISCLOSURE_STALE_AFTER_MS) return [];
    return [
      {
        code: 'ccadb_disclosure_stale',
        severity: 'info',
        message: `its CCADB-disclosed CRLs come from an import of ${iso(at)}, more than 48 hours old (letsencrypt/boulder#8891): run \`revwatch ccadb import\` with the current report`,
      },
    ];
  },
  // A CRL the CA disclosed in the CCADB for this certificate's issuer could not be read (CCADB Policy 5: disclosed CRLs must be available).
  disclosed_crl_unreadable: ({ evidence, cert }) =>
    evidence.sources
      .filter(
        (s) =>
          s.kind === 'crl' &&
          s.latest?.status === 'error' &&
          s.latest.error?.kind !== 'wrong-distribution-point' &&
          routeOf(cert, 'crl', s.url) === 'ccadb',
      )
      .map((s) => ({
        code: 'disclosed_crl_unreadable' as const,
        severity: 'warning' as const,
        message: `the CRL disclosed in the CCADB at ${s.url} could not be read at ${iso(s.latest!.observedAt)}: ${s.latest!.error?.message ?? 'error'}`,
      })),
  // A revocation dated before the certificate's notBefore (issue 23 §4): no revocation can precede the
  // certificate (RFC 5280 5.1.2.6: "the date on which the revocation occurred"). BR 7.2.2 lets a keyCompromise
  // be dated back to the compromise, which a reused key can predate: info then, a warning otherwise.
  revocation_before_issuance: ({ evidence, cert }) =>
    evidence.reasonClaims
      .filter((o) => o.revocationTime !== null && o.revocationTime < cert.notBefore)
      .map((o) => ({
        code: 'revocation_before_issuance' as const,
        severity: o.reasonCode === 1 ? ('info' as const) : ('warning' as const),
        message: `${where(o.source)} dates the revocation ${iso(o.revocationTime!)}, before the certificate's notBefore ${iso(cert.notBefore)}`,
      })),
  // Reason codes (reason-codes.ts) are judged on every claim, also those a rule version does not count as revoked.
  reason_code_mismatch: ({ kase, cert, evidence, rules }) =>
    reasonCodeFindings(kase, cert, evidence.reasonClaims, { rulesAsOf: rules.rulesAsOf }).filter((f) => f.code === 'reason_code_mismatch'),
  reason_code_invalid: ({ kase, cert, evidence, rules }) =>
    reasonCodeFindings(kase, cert, evidence.reasonClaims, { rulesAsOf: rules.rulesAsOf }).filter((f) => f.code === 'reason_code_invalid'),
  reason_code_missing: ({ kase, cert, evidence, rules }) =>
    reasonCodeFindings(kase, cert, evidence.reasonClaims, { rulesAsOf: rules.rulesAsOf }).filter((f) => f.code === 'reason_code_missing'),
  confirmed_after_report: ({ kase }) =>
    one(
      kase.confirmedAt != null && kase.confirmedAt > kase.reportedAt
        ? {
            code: 'confirmed_after_report',
            severity: 'info',
            message: `the CA confirmed at ${iso(kase.confirmedAt)}, ${Math.round((kase.confirmedAt - kase.reportedAt) / 60_000)} minutes after the report; the deadline counts from the report (BR 4.9.5)`,
          }
        : null,
    ),
  // A fact of the case, like confirmed_after_report: BR 4.9.5's preliminary report (preliminary-report.ts).
  preliminary_report_late: ({ kase, now }) => one(preliminaryReportFinding(kase, now)),
  sha1_subca_sunset: ({ kase, cert, evidence, revokedInLife, now }) =>
    one(sha1SubCaFinding(kase, cert, revokedInLife ? evidence.effectiveRevocationTime : null, now)),
  crl_signed_sha1: ({ evidence }) => evidence.sources.flatMap((s) => one(sha1CrlFinding(s))),
  // One serial listed twice on a CRL (issue 23 §4): RFC 5280 5.1.2.6 identifies each revoked certificate by its
  // serial number, with the one date on which its revocation occurred. Two entries are two answers from one
  // signed CRL; the earliest date is taken (pki/crl.ts), so a later duplicate cannot shorten the lateness, and
  // the CRL is flagged, as inspect flags it.
  crl_duplicate_entry: ({ evidence }) =>
    evidence.sources.flatMap((s) => {
      const o = s.latestDuplicateListing;
      if (!o?.listedRevocationDates) return [];
      return [
        {
          code: 'crl_duplicate_entry' as const,
          severity: 'warning' as const,
          message: `the CRL at ${s.url} read ${iso(o.observedAt)} lists the serial ${o.listedRevocationDates.length} times, with revocationDate ${o.listedRevocationDates.map(iso).join(', ')}; the earliest is taken (RFC 5280 5.1.2.6: one entry, with one revocation date, per revoked certificate)`,
        },
      ];
    }),
  evidence_insufficient: ({ verdict, evidence, cert }) => {
    if (verdict !== 'undetermined') return [];
    if (!evidence.verified)
      return [{ code: 'evidence_insufficient', severity: 'info', message: 'no source has given a verified answer yet' }];
    const why: string[] = [];
    if (evidence.sources.some((s) => s.kind === 'crl' && s.goodLatestVouched && !s.goodBound))
      why.push(
        `the CRL answered only after expiry (${iso(cert.notAfter)}), when it may drop the entry (BR 4.10.1), so its silence proves nothing`,
      );
    if (evidence.sources.some((s) => s.kind === 'ocsp' && s.latestVerified?.status === 'unknown'))
      why.push('the OCSP responder answers "unknown"');
    return [
      {
        code: 'evidence_insufficient',
        severity: 'info',
        message: `expired after its deadline with no evidence of its state at expiry${why.length ? `: ${why.join('; ')}` : ''}`,
      },
    ];
  },
};

/** The finding checks in table order, listed once rather than for every certificate judged. */
const FINDING_CHECK_LIST = Object.values(FINDING_CHECKS) as FindingCheck[];

/**
 * The verdict from the evidence (docs/evidence.md, "Verdicts"). Separate from the
 * finding checks, which read the verdict.
 */
function decide(
  cert: TrackedCertificate,
  evidence: Evidence,
  deadline: Deadline,
  now: number,
): { verdict: Verdict; lateBySeconds: number | null; revokedInLife: boolean } {
  const effective = evidence.effectiveRevocationTime;
  // A revocation after expiry does not count: at notAfter the certificate was unrevoked.
  const revokedInLife = effective !== null && effective <= cert.notAfter;
  const d = deadline.deadline;
  const expired = cert.notAfter <= now;
  if (d === null) return { verdict: 'no_deadline', lateBySeconds: null, revokedInLife };
  if (revokedInLife) {
    // Revoked before the report counts as on time (rules.md edge case 4).
    if (effective! <= d) return { verdict: 'revoked_on_time', lateBySeconds: null, revokedInLife };
    return { verdict: 'revoked_late', lateBySeconds: Math.floor((effective! - d) / 1000), revokedInLife };
  }
  // Expired before its deadline and not revoked in its life: moot, decidable from the dates alone.
  if (expired && cert.notAfter <= d) return { verdict: 'expired', lateBySeconds: null, revokedInLife };
  if (!evidence.verified) return { verdict: 'undetermined', lateBySeconds: null, revokedInLife };
  if (expired) {
    // Expired after the deadline, unrevoked in its life. That needs evidence of its state: a source that
    // vouched "good" during its life, or an OCSP responder that still answers "good" after expiry, or a
    // revocation dated after expiry. A CRL read only after expiry may have dropped the entry (BR 4.10.1).
    const covered =
      evidence.claimedRevocationTime !== null ||
      evidence.sources.some((s) => s.goodBound !== null || (s.kind === 'ocsp' && s.goodLatestVouched !== null));
    if (!covered) return { verdict: 'undetermined', lateBySeconds: null, revokedInLife };
    return { verdict: 'expired_overdue', lateBySeconds: Math.floor((cert.notAfter - d) / 1000), revokedInLife };
  }
  if (now <= d) return { verdict: 'pending', lateBySeconds: null, revokedInLife };
  return { verdict: 'overdue', lateBySeconds: Math.floor((now - d) / 1000), revokedInLife };
}

export function judge(
  kase: Case,
  cert: TrackedCertificate,
  observations: readonly Observation[],
  now: number,
  deadlineOverride?: Deadline,
  rules: RuleOptions = {},
): Judgement {
  return judgeEvidence(kase, cert, evidenceOf(cert, observations), now, deadlineOverride, rules);
}

/**
 * What counts as revoked under a rule version (rule-versions.ts). Today (BR
 * 4.9.5) any verified source. Under servercert PR 622 (a draft, off until a
 * date is set) a CRL at one of the certificate's CRL Distribution Point URIs
 * must list it when it has one, and one of its AIA OCSP URIs must say revoked
 * when it has one; a CRL given by hand or disclosed in the CCADB does not
 * count where the certificate names a CDP. A certificate with neither URI is
 * revoked on any source (the draft's conditions are then empty). The
 * effective time needs no change: any signed "good" after the claimed time,
 * from whichever source, already bounds it.
 */
function underVersion(version: RuleVersion, cert: TrackedCertificate, evidence: Evidence): Evidence {
  if (version.revokedMeans === 'any-source' || evidence.claimedRevocationTime === null) return evidence;
  const saysAt = (kind: 'crl' | 'ocsp', urls: readonly string[]): boolean =>
    urls.length === 0 || evidence.sources.some((s) => s.kind === kind && urls.includes(s.url) && s.claimed !== null);
  if (saysAt('crl', cert.crlUrls) && saysAt('ocsp', cert.ocspUrls)) return evidence;
  return { ...evidence, claimedRevocationTime: null, effectiveRevocationTime: null, firstRevoked: null, reasonCode: null };
}

/** The verdict alone, without findings or the printable fields: what a run's summary counts. Equals judge(...).verdict. */
export function verdictOf(
  kase: Case,
  cert: TrackedCertificate,
  observations: readonly Observation[],
  now: number,
  rules: RuleOptions = {},
): Verdict {
  const deadline = computeDeadline(kase, cert, rules);
  const version = deadline.ruleVersion ?? ruleVersionAt(rulesInstant(kase, rules), rules.versions);
  return decide(cert, underVersion(version, cert, evidenceOf(cert, observations)), deadline, now).verdict;
}

/**
 * A certificate's verdict at any instant, worked out once from its record: decide() reads the instant only
 * through two comparisons (expired: notAfter <= now; late: now > deadline), so three verdicts and the deadline
 * say it for every instant until the record or the case changes. The polling summary keeps them
 * (store/layout.ts), so a check can count the verdicts of certificates whose records it never reads.
 */
export interface VerdictPlan {
  readonly deadline: number | null;
  /** Live and not past the deadline (or no deadline). */
  readonly onTime: Verdict;
  /** Live and past the deadline. */
  readonly late: Verdict;
  /** Expired (notAfter <= now). */
  readonly expired: Verdict;
}

export function verdictPlan(
  kase: Case,
  cert: TrackedCertificate,
  observations: readonly Observation[],
  rules: RuleOptions = {},
): VerdictPlan {
  const deadline = computeDeadline(kase, cert, rules);
  const version = deadline.ruleVersion ?? ruleVersionAt(rulesInstant(kase, rules), rules.versions);
  const evidence = underVersion(version, cert, evidenceOf(cert, observations));
  const d = deadline.deadline;
  // One instant of each regime; where a regime cannot happen (a deadline after notAfter has no "live and late"),
  // the verdict kept for it is never read.
  const onTimeAt = Math.min(d ?? Number.MAX_SAFE_INTEGER, cert.notAfter - 1);
  const lateAt = d === null ? cert.notAfter - 1 : Math.min(d + 1, cert.notAfter - 1);
  return {
    deadline: d,
    onTime: decide(cert, evidence, deadline, onTimeAt).verdict,
    late: decide(cert, evidence, deadline, lateAt).verdict,
    expired: decide(cert, evidence, deadline, cert.notAfter).verdict,
  };
}

/** The verdict a plan gives at `now`: the same as verdictOf on the record it was worked out from. */
export function verdictAt(plan: VerdictPlan, notAfter: number, now: number): Verdict {
  if (notAfter <= now) return plan.expired;
  return plan.deadline !== null && now > plan.deadline ? plan.late : plan.onTime;
}

export function judgeEvidence(
  kase: Case,
  cert: TrackedCertificate,
  allEvidence: Evidence,
  now: number,
  deadlineOverride?: Deadline,
  rules: RuleOptions = {},
): Judgement {
  const deadline = deadlineOverride ?? computeDeadline(kase, cert, rules);
  const version = deadline.ruleVersion ?? ruleVersionAt(rulesInstant(kase, rules), rules.versions);
  const evidence = underVersion(version, cert, allEvidence);
  const { verdict, lateBySeconds, revokedInLife } = decide(cert, evidence, deadline, now);
  const ctx: FindingContext = { kase, cert, evidence, deadline, verdict, now, revokedInLife, rules };
  const findings: Finding[] = [];
  for (const check of FINDING_CHECK_LIST) for (const f of check(ctx)) findings.push(f);
  return {
    deadline,
    verdict,
    revoked: evidence.claimedRevocationTime !== null,
    claimedRevocationTime: evidence.claimedRevocationTime,
    effectiveRevocationTime: evidence.effectiveRevocationTime,
    reasonCode: evidence.reasonCode,
    firstSeenRevokedAt: evidence.firstRevoked?.at ?? null,
    lastSeenGoodAt: evidence.lastGood?.at ?? null,
    firstRevoked: evidence.firstRevoked,
    lastGood: evidence.lastGood,
    lateBySeconds,
    findings: dedupeFindings(findings),
    sources: evidence.sources
      .map((s) => s.latest!)
      .map((o) => ({
        kind: o.source.kind,
        url: o.source.url,
        status: o.status,
        checkedAt: iso(o.observedAt),
        thisUpdate: isoOrNull(o.thisUpdate),
        nextUpdate: isoOrNull(o.nextUpdate),
        error: o.error?.message ?? null,
        route: routeOf(cert, o.source.kind, o.source.url),
      })),
  };
}

function dedupeFindings(findings: readonly Finding[]): Finding[] {
  if (findings.length === 0) return [];
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(`${f.code}\u0000${f.severity}\u0000${f.message}`, f);
  return [...seen.values()].sort((a, b) => (a.code === b.code ? (a.message < b.message ? -1 : 1) : a.code < b.code ? -1 : 1));
}

/** The `status --json` certificate entry. */
export function certificateStatus(
  kase: Case,
  cert: TrackedCertificate,
  observations: readonly Observation[],
  now: number,
  rules: RuleOptions = {},
  /** computeDeadline(kase, cert, rules), when the caller has it (caseDeadlines: once per case, not per certificate). */
  deadline?: Deadline,
): CertificateStatus {
  const j = judge(kase, cert, observations, now, deadline, rules);
  return {
    sha256: cert.sha256,
    serial: cert.serial,
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: iso(cert.notBefore),
    notAfter: iso(cert.notAfter),
    deadline: isoOrNull(j.deadline.deadline),
    shouldDeadline: isoOrNull(j.deadline.shouldDeadline),
    verdict: j.verdict,
    revocationTime: isoOrNull(j.claimedRevocationTime),
    effectiveRevocationTime: isoOrNull(j.effectiveRevocationTime),
    reasonCode: reasonName(j.reasonCode),
    firstSeenRevokedAt: isoOrNull(j.firstSeenRevokedAt),
    lastSeenGoodAt: isoOrNull(j.lastSeenGoodAt),
    lateBySeconds: j.lateBySeconds,
    sources: j.sources,
    findings: j.findings,
    ...(j.deadline.rule.interpretation
      ? { interpretation: j.deadline.rule.interpretation, interpretationNote: j.deadline.rule.note ?? '' }
      : {}),
    ...(cert.validityFrom === 'appendix' ? { validityFrom: 'appendix' as const } : {}),
    ...(j.firstRevoked?.sweepIndex
      ? {
          firstSeenRevokedBySweep: {
            url: j.firstRevoked.source.url,
            sha256: j.firstRevoked.sha256,
            sweep: j.firstRevoked.sweepIndex.firstSeenSweep,
            notListedSweep: j.firstRevoked.sweepIndex.notListedSweep,
            notListedAt: isoOrNull(j.firstRevoked.sweepIndex.notListedAt),
          },
        }
      : {}),
  };
}
