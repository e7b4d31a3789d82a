/**
 * The versioned deadline rules: data, not code paths. Each rule says for which
 * certificate kind and reasons it applies, between which dates (by the time
 * the CA was made aware: the case's reportedAt), the MUST and SHOULD hours,
 * and where it comes from. Sources are the commits docs/rules.md lists (generated from this table).
 *
 * A day is 86,400 s; dates are 00:00 UTC (BR 1.6.4). `effectiveUntil` is
 * exclusive.
 */
import type { CertKind, ReasonSlug } from '../domain.js';
import { fixedDateRule } from './fixed-date.js';
import { programRuleInForce } from './programs.js';
import { clockStartFor, ruleVersionAt, type RuleVersion } from './rule-versions.js';

export interface Rule {
  readonly id: string;
  readonly kind: CertKind;
  readonly reasons: readonly ReasonSlug[];
  /** Hours allowed by the MUST/SHALL deadline; null when no deadline applied. */
  readonly mustHours: number | null;
  /** Hours of the SHOULD deadline, where the rule has one. */
  readonly shouldHours: number | null;
  readonly section: string;
  readonly version: string;
  readonly effectiveFrom: string | null;
  readonly effectiveUntil: string | null;
  readonly source: string;
  readonly note?: string;
  /**
   * 'contested' when another reading of the texts, defensible too, gives a
   * different deadline: revwatch keeps the longer one (it never accuses on
   * the stricter reading) and says so wherever the deadline is shown.
   */
  readonly interpretation?: 'contested';
  /** A deadline that is a date rather than hours after a report (fixed-date.ts): set for those rules only. */
  readonly fixedDeadline?: string;
}

const TLS_24H_SC6: ReasonSlug[] = ['subscriber-request', 'unauthorized-request', 'key-compromise', 'domain-validation'];
const TLS_5D_SC6: ReasonSlug[] = [
  'key-policy',
  'misuse',
  'agreement-violation',
  'domain-no-longer-permitted',
  'wildcard-fraud',
  'material-change',
  'misissuance',
  'inaccurate-information',
  'ca-rights-terminated',
  'cps-required',
  'key-generation-flawed',
];
const TLS_ALL: ReasonSlug[] = [...TLS_24H_SC6, 'weak-key', 'caa-failure', ...TLS_5D_SC6];

// S/MIME BR 4.9.1.1: items 1-5 within 24 hours, items 6-15 within 5 days.
const SMIME_24H: ReasonSlug[] = ['subscriber-request', 'unauthorized-request', 'key-compromise', 'weak-key', 'domain-validation'];
const SMIME_5D: ReasonSlug[] = [
  'key-policy',
  'misuse',
  'agreement-violation',
  'domain-no-longer-permitted',
  'material-change',
  'misissuance',
  'inaccurate-information',
  'ca-rights-terminated',
  'cps-required',
  'key-generation-flawed',
];
// CSBR 4.9.1.1 after CSC-18: items 1-6 within 24 hours (6: used to sign Suspect Code), 7-14 within 5 days.
const CS_24H: ReasonSlug[] = [
  'subscriber-request',
  'unauthorized-request',
  'key-compromise',
  'weak-key',
  'key-generation-flawed',
  'suspect-code',
];
const CS_5D: ReasonSlug[] = [
  'key-policy',
  'misuse',
  'agreement-violation',
  'material-change',
  'misissuance',
  'inaccurate-information',
  'ca-rights-terminated',
  'cps-required',
];

const S1 = 'cabforum/servercert@3ec1f929 docs/BR.md (BR 1.5.7)';
const S2 = 'cabforum/servercert@b92e7161 docs/BR.md (BR 1.6.1, Ballot SC6)';
const S4 = 'cabforum/servercert@23c3cc6b docs/BR.md (BR 1.7.3, Ballot SC35)';
const S6 = 'cabforum/servercert@90a98dc7 docs/BR.md (BR 2.0.1, Ballot SC063)';
const S8 = 'cabforum/servercert@168e0aa8 docs/BR.md (BR 2.2.6, Ballot SC095)';
const SM = 'cabforum/smime@ba234cef SBR.md (S/MIME BR 1.0.0, Ballot SMC01)';
const M28 = 'mozilla/pkipolicy@a1068166 rootstore/policy.md (MRSP 2.8 section 6.2)';
// The CSC-18 text itself; CSBR 3.10.0 (89ca8c6a) still carries it unchanged.
const CS = 'cabforum/code-signing@966cfa0 docs/CSBR.md (CSBR 3.3, Ballot CSC-18)';
const CS10 = 'cabforum/code-signing@89ca8c6a docs/CSBR.md (CSBR 3.10.0)';
const CS0 = 'cabforum/code-signing@ccc80e4c docs/CSBR.md (CSBR 3.2.0)';
const CS3 = 'cabforum/code-signing@e345af0 docs/CSBR.md (CSBR 3.0.0)';

export const RULES: readonly Rule[] = [
  // TLS subscriber certificates, BR 4.9.1.1
  {
    id: 'tls-pre-sc6',
    kind: 'tls-subscriber',
    reasons: TLS_ALL,
    mustHours: 24,
    shouldHours: null,
    section: 'BR 4.9.1.1',
    version: '1.3.0-1.6.0',
    effectiveFrom: null,
    effectiveUntil: '2018-10-14T00:00:00Z',
    source: S1,
  },
  {
    id: 'tls-sc6-24h',
    kind: 'tls-subscriber',
    reasons: TLS_24H_SC6,
    mustHours: 24,
    shouldHours: null,
    section: 'BR 4.9.1.1',
    version: '1.6.1 (SC6)',
    effectiveFrom: '2018-10-14T00:00:00Z',
    effectiveUntil: null,
    source: S2,
  },
  {
    id: 'tls-sc6-5d',
    kind: 'tls-subscriber',
    reasons: TLS_5D_SC6,
    mustHours: 120,
    shouldHours: 24,
    section: 'BR 4.9.1.1',
    version: '1.6.1 (SC6)',
    effectiveFrom: '2018-10-14T00:00:00Z',
    effectiveUntil: null,
    source: S2,
  },
  {
    id: 'tls-sc6-weak-key-5d',
    kind: 'tls-subscriber',
    reasons: ['weak-key'],
    mustHours: 120,
    shouldHours: 24,
    section: 'BR 4.9.1.1',
    version: '1.6.1 (SC6)',
    effectiveFrom: '2018-10-14T00:00:00Z',
    effectiveUntil: '2020-10-19T00:00:00Z',
    source: S2,
  },
  {
    id: 'tls-sc35-weak-key',
    kind: 'tls-subscriber',
    reasons: ['weak-key'],
    mustHours: 24,
    shouldHours: null,
    section: 'BR 4.9.1.1 #4',
    version: '1.7.3 (SC35)',
    effectiveFrom: '2020-10-19T00:00:00Z',
    effectiveUntil: null,
    source: S4,
  },
  {
    id: 'tls-caa-as-misissuance',
    kind: 'tls-subscriber',
    reasons: ['caa-failure'],
    mustHours: 120,
    shouldHours: 24,
    section: 'BR 4.9.1.1 (misissuance)',
    version: '1.6.1 (SC6)',
    effectiveFrom: '2018-10-14T00:00:00Z',
    effectiveUntil: '2026-03-31T00:00:00Z',
    source: S2,
    interpretation: 'contested',
    note: "Contested: before SC095 a CAA failure is counted here as misissuance (#12, 5 days), as Let's Encrypt did in 2020; reading it as domain authorization that should not be relied upon (#5, 24 hours) is defensible too, and Chrome asked the forum to make 24 hours explicit (servercert issue 580, 2025-04-07), which SC095 did from 2026-03-31.",
  },
  {
    id: 'tls-sc095-caa',
    kind: 'tls-subscriber',
    reasons: ['caa-failure'],
    mustHours: 24,
    shouldHours: null,
    section: 'BR 4.9.1.1 #5',
    version: '2.2.6 (SC095)',
    effectiveFrom: '2026-03-31T00:00:00Z',
    effectiveUntil: null,
    source: S8,
    note: "SC095 names CAA failures under #5 in the BR from 2026-03-31; the ballot moved the EV Guidelines' effective date to 2026-05-04, the BR's stayed 2026-03-31.",
  },
  // Subordinate CA certificates, BR 4.9.1.2: seven days, unchanged since at least BR 1.3.
  {
    id: 'tls-subca',
    kind: 'tls-subca',
    reasons: TLS_ALL,
    mustHours: 168,
    shouldHours: null,
    section: 'BR 4.9.1.2',
    version: '1.3.0-2.2.6',
    effectiveFrom: null,
    effectiveUntil: null,
    source: `${S1}; ${S8}`,
  },
  // S/MIME
  {
    id: 'smime-no-timeline',
    kind: 'smime-subscriber',
    reasons: [...SMIME_24H, ...SMIME_5D],
    mustHours: null,
    shouldHours: null,
    section: 'MRSP 6.2',
    version: 'MRSP 2.8',
    effectiveFrom: null,
    effectiveUntil: '2023-09-01T00:00:00Z',
    source: M28,
    note: 'S/MIME revocation events were listed without a timeline before the S/MIME BR.',
  },
  {
    id: 'smime-sbr-24h',
    kind: 'smime-subscriber',
    reasons: SMIME_24H,
    mustHours: 24,
    shouldHours: null,
    section: 'S/MIME BR 4.9.1.1',
    version: '1.0.0 (SMC01)',
    effectiveFrom: '2023-09-01T00:00:00Z',
    effectiveUntil: null,
    source: SM,
  },
  {
    id: 'smime-sbr-5d',
    kind: 'smime-subscriber',
    reasons: SMIME_5D,
    mustHours: 120,
    shouldHours: 24,
    section: 'S/MIME BR 4.9.1.1',
    version: '1.0.0 (SMC01)',
    effectiveFrom: '2023-09-01T00:00:00Z',
    effectiveUntil: null,
    source: SM,
  },
  {
    id: 'smime-subca-no-timeline',
    kind: 'smime-subca',
    reasons: [...SMIME_24H, ...SMIME_5D],
    mustHours: null,
    shouldHours: null,
    section: 'MRSP 6.2',
    version: 'MRSP 2.8',
    effectiveFrom: null,
    effectiveUntil: '2023-09-01T00:00:00Z',
    source: M28,
  },
  {
    id: 'smime-subca',
    kind: 'smime-subca',
    reasons: [...SMIME_24H, ...SMIME_5D],
    mustHours: 168,
    shouldHours: null,
    section: 'S/MIME BR 4.9.1.2',
    version: '1.0.0 (SMC01)',
    effectiveFrom: '2023-09-01T00:00:00Z',
    effectiveUntil: null,
    source: SM,
  },
  // Code signing
  {
    id: 'cs-pre-csc18',
    kind: 'codesigning-subscriber',
    reasons: [...CS_24H, ...CS_5D],
    mustHours: null,
    shouldHours: null,
    section: 'CSBR 4.9.1.1',
    version: '3.2.0',
    effectiveFrom: null,
    effectiveUntil: '2024-04-15T00:00:00Z',
    source: CS0,
    note: 'CSBR 3.2.0 counted in business days with a malware workflow (72 hours, 7 days); revwatch does not encode those, so no deadline is computed.',
  },
  {
    id: 'cs-csc18-24h',
    kind: 'codesigning-subscriber',
    reasons: CS_24H,
    mustHours: 24,
    shouldHours: null,
    section: 'CSBR 4.9.1.1',
    version: '3.3 (CSC-18)',
    effectiveFrom: '2024-04-15T00:00:00Z',
    effectiveUntil: null,
    source: CS,
  },
  {
    id: 'cs-csc18-5d',
    kind: 'codesigning-subscriber',
    reasons: CS_5D,
    mustHours: 120,
    shouldHours: 24,
    section: 'CSBR 4.9.1.1',
    version: '3.3 (CSC-18)',
    effectiveFrom: '2024-04-15T00:00:00Z',
    effectiveUntil: null,
    source: CS,
  },
  // Code-signing subordinate CAs: seven days. CSBR 3.0.0-3.2.0 4.9.1.4 "Revocation of a Subordinate CA
  // Certificate": "As specified in BR Section 4.9.1.2" (verified at e345af0, 204c33c, 6a5b55d, ccc80e4),
  // i.e. the BR's seven days; CSC-18 wrote the seven days into CSBR 4.9.1.2 itself. The text before
  // CSBR 3.0.0 (2022-06-29) was not checked, so no deadline is computed before it (no_deadline never accuses).
  {
    id: 'cs-subca-pre-3.0',
    kind: 'codesigning-subca',
    reasons: [...CS_24H, ...CS_5D],
    mustHours: null,
    shouldHours: null,
    section: 'CSBR 4.9.1.4',
    version: 'before 3.0.0',
    effectiveFrom: null,
    effectiveUntil: '2022-06-29T00:00:00Z',
    source: CS3,
    note: 'revwatch does not encode the code-signing sub-CA rules before CSBR 3.0.0 (2022-06-29), so no deadline is computed.',
  },
  {
    id: 'cs-subca-3.0',
    kind: 'codesigning-subca',
    reasons: [...CS_24H, ...CS_5D],
    mustHours: 168,
    shouldHours: null,
    section: 'CSBR 4.9.1.4 ("As specified in BR Section 4.9.1.2"), BR 4.9.1.2',
    version: '3.0.0-3.2.0',
    effectiveFrom: '2022-06-29T00:00:00Z',
    effectiveUntil: '2024-04-15T00:00:00Z',
    source: `${CS3}; ${CS0}`,
    note: 'Before CSC-18 the CSBR deferred to the TLS BR for subordinate CAs: seven days.',
  },
  {
    id: 'cs-subca',
    kind: 'codesigning-subca',
    reasons: [...CS_24H, ...CS_5D],
    mustHours: 168,
    shouldHours: null,
    section: 'CSBR 4.9.1.2',
    version: '3.3-3.10.0',
    effectiveFrom: '2024-04-15T00:00:00Z',
    effectiveUntil: null,
    source: `${CS}; ${CS10}`,
  },
];

/** BR 2.0.1 (SC063): "With the exception of Short-lived Subscriber Certificates". */
export const SHORT_LIVED_EXEMPTION: Rule = {
  id: 'tls-short-lived-exempt',
  kind: 'tls-subscriber',
  reasons: TLS_ALL,
  mustHours: null,
  shouldHours: null,
  section: 'BR 4.9.1.1',
  version: '2.0.1 (SC063)',
  effectiveFrom: '2024-03-15T00:00:00Z',
  effectiveUntil: null,
  source: S6,
  note: 'Short-lived Subscriber Certificates (issued from 2024-03-15 with validity <= 10 days; from 2026-03-15, <= 7 days) are exempt.',
};

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

/** The reason slugs each kind accepts, for validation and error messages. */
export function reasonsFor(kind: CertKind): ReasonSlug[] {
  const set = new Set<ReasonSlug>();
  for (const r of RULES) if (r.kind === kind) for (const x of r.reasons) set.add(x);
  return [...set];
}

export class RuleLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleLookupError';
  }
}

/** The rule in force at `reportedAt` for (kind, reason). Throws when the reason does not apply to the kind. */
export function ruleInForce(kind: CertKind, reason: ReasonSlug, reportedAt: number): Rule {
  const matches = RULES.filter((r) => {
    if (r.kind !== kind || !r.reasons.includes(reason)) return false;
    const from = ms(r.effectiveFrom);
    const until = ms(r.effectiveUntil);
    return (from === null || reportedAt >= from) && (until === null || reportedAt < until);
  });
  if (matches.length === 0) {
    throw new RuleLookupError(`reason "${reason}" does not apply to ${kind}; accepted: ${reasonsFor(kind).join(', ')}`);
  }
  if (matches.length > 1) throw new Error(`rule table overlap for ${kind}/${reason}: ${matches.map((m) => m.id).join(', ')}`);
  return matches[0]!;
}

/**
 * BR 1.6.1 "Short-lived Subscriber Certificate" (from BR 2.0.1): the
 * definition keys on issuance, not on when a problem was reported. Issued
 * (notBefore) on or after 2024-03-15 with a validity period of at most
 * 864,000 s (10 days), or on or after 2026-03-15 with at most 604,800 s
 * (7 days). The validity period runs from notBefore through notAfter
 * inclusive (BR 1.6.1 "Validity Period"), so it is notAfter - notBefore + 1 s.
 */
export const SHORT_LIVED_LIMITS: readonly { readonly issuedFrom: string; readonly maxValiditySeconds: number }[] = [
  { issuedFrom: '2026-03-15T00:00:00Z', maxValiditySeconds: 604_800 },
  { issuedFrom: '2024-03-15T00:00:00Z', maxValiditySeconds: 864_000 },
];

/** SHORT_LIVED_LIMITS with their dates parsed once: every certificate judged is measured against them. */
const SHORT_LIVED_FROM = SHORT_LIVED_LIMITS.map((l) => ({
  issuedFrom: Date.parse(l.issuedFrom),
  maxValiditySeconds: l.maxValiditySeconds,
}));

export function isShortLived(notBefore: number, notAfter: number): boolean {
  const validitySeconds = (notAfter - notBefore) / 1000 + 1;
  // The latest limit whose issuance date the certificate reaches (the list is newest first).
  const limit = SHORT_LIVED_FROM.find((l) => notBefore >= l.issuedFrom);
  return limit !== undefined && validitySeconds <= limit.maxValiditySeconds;
}

export interface Deadline {
  readonly rule: Rule;
  /** MUST deadline (epoch ms), or null when no rule applied. */
  readonly deadline: number | null;
  readonly shouldDeadline: number | null;
  /** When the clock started (the report, unless the rule version says otherwise). */
  readonly clockStart?: number;
  /** The rule version that set the clock start and the meaning of "revoked". */
  readonly ruleVersion?: RuleVersion;
}

/** Which rules judge a case: those of another date (`status --rules-as-of`), or other rule versions (tests). */
export interface RuleOptions {
  /** Judge under the rules in force at this instant instead of at the case's reportedAt. */
  readonly rulesAsOf?: number;
  readonly versions?: readonly RuleVersion[];
}

export interface DeadlineInput {
  readonly kind: CertKind;
  readonly reason: ReasonSlug;
  readonly reportedAt: number;
  readonly confirmedAt?: number | null;
  readonly notifiedBy?: string | null;
  /** When that program's notice came, if after the report (`--notified-at`); the notice is the report otherwise. */
  readonly notifiedAt?: number | null;
  /** A fixed-date rule the case names (`track --rule`): its date is the deadline. */
  readonly rule?: string | null;
}

const HOUR = 3_600_000;

/** The instant whose rules apply: the case's reportedAt (BR 4.9.5: from receipt of the report), or the date asked for. */
export const rulesInstant = (input: { reportedAt: number }, options: RuleOptions = {}): number => options.rulesAsOf ?? input.reportedAt;

/**
 * The deadline for a case, and for a particular certificate when given
 * (short-lived exemption). A root program's notice (`notifiedBy`, at
 * `notifiedAt` or with the report) sets its own deadline, counted from the
 * notice; it applies when it ends sooner: the shortest deadline binds
 * (docs/rules.md, root programs).
 */
export function computeDeadline(
  input: DeadlineInput,
  certificate?: { notBefore: number; notAfter: number },
  options: RuleOptions = {},
): Deadline {
  const at = rulesInstant(input, options);
  const ruleVersion = ruleVersionAt(at, options.versions);
  const fixed = fixedDateRule(input.rule);
  if (fixed) {
    // A date, not a report's hours: the case is judged by that rule alone (fixed-date.ts).
    const rule: Rule = {
      id: fixed.id,
      kind: fixed.kind,
      reasons: [input.reason],
      mustHours: null,
      shouldHours: null,
      section: fixed.section,
      version: fixed.version,
      effectiveFrom: fixed.effectiveFrom,
      effectiveUntil: null,
      source: fixed.source,
      note: fixed.note,
      fixedDeadline: fixed.deadline,
    };
    return { rule, deadline: Date.parse(fixed.deadline), shouldDeadline: null, clockStart: input.reportedAt, ruleVersion };
  }
  const clockStart = clockStartFor(ruleVersion, input);
  let rule = ruleInForce(input.kind, input.reason, at);
  if (
    certificate &&
    input.kind === 'tls-subscriber' &&
    at >= Date.parse(SHORT_LIVED_EXEMPTION.effectiveFrom!) &&
    isShortLived(certificate.notBefore, certificate.notAfter)
  ) {
    rule = SHORT_LIVED_EXEMPTION;
  }
  let start = clockStart;
  // The program's deadline counts from its notice, which may come after the problem report; the BR's still
  // counts from the report, and the one that ends first binds. The program row in force is the one at the notice.
  const noticeAt = input.notifiedAt ?? input.reportedAt;
  const program = programRuleInForce(input.notifiedBy, input.kind, input.reason, options.rulesAsOf ?? noticeAt);
  if (program && (rule.mustHours === null || noticeAt + program.mustHours! * HOUR <= clockStart + rule.mustHours * HOUR)) {
    rule = program;
    start = noticeAt;
  }
  const deadline = rule.mustHours === null ? null : start + rule.mustHours * HOUR;
  const shouldDeadline = rule.shouldHours === null || deadline === null ? null : start + rule.shouldHours * HOUR;
  return { rule, deadline, shouldDeadline, clockStart: start, ruleVersion };
}

/**
 * computeDeadline(input, certificate, options) for every certificate of one case, worked out at most twice: a
 * certificate changes the deadline only through the short-lived exemption, so each certificate gets the
 * deadline of its side of that test. Status judges a whole case (a million certificates at incident scale).
 */
export function caseDeadlines(
  input: DeadlineInput,
  options: RuleOptions = {},
): (certificate: { notBefore: number; notAfter: number }) => Deadline {
  // The test computeDeadline makes on the certificate, without the part that depends on it.
  const exemptable =
    fixedDateRule(input.rule) === null &&
    input.kind === 'tls-subscriber' &&
    rulesInstant(input, options) >= Date.parse(SHORT_LIVED_EXEMPTION.effectiveFrom!);
  let ordinary: Deadline | null = null;
  let shortLived: Deadline | null = null;
  return (certificate) => {
    if (exemptable && isShortLived(certificate.notBefore, certificate.notAfter)) {
      shortLived ??= computeDeadline(input, certificate, options);
      return shortLived;
    }
    ordinary ??= computeDeadline(input, certificate, options);
    return ordinary;
  };
}

/**
 * The CRLReason each TLS subscriber reason calls for (BR 4.9.1.1 from 1.8.7,
 * BR 7.2.2). null means unspecified, expressed by omitting the reasonCode.
 */
export const TLS_CRL_REASON: Readonly<Record<ReasonSlug, number | null>> = {
  'subscriber-request': null,
  'unauthorized-request': 9,
  'key-compromise': 1,
  'weak-key': 1,
  'domain-validation': 4,
  'caa-failure': 4,
  'key-policy': 4,
  misuse: 9,
  'agreement-violation': 9,
  'domain-no-longer-permitted': 5,
  'wildcard-fraud': 9,
  'material-change': 9,
  misissuance: 4,
  'inaccurate-information': 9,
  'ca-rights-terminated': null,
  'cps-required': null,
  'key-generation-flawed': 1,
  'suspect-code': null,
};

/** From BR 1.8.7 (SC061): TLS subscriber CRL entries carry the matching CRLReason. */
export const TLS_REASON_CODES_FROM = Date.parse('2023-07-15T00:00:00Z');
/** MRSP 2.8 section 6.1.1: the same duty for TLS end-entity certificates revoked after 2022-10-01, before the BR took it up. */
export const MOZILLA_TLS_REASON_CODES_FROM = Date.parse('2022-10-01T00:00:00Z');
/** Codes BR 7.2.2 allows for subscriber certificates: keyCompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn. */
export const TLS_ALLOWED_REASON_CODES: ReadonlySet<number> = new Set([1, 3, 4, 5, 9]);
