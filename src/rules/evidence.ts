/**
 * The evidence behind a verdict, as a pure function of a certificate's
 * observations (docs/evidence.md, "The evidence record"; "Verdicts").
 *
 * Every fact a verdict or finding needs is the winner of a *selector*: the
 * first or last observation of one source by some time, among those that
 * pass a filter (the first verified revoked answer, the latest verified good
 * one, the earliest claimed revocationTime, ...). The winner of a selector
 * over A ∪ B is the winner over {winner(A), winner(B)}, so keeping only the
 * winners loses nothing: that reduced set is the **evidence record** stored
 * per certificate, and merging a new observation into it is the same
 * computation as rebuilding it from every observation. Ties are broken by
 * the observation's canonical key, so neither the record nor anything
 * derived from it depends on the order observations arrived in.
 */
import { plainObservation, type Observation, type SweepIndexOrigin, type TrackedCertificate } from '../domain.js';
import { groupBy } from '../util/group-by.js';
import { isSha1RsaCrlAnswer } from './sha1-sunset.js';

export type SourceKind = 'ocsp' | 'crl';

/** A verified answer: good, revoked or unknown. `error` records a fault, never evidence. */
export const isVerified = (o: Observation): boolean => o.status !== 'error';

/** When the source vouched for its answer: OCSP producedAt, CRL thisUpdate (BR 4.9.5 "published"). */
export const evidenceTime = (o: Observation): number => o.producedAt ?? o.thisUpdate ?? o.observedAt;

/** A revocation the source claims, with its date: what the reason-code findings read, certificateHold included. */
const isRevocationClaim = (o: Observation): boolean => o.status === 'revoked' && o.revocationTime !== null;
/**
 * certificateHold (6) is a suspension, reversible, not a revocation (RFC 5280 5.3.1; BR 4.9.13 forbids it):
 * a held certificate has not been revoked, so it never meets a deadline. Its claim still reaches the
 * reason-code findings (reason-codes.ts).
 */
const isSuspension = (o: Observation): boolean => o.reasonCode === 6;
/** A verified revocation (certificateHold aside): what firstRevoked and the deadline count. */
export const isRevoked = (o: Observation): boolean => isRevocationClaim(o) && !isSuspension(o);
export const isGood = (o: Observation): boolean => o.status === 'good';
const isBadSignature = (o: Observation): boolean =>
  o.status === 'error' && (o.error?.kind === 'bad-signature' || o.error?.kind === 'unauthorized-signer');

const keys = new WeakMap<Observation, string>();

/** A total order on observations: everything that makes one observation differ from another. */
export function observationKey(o: Observation): string {
  let key = keys.get(o);
  if (key === undefined) {
    key = computeKey(o);
    keys.set(o, key);
  }
  return key;
}

function computeKey(o: Observation): string {
  return JSON.stringify([
    o.observedAt,
    o.source.kind,
    o.source.url,
    o.status,
    o.revocationTime,
    o.reasonCode,
    o.thisUpdate,
    o.nextUpdate,
    o.producedAt,
    o.crlNumber ?? null,
    o.signer ?? null,
    o.sha256 ?? null,
    o.error?.kind ?? null,
    o.error?.message ?? null,
    // Appended only when known: the keys of answers without it stay as they were.
    ...(o.signatureAlgorithm ? [o.signatureAlgorithm] : []),
    ...(o.listedRevocationDates && o.listedRevocationDates.length > 1 ? [`listed ${o.listedRevocationDates.join(',')}`] : []),
    // An answer from the sweep's index is another observation than the same snapshot read by a check.
    ...(o.sweepIndex ? [`index ${o.sweepIndex.firstSeenSweep} ${o.sweepIndex.notListedSweep} ${o.sweepIndex.notListedAt}`] : []),
  ]);
}

interface Selector {
  readonly name: string;
  readonly filter: (o: Observation, notAfter: number) => boolean;
  readonly rank: (o: Observation) => number;
  readonly pick: 'min' | 'max';
}

/** What the evidence record keeps, per source. Adding a fact the verdict needs means adding a row here. */
export const SELECTORS = [
  { name: 'latest', filter: () => true, rank: (o) => o.observedAt, pick: 'max' },
  { name: 'latestVerified', filter: isVerified, rank: (o) => o.observedAt, pick: 'max' },
  { name: 'latestDefinite', filter: (o) => isGood(o) || isRevoked(o), rank: (o) => o.observedAt, pick: 'max' },
  { name: 'firstGood', filter: isGood, rank: (o) => o.observedAt, pick: 'min' },
  { name: 'lastGood', filter: isGood, rank: (o) => o.observedAt, pick: 'max' },
  // The evidence bound counts only what the source vouched for during the certificate's life: after
  // expiry a CRL may drop the entry (BR 4.10.1) and a "good" says nothing about the revocation.
  { name: 'goodBound', filter: (o, notAfter) => isGood(o) && evidenceTime(o) <= notAfter, rank: evidenceTime, pick: 'max' },
  { name: 'goodLatestVouched', filter: isGood, rank: evidenceTime, pick: 'max' },
  { name: 'firstRevoked', filter: isRevoked, rank: (o) => o.observedAt, pick: 'min' },
  { name: 'latestRevoked', filter: isRevoked, rank: (o) => o.observedAt, pick: 'max' },
  { name: 'claimed', filter: isRevoked, rank: (o) => o.revocationTime!, pick: 'min' },
  { name: 'revokedEarliestVouched', filter: isRevoked, rank: evidenceTime, pick: 'min' },
  { name: 'firstUnknown', filter: (o) => o.status === 'unknown', rank: (o) => o.observedAt, pick: 'min' },
  { name: 'lastUnknown', filter: (o) => o.status === 'unknown', rank: (o) => o.observedAt, pick: 'max' },
  { name: 'firstBadSignature', filter: isBadSignature, rank: (o) => o.observedAt, pick: 'min' },
  { name: 'lastBadSignature', filter: isBadSignature, rank: (o) => o.observedAt, pick: 'max' },
  // The latest-issued CRL signed with RSASSA-PKCS1-v1_5 with SHA-1: issued on or after 2026-09-15 it is a finding (sha1-sunset.ts).
  { name: 'latestSha1RsaCrl', filter: isSha1RsaCrlAnswer, rank: (o) => o.thisUpdate ?? o.observedAt, pick: 'max' },
  // The latest CRL answer that listed the serial more than once: a finding (crl_duplicate_entry).
  {
    name: 'latestDuplicateListing',
    filter: (o) => isRevoked(o) && (o.listedRevocationDates?.length ?? 0) > 1,
    rank: (o) => o.observedAt,
    pick: 'max',
  },
] as const satisfies readonly Selector[];

export type SelectorName = (typeof SELECTORS)[number]['name'];

/** One winner per distinct (reasonCode, revocationTime) a source has claimed: the reason-code findings need each. */
const reasonGroup = (o: Observation): string | null => (isRevocationClaim(o) ? `${o.reasonCode ?? '-'}@${o.revocationTime}` : null);

const sourceId = (s: { kind: SourceKind; url: string }): string => `${s.kind} ${s.url}`;

function better(sel: Selector, a: Observation, b: Observation): boolean {
  const ra = sel.rank(a);
  const rb = sel.rank(b);
  if (ra !== rb) return sel.pick === 'max' ? ra > rb : ra < rb;
  // Equal rank: the larger canonical key wins, whatever the pick, so the choice is total.
  return compareObservations(a, b) > 0;
}

/** The facts of one source, each the winner of its selector (null when nothing passed the filter). */
export type SourceFacts = { readonly kind: SourceKind; readonly url: string; readonly reasons: readonly Observation[] } & {
  readonly [K in SelectorName]: Observation | null;
};

/** The selectors as a plain list, walked by index for every observation of every certificate judged. */
const SELECTOR_LIST = SELECTORS as readonly Selector[];
/** The first answer claiming each (reasonCode, revocationTime): what the reason-code findings read. */
const SELECTOR_BY_NAME = new Map<string, Selector>(SELECTOR_LIST.map((sel) => [sel.name, sel]));
const FIRST_BY: Selector = { name: 'reason', filter: () => true, rank: (o) => o.observedAt, pick: 'min' };

export function sourceFacts(kind: SourceKind, url: string, observations: readonly Observation[], notAfter: number): SourceFacts {
  // Winners by selector index, made into the named facts once at the end: status judges every certificate of
  // a case here (a million at incident scale), and an object filled name by name cost more than the picking.
  const winners: (Observation | null)[] = new Array<Observation | null>(SELECTOR_LIST.length).fill(null);
  let reasons: Map<string, Observation> | null = null;
  for (const o of observations) {
    for (let i = 0; i < SELECTOR_LIST.length; i++) {
      const sel = SELECTOR_LIST[i]!;
      if (!sel.filter(o, notAfter)) continue;
      const cur = winners[i];
      if (!cur || better(sel, o, cur)) winners[i] = o;
    }
    const g = reasonGroup(o);
    if (g !== null) {
      reasons ??= new Map();
      const cur = reasons.get(g);
      if (!cur || better(FIRST_BY, o, cur)) reasons.set(g, o);
    }
  }
  const facts: Record<string, unknown> = { kind, url, reasons: reasons ? [...reasons.values()].sort(compareObservations) : [] };
  for (let i = 0; i < SELECTOR_LIST.length; i++) facts[SELECTOR_LIST[i]!.name] = winners[i];
  return facts as SourceFacts;
}

/** Epoch milliseconds written with thirteen digits: 2001-09-09 to 2286-11-20. */
const THIRTEEN_DIGITS_FROM = 1e12;
const THIRTEEN_DIGITS_TO = 1e13;

/** The order of the observations' canonical keys (observationKey). */
export const compareObservations = (a: Observation, b: Observation): number => {
  // A key starts with observedAt ("[1765000000000,"): two instants written with as many digits compare as their
  // text does, so the keys need not be made (status judges a million certificates, several ties each).
  const x = a.observedAt;
  const y = b.observedAt;
  if (
    x !== y &&
    Number.isInteger(x) &&
    Number.isInteger(y) &&
    x >= THIRTEEN_DIGITS_FROM &&
    x < THIRTEEN_DIGITS_TO &&
    y >= THIRTEEN_DIGITS_FROM &&
    y < THIRTEEN_DIGITS_TO
  )
    return x < y ? -1 : 1;
  const ka = observationKey(a);
  const kb = observationKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/**
 * The evidence record: per source, the observations some selector picks, in
 * canonical order and without duplicates. Stored per (case, certificate);
 * never the only copy (observations stay append-only).
 */
export interface EvidenceRecord {
  readonly sources: Readonly<Record<string, readonly Observation[]>>;
}

export const EMPTY_RECORD: EvidenceRecord = { sources: {} };

function groupBySource(observations: readonly Observation[]): Map<string, { kind: SourceKind; url: string; list: Observation[] }> {
  const out = new Map<string, { kind: SourceKind; url: string; list: Observation[] }>();
  for (const [id, list] of groupBy(observations, (o) => sourceId(o.source)))
    out.set(id, { kind: list[0]!.source.kind, url: list[0]!.source.url, list });
  return out;
}

function keptOf(facts: SourceFacts): Observation[] {
  const kept = new Map<string, Observation>();
  for (const sel of SELECTORS) {
    const o = facts[sel.name];
    if (o) kept.set(observationKey(o), o);
  }
  for (const o of facts.reasons) kept.set(observationKey(o), o);
  return [...kept.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, o]) => o);
}

/** Folds observations into a record. `merge(EMPTY_RECORD, all)` is the rebuild; merging in pieces gives the same. */
export function mergeEvidence(record: EvidenceRecord, observations: readonly Observation[], notAfter: number): EvidenceRecord {
  const all = [...Object.values(record.sources).flat(), ...observations];
  const sources: Record<string, Observation[]> = {};
  for (const [id, g] of [...groupBySource(all)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    sources[id] = keptOf(sourceFacts(g.kind, g.url, g.list, notAfter)).map(stripForRecord);
  }
  return { sources };
}

/** The record keeps the answer and its hash; raw bytes stay with the observation. */
const stripForRecord = plainObservation;

export function recordObservations(record: EvidenceRecord): Observation[] {
  return Object.values(record.sources).flat();
}

/** The latest answers of each source of a record (what planning reads), without the rest of the evidence. */
export function latestAnswers(
  record: EvidenceRecord,
): Map<string, { latest: Observation | null; latestVerified: Observation | null; latestDefinite: Observation | null }> {
  const out = new Map<string, { latest: Observation | null; latestVerified: Observation | null; latestDefinite: Observation | null }>();
  const [latest, latestVerified, latestDefinite] = ['latest', 'latestVerified', 'latestDefinite'].map(
    (n) => SELECTORS.find((x) => x.name === n)! as Selector,
  );
  for (const [id, list] of Object.entries(record.sources)) {
    const facts = {
      latest: null as Observation | null,
      latestVerified: null as Observation | null,
      latestDefinite: null as Observation | null,
    };
    for (const o of list) {
      if (!facts.latest || better(latest!, o, facts.latest)) facts.latest = o;
      if (latestVerified!.filter(o, 0) && (!facts.latestVerified || better(latestVerified!, o, facts.latestVerified)))
        facts.latestVerified = o;
      if (latestDefinite!.filter(o, 0) && (!facts.latestDefinite || better(latestDefinite!, o, facts.latestDefinite)))
        facts.latestDefinite = o;
    }
    out.set(id, facts);
  }
  return out;
}

/** Equality of two records, as verify-evidence compares them. */
export function sameRecord(a: EvidenceRecord, b: EvidenceRecord): boolean {
  return canonicalRecordJson(a) === canonicalRecordJson(b);
}

export function canonicalRecordJson(r: EvidenceRecord): string {
  const ids = Object.keys(r.sources).sort();
  return JSON.stringify(
    ids.map((id) => [id, [...(r.sources[id] ?? [])].map(stripForRecord).sort(compareObservations).map(observationKey)]),
  );
}

/** A verified answer with where it came from, as status and reports cite it. */
export interface CitedAnswer {
  readonly at: number;
  readonly source: { readonly kind: SourceKind; readonly url: string };
  readonly sha256: string | null;
  /** The answer came from the sweep's revocation index when the certificate was tracked (it predates tracking). */
  readonly sweepIndex?: SweepIndexOrigin;
}

const cite = (o: Observation): CitedAnswer => ({
  at: o.observedAt,
  source: o.source,
  sha256: o.sha256 ?? null,
  ...(o.sweepIndex ? { sweepIndex: o.sweepIndex } : {}),
});

/** What the verdict and the finding checks read: the certificate's evidence across its sources. */
export interface Evidence {
  readonly sources: readonly SourceFacts[];
  /** Any verified answer at all. */
  readonly verified: boolean;
  /** The earliest revocationTime among verified revoked answers: what the CA claims. */
  readonly claimedRevocationTime: number | null;
  /** The latest time a verified source vouched "good" within the certificate's life (the evidence bound). */
  readonly goodBoundAt: number | null;
  readonly goodBound: Observation | null;
  /** max(claimed, goodBound): when revocation is proven to have been published. */
  readonly effectiveRevocationTime: number | null;
  readonly firstRevoked: CitedAnswer | null;
  readonly lastGood: CitedAnswer | null;
  /** The reason as the CA says it now: the latest verified revoked answer's. */
  readonly reasonCode: number | null;
  /** Every distinct (reasonCode, revocationTime) claimed, with the first answer that claimed it. */
  readonly reasonClaims: readonly Observation[];
}

/**
 * The winner among the sources' winners of one selector, by that selector's rank (its filter was applied per
 * source); on a tie of rank and key, the first source's.
 */
function pickAcross(sources: readonly SourceFacts[], name: SelectorName): Observation | null {
  const sel = SELECTOR_BY_NAME.get(name)!;
  let best: Observation | null = null;
  for (const s of sources) {
    const o = s[name];
    if (o && (!best || better(sel, o, best))) best = o;
  }
  return best;
}

/**
 * The pure evidence function. Takes every observation of a certificate (or
 * only its record's, which gives the same result) plus any derived evidence
 * such as CRL snapshots that did not list it.
 */
export function evidenceOf(cert: Pick<TrackedCertificate, 'notAfter'>, observations: readonly Observation[]): Evidence {
  const sources = [...groupBySource(observations)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => sourceFacts(g.kind, g.url, g.list, cert.notAfter));
  const claimedObs = pickAcross(sources, 'claimed');
  const goodBound = pickAcross(sources, 'goodBound');
  const firstRevoked = pickAcross(sources, 'firstRevoked');
  const lastGood = pickAcross(sources, 'lastGood');
  const latestRevoked = pickAcross(sources, 'latestRevoked');
  const claimed = claimedObs?.revocationTime ?? null;
  const goodBoundAt = goodBound ? evidenceTime(goodBound) : null;
  // docs/evidence.md, "Effective revocation time": effectiveRevocationTime = max(claimed, the latest producedAt/thisUpdate of any verified good),
  // whatever order the answers came in.
  const effective = claimed === null ? null : goodBoundAt !== null && goodBoundAt > claimed ? goodBoundAt : claimed;
  return {
    sources,
    verified: sources.some((s) => s.latestVerified !== null),
    claimedRevocationTime: claimed,
    goodBoundAt,
    goodBound,
    effectiveRevocationTime: effective,
    firstRevoked: firstRevoked ? cite(firstRevoked) : null,
    lastGood: lastGood ? cite(lastGood) : null,
    reasonCode: latestRevoked?.reasonCode ?? null,
    reasonClaims: sources.flatMap((s) => s.reasons).sort(compareObservations),
  };
}
