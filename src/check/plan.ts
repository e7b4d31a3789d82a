/**
 * Planning a check run: which certificates need asking, grouped into one job
 * per CRL URL (one fetch answers for all of its serials) and one job per OCSP
 * request.
 *
 * The planner reads only the certificates that are due (the sparse polling
 * index; see poll.ts): an unchanged run costs one item per certificate that
 * still needs asking, not one per certificate tracked.
 */
import type { Case } from '../domain.js';
import { EMPTY_RECORD, latestAnswers, mergeEvidence, recordObservations, type EvidenceRecord } from '../rules/evidence.js';
import {
  isPollSummary,
  sourceKey,
  type CaseCertificate,
  type CaseStore,
  type ObservationStore,
  type PollRead,
  type PollSummary,
  type SourceState,
  type StoredCertificate,
} from '../ports/store.js';
import { previousAnswer } from './jobs.js';
import type { CrlJob, JobCertificate, OcspJob } from '../ports/index.js';
import { DAY_MS, pollDueFrom } from './poll.js';
import { isDisclosedShard, MAX_URLS_PER_ROUTE, refusedSources, revocationSources } from '../rules/revocation-sources.js';
import { DisclosureResolver } from '../ccadb/match.js';
import type { DisclosureLookup } from '../ccadb/store.js';
import { YIELD_EVERY, yieldToEventLoop } from '../util/yield.js';
import { SettledRound, type PollEntry } from './settled-round.js';
import { isSummaryCertificate, PollSummaryResolver, type SummaryCertificate } from './poll-summary.js';
import type { VerdictPlan } from '../rules/verdict.js';

export interface PlanOptions {
  readonly caseId?: string;
  /** A settled (verified revoked) certificate is asked again this often, to catch a reversed revocation. */
  readonly settledIntervalMs?: number;
  /** The imported CCADB disclosures: certificates are also checked against their issuer's disclosed CRLs. */
  readonly disclosures?: DisclosureLookup;
  /**
   * Handed the OCSP jobs as they are planned (a few hundred certificates at a time, shard by shard of the
   * polling index), so the responders are asked while planning goes on. They are in the plan's `ocspJobs` as well.
   */
  readonly onOcspJobs?: (jobs: readonly OcspJob[]) => void;
  /**
   * Settled certificates live in the settled pool and are asked in their sources' daily rounds, an unchanged
   * answer writing nothing per certificate (settled-round.ts). The run's end writes the source states' heartbeat:
   * locally with `plan.settledRound.finish`, in the AWS fan-out from `plan.settledRound.planned` and what each
   * job recorded (fan-out.ts).
   */
  readonly settledPool?: boolean;
  /** The source states as the run found them, when the caller has read them already (run-check.ts). */
  readonly sourceStates?: ReadonlyMap<string, SourceState>;
  /**
   * Jobs for the queue (fan-out.ts): each certificate without its record and cases, and no `refs`, so a
   * shard's items and records are let go once it is planned and a run holds only what its messages carry.
   */
  readonly lean?: boolean;
  /**
   * With `lean`: the plan is handed on as it is made instead of kept (the AWS planner, fan-out.ts planRun), so
   * a run of any size is planned in a bounded working set. Each certificate of a CRL job goes to `crl`, keyed
   * by its job (crlJobKey), and is not kept: the plan's crlJobs carry no certificates, only what is known of
   * each job once every certificate is planned (its conditional GET, IDP, size). OCSP jobs go to onOcspJobs
   * only (the plan's ocspJobs stays empty). `shardPlanned` follows each shard of the polling index: shards
   * come in order of their first hex digit of the SHA-256, so a shard's certificates all sort after the last's.
   */
  readonly stream?: LeanPlanStream;
}

/** Where a streamed lean plan goes (PlanOptions.stream). */
export interface LeanPlanStream {
  crl(jobKey: string, certificate: JobCertificate): void | Promise<void>;
  shardPlanned(): void | Promise<void>;
}

/** The one CRL job of a URL and issuer: one fetch answers for all of its certificates. */
export const crlJobKey = (url: string, issuerSha256: string): string => `${url}|${issuerSha256}`;

/** A certificate due in this run, with every case that tracks it. */
export interface CertificateRef {
  readonly cert: StoredCertificate;
  readonly caseIds: string[];
  readonly cases: { cert: StoredCertificate; rev: number }[];
  record: EvidenceRecord;
  /**
   * Planned from polling summaries (poll-summary.ts): `cert` holds only what planning reads and `record` only the
   * latest answers, and these are the verdicts per case (verdictAt) while the run changes nothing of the record.
   */
  readonly verdicts?: Map<string, VerdictPlan>;
}

export interface CheckPlan {
  readonly startedAt: number;
  readonly cases: readonly Case[];
  /** Certificates due in this run, counted once per case that tracks them. */
  readonly certificates: number;
  /** Tracked certificates (per case) that were not due: settled ones between their daily re-asks, expired and judged ones. */
  readonly notDue: number;
  /** Expired certificates that every source has answered since expiry: taken out of the polling index in this run. */
  readonly retiredExpired: number;
  readonly crlJobs: readonly CrlJob[];
  readonly ocspJobs: readonly OcspJob[];
  /** Every due certificate once (none with `lean`). The local run deletes each once it is judged, to let it go. */
  readonly refs: Map<string, CertificateRef>;
  /** Sources past the cap per certificate (MAX_URLS_PER_ROUTE), one line per certificate and route: never asked. */
  readonly refused: readonly { readonly kind: 'crl' | 'ocsp'; readonly url: string; readonly error: string }[];
  /** With `settledPool`: this run's settled rounds, which write the source states at its end. */
  readonly settledRound: SettledRound | null;
}

export async function planCheck(store: CaseStore & ObservationStore, now: number, options: PlanOptions = {}): Promise<CheckPlan> {
  const settledInterval = options.settledIntervalMs ?? DAY_MS;
  const cases = options.caseId ? [await store.getCase(options.caseId)].filter((c) => c !== null) : await store.listCases();
  const caseIds = new Set(cases.map((c) => c.id));
  const counts = await store.certificateCounts();
  const tracked = [...caseIds].reduce((n, id) => n + (counts.get(id) ?? 0), 0);
  const sourceStates = options.sourceStates ?? (await store.getSourceStates());

  const refs = new Map<string, CertificateRef>();
  const crlGroups = new Map<
    string,
    { url: string; issuerSha256: string; isCA: boolean; certificates: JobCertificate[]; allAnswered: boolean; requireIdp: boolean }
  >();
  // Disclosed CRLs are attached for planning only: the stored certificate keeps what was tracked. Without any
  // import (most homes) the resolver would hand every certificate back as it is, one await per certificate.
  const resolver =
    options.disclosures && (await options.disclosures.lastImport())
      ? new DisclosureResolver(options.disclosures, (sha) => store.getCertificateDer(sha))
      : null;
  const ocspJobs: OcspJob[] = [];
  const refused: CheckPlan['refused'][number][] = [];
  let retiredExpired = 0;
  let certificates = 0;
  const stream = options.lean ? (options.stream ?? null) : null;
  const round = options.settledPool ? new SettledRound(sourceStates, now, settledInterval, options.caseId !== undefined) : null;

  const summaries = new PollSummaryResolver(sourceStates);
  const facts = new Map<CertificateRef, ReturnType<typeof latestAnswers>>();
  const revokedInLife = new Map<CertificateRef, boolean>();

  /**
   * Plans certificates due in this run; every case of each of them is among `reads` (a page or a shard of the
   * polling index: visitPollSummaries never splits a certificate). `shardEnd`: the shard is planned.
   */
  const planDue = async (reads: readonly PollRead[], shardEnd = true): Promise<void> => {
    const due = await fromSummaries(store, summaries, reads, caseIds, !options.lean);
    const shardRefs = new Map<string, CertificateRef>();
    const entries = new Map<string, PollEntry[]>();
    for (const cc of due) {
      if (!caseIds.has(cc.cert.caseId)) continue;
      if (round)
        entries.set(cc.cert.sha256, [...(entries.get(cc.cert.sha256) ?? []), { pollDue: cc.pollDue, pollSettled: cc.pollSettled }]);
      const ref = shardRefs.get(cc.cert.sha256);
      if (ref && isSummaryCertificate(cc)) {
        // Every case of a certificate was read as a summary, or none (fromSummaries): the same answers in each.
        ref.caseIds.push(cc.cert.caseId);
        ref.cases.push({ cert: cc.cert, rev: cc.rev });
        if (cc.verdicts) ref.verdicts?.set(cc.cert.caseId, cc.verdicts);
      } else if (!ref && isSummaryCertificate(cc)) {
        const made: CertificateRef = {
          cert: cc.cert,
          caseIds: [cc.cert.caseId],
          cases: [{ cert: cc.cert, rev: cc.rev }],
          record: cc.record,
          verdicts: new Map(cc.verdicts ? [[cc.cert.caseId, cc.verdicts]] : []),
        };
        facts.set(made, cc.facts);
        revokedInLife.set(made, cc.revokedInLife);
        shardRefs.set(cc.cert.sha256, made);
      } else if (ref) {
        ref.caseIds.push(cc.cert.caseId);
        ref.cases.push({ cert: cc.cert, rev: cc.rev });
        // Records are the same in every case; should one lag, the join of both loses nothing.
        ref.record = mergeEvidence(ref.record, recordObservations(cc.record), cc.cert.notAfter);
      } else {
        // A certificate stored before evidence records: its record is rebuilt from the observations once.
        const record = cc.legacy ? mergeEvidence(EMPTY_RECORD, await store.listObservations(cc.cert.sha256), cc.cert.notAfter) : cc.record;
        shardRefs.set(cc.cert.sha256, { cert: cc.cert, caseIds: [cc.cert.caseId], cases: [{ cert: cc.cert, rev: cc.rev }], record });
      }
    }
    let shardOcspJobs: OcspJob[] = [];
    // Handed over a slice at a time, yielding in between: the responders are asked while this shard is planned.
    const handOver = (): void => {
      // A streamed plan keeps none: they are the stream's (onOcspJobs) once handed over.
      if (!stream) for (const job of shardOcspJobs) ocspJobs.push(job); // not push(...): a spread of 130,000 overflows the stack
      if (shardOcspJobs.length > 0) options.onOcspJobs?.(shardOcspJobs);
      shardOcspJobs = [];
    };
    let planned = 0;
    for (const [sha, ref] of shardRefs) {
      if (++planned % YIELD_EVERY === 0) {
        handOver();
        await yieldToEventLoop();
      }
      // Attached before judging whether it is due: an expired certificate reached only through its issuer's
      // disclosure must have answered from those CRLs since expiry, like any other source.
      const c = resolver ? await resolver.attach(ref.cert) : ref.cert;
      const facts = factsOf(ref);
      const sources = revocationSources(c);
      if (pollDueFrom(c, ref.record, facts, sources, now, settledInterval, revokedInLife.get(ref)) === null) {
        // Expired and answered since expiry (or revoked in its life): judged; it leaves the polling index.
        for (const kc of ref.cases) await store.setPollDue(kc.cert.caseId, sha, kc.rev, null);
        retiredExpired += ref.cases.length;
        continue;
      }
      const settled = sources.some((s) => facts.get(sourceKey(s.kind, s.url))?.latestDefinite?.status === 'revoked');
      const placed = round ? placeInPool(store, ref, sha, entries.get(sha) ?? [], settled && c.notAfter > now) : false;
      const pooled = typeof placed === 'boolean' ? placed : await placed;
      const asked = pooled && round ? round.plan(sources, (key) => facts.get(key)?.latest, entries.get(sha) ?? []) : null;
      if (asked?.size === 0) continue; // settled, and no source due for it in this run
      if (!options.lean) refs.set(sha, ref);
      certificates += ref.cases.length;
      for (const r of refusedSources(c)) {
        const what = r.route === 'cdp' ? 'CRL distribution points' : r.route === 'aia' ? 'OCSP responders' : `given ${r.kind} URLs`;
        refused.push({
          kind: r.kind,
          url: r.refused[0]!,
          error: `refused: certificate ${c.serial} names ${r.named} ${what}; only the first ${MAX_URLS_PER_ROUTE} are read, ${r.refused.length} refused`,
        });
      }
      for (const s of sources) {
        const prev = facts.get(sourceKey(s.kind, s.url))?.latest ?? undefined;
        if (asked) {
          if (!asked.has(sourceKey(s.kind, s.url))) continue;
        } else if (settled && c.notAfter > now && prev && prev.observedAt + settledInterval > now) continue;
        const certificate: JobCertificate = {
          sha256: c.sha256,
          serial: c.serial,
          notAfter: c.notAfter,
          caseIds: ref.caseIds,
          previous: previousAnswer(prev),
          // From a summary: its latest answers only, and no `cases`, so the executor reads the whole item to write one.
          ...(options.lean ? {} : ref.verdicts ? { record: ref.record } : { record: ref.record, cases: ref.cases }),
          sources: sources.length,
          ...(asked ? { settled: true } : {}),
          ...(c.disclosedCrlUrls?.length
            ? { disclosedCrlUrls: c.disclosedCrlUrls, disclosedCrlsPartitioned: c.disclosedCrlsPartitioned === true }
            : {}),
        };
        if (s.kind === 'crl') {
          const key = crlJobKey(s.url, c.issuerSha256);
          const g = crlGroups.get(key) ?? {
            url: s.url,
            issuerSha256: c.issuerSha256,
            isCA: c.isCA,
            certificates: [],
            allAnswered: true,
            requireIdp: false,
          };
          if (stream) {
            const handed = stream.crl(key, certificate);
            if (handed) await handed;
          } else g.certificates.push(certificate);
          if (isDisclosedShard(c, s.url)) g.requireIdp = true;
          if (prev === undefined || prev.status === 'error') g.allAnswered = false;
          crlGroups.set(key, g);
        } else {
          shardOcspJobs.push({ kind: 'ocsp', url: s.url, issuerSha256: c.issuerSha256, certificate });
        }
      }
    }
    handOver();
    if (stream && shardEnd) {
      const handed = stream.shardPlanned();
      if (handed) await handed;
    }
    for (const ref of shardRefs.values()) {
      facts.delete(ref);
      revokedInLife.delete(ref);
    }
  };
  const factsOf = (ref: CertificateRef): ReturnType<typeof latestAnswers> => facts.get(ref) ?? latestAnswers(ref.record);

  if (options.caseId)
    await planDue(
      (await store.loadCase(options.caseId)).filter(
        (cc) => cc.pollDue !== null && (cc.pollSettled && round ? round.readsPool : cc.pollDue <= now),
      ),
    );
  else await store.visitPollSummaries(now, planDue, { settled: round === null ? 'due' : round.readsPool ? 'whole' : 'none' });

  const crlJobs: CrlJob[] = [...crlGroups.values()].map((g) => {
    const state = sourceStates.get(sourceKey('crl', g.url));
    // A conditional GET only helps when every certificate already has an answer from this CRL:
    // a 304 carries no answers for the new ones. Nor once the kept CRL's nextUpdate has passed: a 304
    // then says the stale CRL is still served, which is evidence only as an answer of this run (the
    // stale_response finding), so the CRL is asked for whole and read again.
    const keptNextUpdate = state?.nextUpdate ?? null;
    const keptIsCurrent = keptNextUpdate === null || keptNextUpdate > now;
    const conditional = g.allAnswered && state?.ok && keptIsCurrent ? state : null;
    return {
      kind: 'crl',
      url: g.url,
      issuerSha256: g.issuerSha256,
      certificatesAreCAs: g.isCA,
      conditional,
      certificates: g.certificates,
      ...(g.requireIdp ? { requireIdp: true } : {}),
      ...(state?.bytes ? { keptBytes: state.bytes } : {}),
    };
  });
  return {
    startedAt: now,
    cases,
    certificates,
    notDue: Math.max(0, tracked - certificates),
    retiredExpired,
    crlJobs,
    ocspJobs,
    refs,
    refused,
    settledRound: round,
  };
}

/**
 * A shard's polling reads as the planner takes them: each summary resolved (poll-summary.ts), and the whole items
 * of what cannot be decided from its summary, in one batch; a certificate with one such entry is read whole in
 * every case that tracks it, so its cases are planned on the same record. `needVerdicts`: the local check counts
 * each certificate's verdicts, which a summary written without its case lacks.
 */
async function fromSummaries(
  store: CaseStore,
  summaries: PollSummaryResolver,
  reads: readonly PollRead[],
  caseIds: ReadonlySet<string>,
  needVerdicts: boolean,
): Promise<CaseCertificate[]> {
  const resolved = new Map<string, SummaryCertificate[]>();
  const whole: CaseCertificate[] = [];
  const wanted: PollSummary[] = [];
  const readWhole = new Set<string>();
  for (const r of reads) {
    if (!isPollSummary(r)) {
      whole.push(r);
      readWhole.add(r.cert.sha256);
      if (!r.legacy) summaries.learn(r.cert);
      continue;
    }
    if (!caseIds.has(r.caseId)) continue;
    const s = summaries.resolve(r, needVerdicts);
    if (s) resolved.set(r.sha256, [...(resolved.get(r.sha256) ?? []), s]);
    else {
      wanted.push(r);
      readWhole.add(r.sha256);
    }
  }
  for (const [sha, list] of resolved) {
    if (!readWhole.has(sha)) continue;
    for (const s of list) wanted.push({ caseId: s.cert.caseId, sha256: sha } as PollSummary);
    resolved.delete(sha);
  }
  for (let i = 0; i < wanted.length; i += 1000) {
    const got = await store.getCaseCertificates(wanted.slice(i, i + 1000).map((w) => ({ caseId: w.caseId, sha256: w.sha256 })));
    for (const cc of got) {
      if (!cc.legacy) summaries.learn(cc.cert);
      whole.push(cc);
    }
  }
  const out: CaseCertificate[] = whole;
  for (const list of resolved.values()) for (const s of list) out.push(s);
  return out;
}

/**
 * With the settled pool: a live settled certificate whose every entry is in the pool is planned from it (its
 * sources' rounds decide what is asked); one that is no longer live and settled but still pooled (it expired) goes
 * back into the every-run shards. True when the certificate is planned from the pool.
 *
 * A live settled certificate outside the pool (recorded before the pool existed, or by a run that could not pool
 * it: ObservationRecorder's `poolCovered`) is not moved in here, before it is asked: it is planned as any settled
 * certificate due (its due sources asked, their answers written as the daily heartbeat), and the write of its
 * answers puts it into the pool. Moved at plan time, it was covered only by this run's joins (its sources' rounds
 * pulled in at the run's end, SettledRound.finish): a run killed before its end left it pooled, a day from its next
 * re-ask, with a source that had never answered it and no round due to ask it (issue 29; crash-safety-pool.test.ts).
 *
 * A promise only when an entry leaves the pool: every certificate of a run is placed, and almost none moves, so
 * the planner does not wait on a promise per certificate for nothing.
 */
function placeInPool(
  store: CaseStore,
  ref: CertificateRef,
  sha: string,
  entries: readonly PollEntry[],
  liveSettled: boolean,
): boolean | Promise<boolean> {
  const inPool = ref.cases.map((_, i) => entries[i]?.pollSettled === true);
  if (liveSettled) return inPool.length > 0 && !inPool.includes(false);
  if (!inPool.includes(true)) return false;
  return (async () => {
    for (const [i, kc] of ref.cases.entries()) if (inPool[i]) await store.setPollDue(kc.cert.caseId, sha, kc.rev, 0, false);
    return false;
  })();
}
