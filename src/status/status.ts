/**
 * `revwatch status`: every case's certificates with their deadlines, verdicts
 * and findings, judged from the evidence records. A case's partition is
 * read with paginated Queries over its 16 key ranges (Store.visitCase), plus
 * one Query per CRL URL for the snapshots, however many certificates it has:
 * never a read per certificate.
 */
import type { Case, Observation } from '../domain.js';
import { InputError } from '../errors.js';
import { oneLine } from '../util/terminal.js';
import {
  EMPTY_RECORD,
  isGood,
  isRevoked,
  latestAnswers,
  mergeEvidence,
  recordObservations,
  type EvidenceRecord,
} from '../rules/evidence.js';
import { certificateStatus, countVerdicts, noVerdicts, type CertificateStatus, type Verdict } from '../rules/verdict.js';
import { caseDeadlines, computeDeadline } from '../rules/rules.js';
import type { RuleOptions } from '../rules/rules.js';
import { formatDuration, isoOrNull } from '../time.js';
import { crlSourceUrls, isDisclosedShard } from '../rules/revocation-sources.js';
import { DisclosureResolver } from '../ccadb/match.js';
import type { DisclosureLookup } from '../ccadb/store.js';
import {
  sourceKey,
  type CaseCertificate,
  type CaseStore,
  type CrlSnapshot,
  type ObservationStore,
  type SourceState,
  type StatusSpool,
  type StoredCertificate,
} from '../ports/store.js';
import { settledConfirmedAt } from '../check/settled-round.js';
import { DAY_MS } from '../check/poll.js';

/**
 * The CRL snapshots of one URL in the order they were seen, with a sparse
 * table for "the latest thisUpdate among snapshots seen in [a, b)" in O(1).
 */
export class SnapshotIndex {
  private readonly seen: number[];
  private readonly table: number[][];
  constructor(readonly snapshots: readonly CrlSnapshot[]) {
    const sorted = [...snapshots].sort((a, b) => a.observedAt - b.observedAt || a.thisUpdate - b.thisUpdate);
    (this as { snapshots: readonly CrlSnapshot[] }).snapshots = sorted;
    this.seen = sorted.map((s) => s.observedAt);
    // table[k][i] = index of the max thisUpdate in [i, i + 2^k)
    this.table = [sorted.map((_, i) => i)];
    for (let k = 1; 1 << k <= sorted.length; k++) {
      const prev = this.table[k - 1]!;
      const row: number[] = [];
      for (let i = 0; i + (1 << k) <= sorted.length; i++) {
        const a = prev[i]!;
        const b = prev[i + (1 << (k - 1))]!;
        row.push(sorted[b]!.thisUpdate > sorted[a]!.thisUpdate ? b : a);
      }
      this.table.push(row);
    }
  }

  private lowerBound(t: number): number {
    let lo = 0;
    let hi = this.seen.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seen[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The snapshot with the latest thisUpdate, and the last one seen, among those seen in [from, to). */
  within(from: number, to: number): { latestDated: CrlSnapshot; lastSeen: CrlSnapshot } | null {
    const i = this.lowerBound(from);
    const j = this.lowerBound(to);
    if (i >= j) return null;
    const k = 31 - Math.clz32(j - i);
    const a = this.table[k]![i]!;
    const b = this.table[k]![j - (1 << k)]!;
    const best = this.snapshots[b]!.thisUpdate > this.snapshots[a]!.thisUpdate ? b : a;
    return { latestDated: this.snapshots[best]!, lastSeen: this.snapshots[j - 1]! };
  }
}

/**
 * Unchanged answers are not rewritten per certificate, but every new CRL is
 * kept as a snapshot. A verified CRL seen after the certificate's first
 * "good" answer from that URL and before its first "revoked" one did not list
 * it (a listing would have been recorded as a change): it is a signed "good"
 * at that CRL's thisUpdate, evidence for the bound on backdating (docs/evidence.md,
 * "Effective revocation time") as tight as the CA's CRL cadence. Only the two snapshots that
 * can move a verdict are returned: the latest dated and the last seen.
 */
export function goodFromSnapshots(
  cert: StoredCertificate,
  record: EvidenceRecord,
  snapshots: ReadonlyMap<string, SnapshotIndex>,
  observations: readonly Observation[] = recordObservations(record),
): Observation[] {
  const out: Observation[] = [];
  for (const url of crlSourceUrls(cert)) {
    // A shard of a partitioned CRL speaks only for its own partition: its silence about a serial is no
    // "good" for a certificate it may not cover, so its snapshots extend nothing.
    if (isDisclosedShard(cert, url)) continue;
    const index = snapshots.get(url);
    if (!index) continue;
    // The first good and first revoked answers of this URL (evidence.ts's firstGood and firstRevoked): only
    // when they were seen matters here, so the earliest observedAt of each is enough.
    let firstGoodAt: number | null = null;
    let firstRevokedAt: number | null = null;
    for (const o of observations) {
      if (o.source.kind !== 'crl' || o.source.url !== url) continue;
      if (isGood(o)) firstGoodAt = firstGoodAt === null ? o.observedAt : Math.min(firstGoodAt, o.observedAt);
      else if (isRevoked(o)) firstRevokedAt = firstRevokedAt === null ? o.observedAt : Math.min(firstRevokedAt, o.observedAt);
    }
    if (firstGoodAt === null) continue; // never answered good for this certificate: nothing to extend
    const from = Math.max(firstGoodAt, cert.trackedAt);
    const to = Math.min(firstRevokedAt ?? Number.MAX_SAFE_INTEGER, cert.notAfter);
    const found = index.within(from, to);
    if (!found) continue;
    for (const snap of new Set([found.latestDated, found.lastSeen])) {
      out.push({
        observedAt: snap.observedAt,
        source: { kind: 'crl', url },
        status: 'good',
        revocationTime: null,
        reasonCode: null,
        thisUpdate: snap.thisUpdate,
        nextUpdate: snap.nextUpdate,
        producedAt: null,
        crlNumber: snap.crlNumber,
        signer: null,
        sha256: snap.sha256,
        error: null,
      });
    }
  }
  return out;
}

/** The default spool: a case's verdicts held in memory between judging and handing them out. */
export function memorySpool(): StatusSpool {
  let entries: { key: string; status: CertificateStatus }[] = [];
  return {
    add: (key, status) => void entries.push({ key, status }),
    *inOrder() {
      const sorted = entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      entries = [];
      for (let i = 0; i < sorted.length; i++) {
        const status = sorted[i]!.status;
        (sorted as unknown[])[i] = null; // handed out once: let it go
        yield status;
      }
    },
    close: () => {
      entries = [];
    },
  };
}

export interface CaseStatus {
  readonly id: string;
  readonly title: string;
  readonly reportedAt: string;
  readonly reason: string;
  readonly kind: string;
  readonly certificates: CertificateStatus[];
}

export interface StatusReport {
  readonly cases: CaseStatus[];
  /** Present when every case was judged under the rules of this date (`status --rules-as-of`). */
  readonly rulesAsOf?: string;
}

/** The rules a status is judged under, and the CCADB disclosures that add CRLs to certificates without one. */
export type StatusRules = RuleOptions & { disclosures?: DisclosureLookup };

/**
 * What every public output (the notice email, the digest, the site) judges with beside the store and the
 * time, so it says what `status` says: the case's CCADB disclosures are evidence (a certificate covered only
 * by a disclosed CRL has a revocation source). Required, so no output can leave them out by omission; null
 * only where none were ever imported.
 */
export interface JudgingInputs {
  readonly disclosures: DisclosureLookup | null;
}

/** The status rules of a public output: the same as `status` without --rules-as-of. */
export const statusRulesOf = (judging: JudgingInputs): StatusRules => (judging.disclosures ? { disclosures: judging.disclosures } : {});

/**
 * What a report needs of a certificate beside its verdict, kept as it is judged: a few fields, where keeping
 * the certificate and its record as read held several kilobytes per certificate (a whole case at once).
 */
export interface JudgedCertificate {
  readonly crtshId: string | null | undefined;
  readonly issuerSha256: string;
  /** As stored at track; undefined for certificates tracked before SANs were kept (read from their DER). */
  readonly sans: readonly string[] | undefined;
  /** The observations the verdict rests on (every stored one for a certificate without a record); null unless asked. */
  readonly observations: Observation[] | null;
  /** Its sha256 is an id derived from issuer and serial (an appendix row without a fingerprint), not a fingerprint. */
  readonly idFromSerial?: boolean;
}

/** What building one case's status read, for callers that need it too (reports), so nothing is read twice. */
export interface StatusReads {
  /** By certificate SHA-256. */
  readonly certificates: Map<string, JudgedCertificate>;
  /** Every CRL URL any certificate of the case is judged on, with its snapshots. */
  readonly snapshots: Map<string, SnapshotIndex>;
  /** Keep each certificate's observations (JudgedCertificate.observations). */
  readonly observations: boolean;
}

/**
 * The record of a certificate written before evidence records existed, rebuilt from every stored observation,
 * and those observations.
 */
async function legacyRecord(
  store: CaseStore & ObservationStore,
  cc: CaseCertificate,
): Promise<{ record: EvidenceRecord; stored: Observation[] }> {
  const stored = await store.listObservations(cc.cert.sha256);
  return { record: mergeEvidence(EMPTY_RECORD, stored, cc.cert.notAfter), stored };
}

/** Receives a status as it is judged, certificate by certificate, so nothing holds every verdict at once. */
export interface StatusSink {
  /** `contestedNote`: the case's deadline rests on a contested reading of the texts (rules.ts). */
  caseStart(kase: Omit<CaseStatus, 'certificates'>, certificates: number, extra?: { contestedNote: string | null }): void;
  /** May return a promise to slow the judging down to the reader (a pipe that is not drained yet). */
  certificate(status: CertificateStatus): void | Promise<void>;
  caseEnd(): void;
}

export async function buildStatus(
  store: CaseStore & ObservationStore,
  now: number,
  caseId?: string,
  rules: StatusRules = {},
): Promise<StatusReport> {
  const cases: CaseStatus[] = [];
  await streamStatus(
    store,
    now,
    {
      caseStart: (header) => {
        cases.push({ ...header, certificates: [] });
      },
      certificate: (s) => {
        cases[cases.length - 1]!.certificates.push(s);
      },
      caseEnd: () => undefined,
    },
    { caseId, rules },
  );
  return rules.rulesAsOf === undefined ? { cases } : { cases, rulesAsOf: isoOrNull(rules.rulesAsOf)! };
}

/**
 * Each source's `confirmedAt`: when its settled heartbeat (check/settled-round.ts) confirmed the latest recorded
 * answer of a settled certificate later than that answer was written. An unchanged answer to a settled
 * certificate is not written, so without it a report would show the day it was settled as its last check.
 */
function withHeartbeat(
  s: CertificateStatus,
  cc: CaseCertificate,
  record: EvidenceRecord,
  states: ReadonlyMap<string, SourceState>,
): CertificateStatus {
  let changed = false;
  const facts = latestAnswers(record);
  const sources = s.sources.map((src) => {
    const key = sourceKey(src.kind, src.url);
    const latest = facts.get(key)?.latest;
    const at = settledConfirmedAt(latest, cc, states.get(key), DAY_MS);
    if (!latest || !(at > latest.observedAt)) return src;
    changed = true;
    return { ...src, confirmedAt: isoOrNull(at)! };
  });
  return changed ? { ...s, sources } : s;
}

/**
 * Judges every certificate of every case (or one case) and hands each verdict
 * to `sink` in serial order. A case is read page by page (Store.visitCase); each
 * certificate is judged as its page arrives (while the store reads the next
 * page) and its verdict goes into a spool (`openSpool`: in memory by default;
 * the CLI's is a temporary file, so memory does not grow with the case), from
 * which the sink gets them sorted. Records are released once judged; `reads`
 * (one case) keeps what a report needs of each certificate, and the CRL
 * snapshots.
 */
export interface StreamStatusOptions {
  /** One case only; every case when absent. */
  readonly caseId?: string;
  /** What a report keeps of each certificate, and the CRL snapshots (one case). */
  readonly reads?: StatusReads;
  readonly rules?: StatusRules;
  /** Where judged certificates wait to be sorted (in memory unless given). */
  readonly openSpool?: () => StatusSpool;
}

export async function streamStatus(
  store: CaseStore & ObservationStore,
  now: number,
  sink: StatusSink,
  options: StreamStatusOptions = {},
): Promise<void> {
  const { caseId, reads, rules = {}, openSpool = memorySpool } = options;
  // Certificates are judged with the CRLs their issuer disclosed in the CCADB, as the planner checked them. With
  // nothing imported (most homes) the resolver hands every certificate back as it is (DisclosureResolver.attach):
  // none is made, so no certificate waits on it.
  const imported = rules.disclosures ? ((await rules.disclosures.lastImport())?.at ?? null) : null;
  const resolver =
    rules.disclosures && imported !== null ? new DisclosureResolver(rules.disclosures, (sha) => store.getCertificateDer(sha)) : null;
  let cases: Case[];
  if (caseId) {
    const c = await store.getCase(caseId);
    if (!c) throw new InputError(`no case "${caseId}"`);
    cases = [c];
  } else {
    cases = await store.listCases();
  }
  const snapshots = reads?.snapshots ?? new Map<string, SnapshotIndex>();
  // Read once, at the first certificate of the settled pool: their heartbeat dates its sources' confirmations.
  let sourceStates: Promise<Map<string, SourceState>> | null = null;
  let sourceStatesRead: Map<string, SourceState> | null = null;
  for (const kase of cases.sort((a, b) => a.reportedAt - b.reportedAt || a.id.localeCompare(b.id))) {
    // A report that gives its own spool gets what it keeps of each certificate through the spool's `cert`, so
    // nothing of the case is held beside the spool (report/case-report.ts streamCaseReport).
    const keepInReads = reads !== undefined && options.openSpool === undefined;
    const spool = keepInReads ? memorySpool() : openSpool();
    const deadlineOf = caseDeadlines(kase, rules);
    try {
      let count = 0;
      /** Judges one certificate whose record, CRL snapshots and (settled) source states are at hand. */
      const judgeCertificate = (
        cc: CaseCertificate,
        cert: StoredCertificate,
        record: EvidenceRecord,
        stored: Observation[] | null,
        states: ReadonlyMap<string, SourceState> | null,
      ): void => {
        const observations = recordObservations(record);
        let s = certificateStatus(
          kase,
          cert,
          [...observations, ...goodFromSnapshots(cert, record, snapshots, observations)],
          now,
          rules,
          deadlineOf(cert),
        );
        if (states) s = withHeartbeat(s, cc, record, states);
        // Each source's checkedAt, thisUpdate and nextUpdate are those of one answer, the latest recorded: a
        // source's later reads are not dated onto it (a later checkedAt beside an older thisUpdate reads as a
        // stale responder). Unchanged answers reach the record when the answer changes (ports/good-answers.ts).
        // Serial order; one serial in two certificates (a precertificate and its certificate) by SHA-256,
        // so the order never depends on which key range's page came first.
        const key = `${s.serial}\u0000${s.sha256}`;
        spool.add(key, s, cert);
        if (keepInReads)
          reads.certificates.set(cert.sha256, {
            crtshId: cert.crtshId,
            issuerSha256: cert.issuerSha256,
            sans: cert.sans,
            observations: reads.observations ? (stored ?? observations) : null,
            ...(cert.idFromSerial ? { idFromSerial: true } : {}),
          });
        count++;
      };
      /** What has to be read before a certificate is judged: a legacy record's observations, its disclosed CRLs, a CRL's snapshots, the source states. */
      const readFirst = async (cc: CaseCertificate): Promise<void> => {
        const { record, stored } = cc.legacy ? await legacyRecord(store, cc) : { record: cc.record, stored: null };
        const cert = resolver ? await resolver.attach(cc.cert) : cc.cert;
        // Each CRL's snapshots are read once, when a certificate first needs them. Disclosed CRLs are attached
        // beside the certificate's own (ccadb/match.ts) and never stored, so these are every CRL a report lists.
        for (const url of crlSourceUrls(cert))
          if (!snapshots.has(url)) snapshots.set(url, new SnapshotIndex(await store.listCrlSnapshots(url)));
        if (cc.pollSettled) {
          sourceStates ??= store.getSourceStates();
          sourceStatesRead = await sourceStates;
        }
        judgeCertificate(cc, cert, record, stored, cc.pollSettled ? sourceStatesRead : null);
      };
      await store.visitCase(kase.id, (cc) => {
        // Most certificates need nothing read: they are judged as they come, without a promise each (an async
        // visit cost every certificate of a case several microtask turns).
        if (
          cc.legacy ||
          resolver ||
          (cc.pollSettled && sourceStatesRead === null) ||
          crlSourceUrls(cc.cert).some((url) => !snapshots.has(url))
        )
          return readFirst(cc);
        judgeCertificate(cc, cc.cert, cc.record, null, cc.pollSettled ? sourceStatesRead : null);
      });
      const rule = computeDeadline(kase, undefined, rules).rule;
      const contestedNote = rule.interpretation === 'contested' ? (rule.note ?? '') : null;
      sink.caseStart(
        { id: kase.id, title: kase.title, reportedAt: isoOrNull(kase.reportedAt)!, reason: kase.reason, kind: kase.kind },
        count,
        { contestedNote },
      );
      for (const status of spool.inOrder()) {
        const wait = sink.certificate(status);
        if (wait) await wait;
      }
    } finally {
      spool.close();
    }
    sink.caseEnd();
  }
}

/**
 * `status --json` written as it is judged, byte for byte what
 * JSON.stringify(report, null, 2) would print, without holding the report or
 * its text (at 100,000 certificates that text alone is over 100 MB).
 */
export function jsonStatusSink(
  write: (chunk: string) => void,
  options: { rulesAsOf?: string; drain?: () => Promise<void> } = {},
): StatusSink & { end(): void } {
  let buffer = '';
  let cases = 0;
  let certs = 0;
  const emit = (s: string): void | Promise<void> => {
    buffer += s;
    if (buffer.length > 1 << 20) {
      write(buffer);
      buffer = '';
      // A pipe whose reader lags would otherwise queue the whole output in memory.
      return options.drain?.();
    }
  };
  const indent = (text: string, by: string): string => text.replace(/\n/g, `\n${by}`);
  return {
    caseStart(header) {
      emit(
        `${cases++ === 0 ? '{\n  "cases": [\n' : ',\n'}    ${indent(JSON.stringify(header, null, 2).slice(0, -2), '    ')},\n      "certificates": [`,
      );
      certs = 0;
    },
    certificate(status) {
      return emit(`${certs++ === 0 ? '\n' : ',\n'}        ${indent(JSON.stringify(status, null, 2), '        ')}`);
    },
    caseEnd() {
      emit(certs === 0 ? ']\n    }' : '\n      ]\n    }');
    },
    end() {
      const asOf = options.rulesAsOf === undefined ? '' : `,\n  "rulesAsOf": ${JSON.stringify(options.rulesAsOf)}`;
      emit(cases === 0 ? `{\n  "cases": []${asOf}\n}\n` : `\n  ]${asOf}\n}\n`);
      write(buffer);
      buffer = '';
    },
  };
}

/** The human `status` table, written case by case. */
export function textStatusSink(
  write: (chunk: string) => void,
  options: { rulesAsOf?: string; drain?: () => Promise<void>; shownVerdicts?: readonly string[] } = {},
): StatusSink & { end(): void } {
  const counts = noVerdicts();
  let lines: string[] = [];
  let any = false;
  const flush = (force = false): void | Promise<void> => {
    if (lines.length > 0 && (force || lines.length > 5000)) {
      write(`${lines.join('\n')}\n`);
      lines = [];
      return options.drain?.();
    }
  };
  return {
    caseStart(c, n, extra) {
      if (!any && options.rulesAsOf) lines.push(`judged under the rules in force at ${options.rulesAsOf}`, '');
      if (!any && options.shownVerdicts) lines.push(`showing only certificates whose verdict is ${options.shownVerdicts.join(' or ')}`, '');
      any = true;
      lines.push(`${c.id}  ${oneLine(c.title)}`, `  reported ${c.reportedAt}, ${c.reason}, ${c.kind}, ${n} certificate(s)`);
      if (extra?.contestedNote != null && n > 0) lines.push(`  note: ${extra.contestedNote}`);
      lines.push(
        `  ${'serial'.padEnd(34)} ${'verdict'.padEnd(16)} ${'deadline'.padEnd(21)} ${'revoked (effective)'.padEnd(21)} ${'late by'.padStart(14)}  findings`,
      );
    },
    certificate(s) {
      counts[s.verdict]++;
      lines.push(statusLine(s));
      return flush();
    },
    caseEnd() {
      lines.push('');
    },
    end() {
      if (!any)
        lines.push(
          options.shownVerdicts
            ? `no certificate has verdict ${options.shownVerdicts.join(' or ')}`
            : 'no cases yet: start with `revwatch track`',
        );
      else
        lines.push(
          Object.entries(counts)
            .filter(([, n]) => n > 0)
            .map(([v, n]) => `${v}: ${n}`)
            .join('  '),
        );
      void flush(true);
    },
  };
}

function statusLine(s: CertificateStatus): string {
  const findings = [...new Set(s.findings.filter((f) => f.severity !== 'info').map((f) => f.code))].join(', ');
  const line = `  ${s.serial.slice(0, 34).padEnd(34)} ${s.verdict.padEnd(16)} ${(s.deadline ?? '-').padEnd(21)} ${(s.effectiveRevocationTime ?? '-').padEnd(21)} ${(s.lateBySeconds === null ? '' : formatDuration(s.lateBySeconds)).padStart(14)}  ${findings}`;
  const withNote = s.validityFrom === 'appendix' ? `${line}${findings ? '; ' : ''}${APPENDIX_VALIDITY_NOTE}` : line;
  return s.firstSeenRevokedBySweep ? `${withNote}\n${' '.repeat(4)}${sweepBracketNote(s)}` : withNote;
}

/** What status and reports say of a first revoked answer taken from the sweep's index (evidence that predates tracking). */
export function sweepBracketNote(s: Pick<CertificateStatus, 'firstSeenRevokedAt' | 'firstSeenRevokedBySweep'>): string {
  const b = s.firstSeenRevokedBySweep!;
  const before =
    b.notListedSweep === null
      ? 'listed on the first read of its URL'
      : `not listed by sweep ${b.notListedSweep} at ${b.notListedAt ?? '?'}`;
  return `revoked first seen by sweep ${b.sweep} at ${s.firstSeenRevokedAt ?? '?'} (${before}), from the sweep's index: ${b.url} snapshot ${b.sha256 ?? '?'}`;
}

/** What status and reports say of a certificate tracked from a CA's appendix (TrackedCertificate.validityFrom). */
export const APPENDIX_VALIDITY_NOTE = "validity from the CA's appendix, not from the certificate";

export function verdictCounts(report: StatusReport): Record<Verdict, number> {
  return countVerdicts(report.cases.flatMap((c) => c.certificates));
}

export function formatStatus(report: StatusReport): string {
  if (report.cases.length === 0) return 'no cases yet: start with `revwatch track`';
  const lines: string[] = report.rulesAsOf ? [`judged under the rules in force at ${report.rulesAsOf}`, ''] : [];
  for (const c of report.cases) {
    lines.push(
      `${c.id}  ${oneLine(c.title)}`,
      `  reported ${c.reportedAt}, ${c.reason}, ${c.kind}, ${c.certificates.length} certificate(s)`,
    );
    const contested = c.certificates.find((s) => s.interpretation === 'contested');
    if (contested) lines.push(`  note: ${contested.interpretationNote}`);
    lines.push(
      `  ${'serial'.padEnd(34)} ${'verdict'.padEnd(16)} ${'deadline'.padEnd(21)} ${'revoked (effective)'.padEnd(21)} ${'late by'.padStart(14)}  findings`,
    );
    for (const s of c.certificates) lines.push(statusLine(s));
    lines.push('');
  }
  const counts = verdictCounts(report);
  lines.push(
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([v, n]) => `${v}: ${n}`)
      .join('  '),
  );
  return lines.join('\n');
}
