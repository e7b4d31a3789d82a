/**
 * Running check jobs: probe, then record what changed. Shared by the local
 * `revwatch check` (every job of a run in one process) and the AWS worker
 * (one queued job at a time).
 *
 * Polling cost follows changes, not polls: a certificate's answer is written
 * only when it differs from the last one recorded (or once a day as a
 * heartbeat, except for a settled certificate asked in its sources' round:
 * settled-round.ts); otherwise only the source's own state is updated.
 */
import { OcspIssuer } from '../pki/ocsp.js';
import { parseRawCertificate, type RawCertificate } from '../pki/raw-certificate.js';
import type { Clock, CrlJob, Fetcher, JobCertificate, OcspJob } from '../ports/index.js';
import { EMPTY_RECORD, latestAnswers, mergeEvidence, recordObservations, type EvidenceRecord } from '../rules/evidence.js';
import {
  sourceKey,
  type RecordWrite,
  type SourceState,
  type Store,
  type StoredCertificate,
  type StoredObservation,
} from '../ports/store.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import { pollDue, pollEntry } from './poll.js';
import { revocationSources } from '../rules/revocation-sources.js';
import { describeAnswer, groupByHost, servedStale } from './jobs.js';
import { probeCrl, probeOcsp, type ProbeAnswer, type ProbeOutcome } from './probe.js';
import { DEFAULT_OCSP_INTERVAL_MS, DEFAULT_OCSP_PER_HOST } from './ocsp-limits.js';
import { groupBy } from '../util/group-by.js';
import type { SweepReadings } from './sweep-readings.js';

const DAY = 86_400_000;

export interface ProgressSink {
  start(total: number, label: string): void;
  increment(by?: number): void;
  stop(): void;
  /** A stage that cannot be counted (one bulk write): shown as a line until the next start or stop. */
  note?(text: string): void;
}

export interface ExecuteDeps {
  readonly store: Store;
  readonly fetcher: Fetcher;
  readonly clock: Clock;
  readonly progress?: ProgressSink;
  /** Keeps a copy of each new CRL (local mode evidence); optional. */
  readonly saveCrl?: (sha256: string, bytes: Uint8Array) => Promise<void>;
  /** A recent sweep's readings, taken instead of fetching a CRL again (sweep-readings.ts); optional. */
  readonly sweepReadings?: SweepReadings | null;
}

export interface ExecuteOptions {
  /** Concurrent OCSP requests per responder host. */
  readonly ocspPerHost?: number;
  /** Minimum spacing between two requests to one OCSP host (politeness; 5 ms caps a host at 200 requests/s). */
  readonly ocspMinIntervalMs?: number;
  readonly crlMaxBytes?: number;
  readonly ocspMaxBytes?: number;
}

export interface Change {
  readonly caseIds: readonly string[];
  readonly sha256: string;
  readonly serial: string;
  readonly source: string;
  readonly from: string;
  readonly to: string;
}

export interface FailedSource {
  readonly kind: 'ocsp' | 'crl';
  readonly url: string;
  readonly error: string;
}

export interface JobsResult {
  readonly sourceStates: readonly SourceState[];
  readonly failedSources: readonly FailedSource[];
}

/**
 * Decides, per answer, whether it is written: on change, as a heartbeat when
 * the last recorded one is older than `heartbeatMs`, or when it is the first
 * answer since the certificate expired. A written observation is folded into
 * the certificate's evidence record in every case that tracks it; writes go
 * out in batches, and the cases whose answers changed are marked for the
 * notifier after their evidence is stored.
 */
/** A record the recorder holds: the certificate as its job named it, the record as last known, the answers not yet folded in. */
interface RecordEntry {
  cert: JobCertificate;
  known: { record: EvidenceRecord; cases: { cert: StoredCertificate; rev: number }[] } | null;
  added: StoredObservation[];
}

export class ObservationRecorder {
  readonly changes: Change[] = [];
  private pending: StoredObservation[] = [];
  /**
   * Records touched in this run, as last written (`known`, null until read when the job did not carry
   * them) and the observations not yet folded in. Later jobs for the same certificate build on these.
   */
  private readonly records = new Map<string, RecordEntry>();
  private changedCases = new Set<string>();
  private readonly kept = new KeptOnce();
  private written = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: {
      heartbeatMs?: number;
      settledIntervalMs?: number;
      /** Every job of the run goes through this recorder (one process): its records have no other writer. */
      soleWriter?: boolean;
      onObservation?: (cert: JobCertificate, observation: StoredObservation) => void;
      /** Where the run's unchanged good answers go, for the record when an answer changes (ports/good-answers.ts). */
      goodAnswers?: GoodAnswerLog | null;
      /** Settled certificates go into the settled pool of the polling index (check/settled-round.ts). */
      settledPool?: boolean;
      /**
       * With `settledPool`, in a run whose pool joins are kept only in memory until its end (the local run,
       * SettledRound.finish): a record that is not yet in the pool goes in only when nothing of this run is needed
       * to cover it, that is when every source of it has a state from before the run (`sources`, so some round
       * asks it) and has answered it in this run (at or after `startedAt`, so that source's round, due at most a
       * day after the run's start, is due no later than a day after its latest answer, and its join is moot).
       * Otherwise it stays in the every-run shards, due when its first source is (never answered: every run),
       * and is pooled by a later write. A run killed part way so leaves no certificate pooled with a source that
       * has not answered it (issue 29: crash-safety-pool.test.ts). The queue's jobs record their joins with the
       * run instead (fan-out.ts), and pass none.
       */
      poolCovered?: { readonly startedAt: number; readonly sources: ReadonlySet<string> };
    } = {},
  ) {}

  /** Certificates whose answer changed away from "good" (or that expired) in this run: their last good answers are due in the record. */
  private readonly carryDue = new Map<string, JobCertificate>();

  get observationsWritten(): number {
    return this.written;
  }

  /** Sources (keys) that gave a settled certificate an error in this run: their settled round does not advance. */
  readonly settledErrors = new Set<string>();
  /** Per source, the earliest latest answer among the records this run put into the settled pool (settled-round.ts). */
  readonly settledJoins = new Map<string, number>();

  /**
   * An answer to a settled certificate asked in its sources' round: an unchanged one is not written at all,
   * not even as the daily heartbeat (the source's state confirms it). True when it is left unwritten.
   */
  private settledUnchanged(observation: StoredObservation, written: boolean): boolean {
    if (observation.status === 'error') this.settledErrors.add(sourceKey(observation.source.kind, observation.source.url));
    return !written;
  }

  /**
   * Where a written record goes in the polling index. With the settled pool, a settled one goes there (unless
   * `poolCovered` keeps it out: `inPool` says it was planned from the pool, and so is covered already), and its
   * sources' rounds are pulled in to a day after its latest answers (settled-round.ts).
   */
  private pollPlace(
    cert: StoredCertificate,
    record: EvidenceRecord,
    now: number,
    inPool: boolean,
  ): { due: number | null; settled: boolean } {
    const interval = this.options.settledIntervalMs;
    if (!this.options.settledPool) return { due: pollDue(cert, record, now, interval), settled: false };
    const place = pollEntry(cert, record, now, interval);
    if (!place?.settled) return { due: place?.due ?? null, settled: false };
    const facts = latestAnswers(record);
    const covered = this.options.poolCovered;
    if (
      covered &&
      !inPool &&
      !revocationSources(cert).every((s) => {
        const key = sourceKey(s.kind, s.url);
        return covered.sources.has(key) && (facts.get(key)?.latest?.observedAt ?? Number.NEGATIVE_INFINITY) >= covered.startedAt;
      })
    )
      return { due: pollDue(cert, record, now, interval), settled: false };
    for (const s of revocationSources(cert)) {
      const key = sourceKey(s.kind, s.url);
      const at = facts.get(key)?.latest?.observedAt ?? Number.NEGATIVE_INFINITY;
      this.settledJoins.set(key, Math.min(this.settledJoins.get(key) ?? Number.POSITIVE_INFINITY, at));
    }
    return place;
  }

  /** Whether a certificate's answer changed away from "good" in this run and its last good answers are not yet carried in. */
  awaitsCarry(sha256: string): boolean {
    return this.carryDue.has(sha256);
  }

  /**
   * Certificates the run is done with (every job that asks them has answered, and they are judged): their
   * entries are let go once their records are written, so a run holds the records of the certificates in
   * flight, not of every certificate it asked. Nothing is considered for a released certificate after this.
   */
  release(sha256s: Iterable<string>): void {
    for (const sha of sha256s) {
      const entry = this.records.get(sha);
      if (!entry) continue;
      // During a write the entry still names the revision to retry from: dropped when the write is done.
      if (!this.writing && entry.added.length === 0) this.records.delete(sha);
      else this.released.add(sha);
    }
  }

  /** Records this run holds (written or waiting to be): what `release` lets go of. */
  get recordsHeld(): number {
    return this.records.size;
  }

  private readonly released = new Set<string>();
  private writing = false;

  /**
   * The record as this run wrote it, with the whole certificate (read for the write), once every answer kept is
   * written; null when this run keeps nothing of the certificate, or has not flushed it yet. A certificate planned
   * from its polling summary is judged from this, or from its summary's verdicts when null after a flush.
   */
  writtenRecord(sha256: string): { record: EvidenceRecord; cert: StoredCertificate } | null {
    const entry = this.records.get(sha256);
    if (!entry?.known || entry.added.length > 0 || entry.known.cases.length === 0) return null;
    return { record: entry.known.record, cert: entry.known.cases[0]!.cert };
  }

  /** The record of a certificate with every answer considered so far folded in, written yet or not. */
  recordOf(sha256: string, planned: EvidenceRecord): EvidenceRecord {
    const entry = this.records.get(sha256);
    if (!entry) return planned;
    const base = entry.known?.record ?? planned;
    // The same join that writeRecords applies: what it will write, or has written.
    return entry.added.length === 0 ? base : mergeEvidence(base, entry.added, entry.cert.notAfter);
  }

  async consider(cert: JobCertificate, outcome: ProbeOutcome): Promise<void> {
    const observation = toObservation(cert.sha256, outcome);
    this.options.onObservation?.(cert, observation);
    const prev = cert.previous;
    const now = describeAnswer(observation);
    const changed = !prev || prev.summary !== now;
    const firstSinceExpiry = prev !== null && prev.observedAt < cert.notAfter && observation.observedAt >= cert.notAfter;
    if (observation.status === 'good') this.options.goodAnswers?.add(observation);
    if ((changed && observation.status !== 'good') || firstSinceExpiry) this.carryDue.set(cert.sha256, cert);
    // The same answer, now served past its nextUpdate (an old CRL still served, or a 304 to it): the
    // stale_response finding rests on this run's observation, so it is recorded though unchanged.
    const firstServedStale = prev !== null && prev.stale !== true && servedStale(observation);
    if (cert.settled && this.settledUnchanged(observation, changed || firstSinceExpiry || firstServedStale)) return;
    if (!changed && !firstSinceExpiry && !firstServedStale && prev.observedAt + (this.options.heartbeatMs ?? DAY) > observation.observedAt)
      return;
    if (changed) {
      // A first check records a change for every certificate: the few distinct sources, answers and case
      // lists they name are kept once, not once per change.
      const caseIds = this.kept.of(cert.caseIds.join('\n'), () => [...cert.caseIds]);
      this.changes.push({
        caseIds,
        sha256: cert.sha256,
        serial: cert.serial,
        source: this.kept.of(sourceKey(observation.source.kind, observation.source.url)),
        from: this.kept.of(prev?.summary ?? 'none'),
        to: this.kept.of(now),
      });
      for (const id of cert.caseIds) this.changedCases.add(id);
    }
    this.pending.push(observation);
    let entry = this.records.get(cert.sha256);
    if (!entry) {
      const known = cert.record && cert.cases ? { record: cert.record, cases: cert.cases.map((c) => ({ ...c })) } : null;
      entry = { cert, known, added: [] };
      this.records.set(cert.sha256, entry);
    }
    entry.added.push(observation);
    if (this.pending.length >= 2000) await this.flush();
  }

  /**
   * A good answer confirmed without being read again (a CRL answered 304 Not Modified: the same signed CRL
   * still stands at `observation.observedAt`): logged like a good answer read, never written as a change.
   */
  confirmedGood(observation: StoredObservation): void {
    this.options.goodAnswers?.add(observation);
  }

  /**
   * Takes the last good answer of each source into the records of the certificates whose answer changed
   * away from "good" in this run (`only`: those of them it accepts), from the good-answer log: the good
   * answers of earlier runs that were not written because they did not change, and this run's. Each is
   * written as an observation, so a rebuild from the observations gives the same record. Only answers later
   * than the record's last good of that source are taken: the rest change nothing.
   */
  async carryInLastGood(only?: (sha256: string) => boolean): Promise<number> {
    const log = this.options.goodAnswers;
    const due = [...this.carryDue.values()].filter((c) => !only || only(c.sha256));
    for (const c of due) this.carryDue.delete(c.sha256);
    if (!log || due.length === 0) return 0;
    // The sources each certificate has answered from (its record, this run): where a per-source log looks.
    const sourcesOf = (sha256: string): StoredObservation['source'][] => {
      const entry = this.records.get(sha256);
      const known = entry?.known?.record ?? entry?.cert.record ?? null;
      const sources = new Map<string, StoredObservation['source']>();
      for (const o of [...(known ? recordObservations(known) : []), ...(entry?.added ?? [])])
        sources.set(sourceKey(o.source.kind, o.source.url), o.source);
      return [...sources.values()];
    };
    const latest = await log.latest(
      due.map((c) => c.sha256),
      sourcesOf,
    );
    let carried = 0;
    for (const cert of due) {
      const goods = latest.get(cert.sha256);
      const entry = this.records.get(cert.sha256);
      if (!goods || !entry) continue;
      const known = entry.known?.record ?? cert.record ?? null;
      const lastGood = new Map<string, number>();
      for (const o of [...(known ? recordObservations(known) : []), ...entry.added]) {
        if (o.status !== 'good') continue;
        const key = sourceKey(o.source.kind, o.source.url);
        lastGood.set(key, Math.max(lastGood.get(key) ?? Number.NEGATIVE_INFINITY, o.observedAt));
      }
      for (const g of goods) {
        if ((lastGood.get(sourceKey(g.source.kind, g.source.url)) ?? Number.NEGATIVE_INFINITY) >= g.observedAt) continue;
        this.pending.push(g);
        entry.added.push(g);
        carried++;
      }
    }
    this.carried += carried;
    if (this.pending.length >= 2000) await this.flush();
    return carried;
  }

  private carried = 0;

  /** Good answers taken from the log into records in this run. */
  get goodAnswersCarried(): number {
    return this.carried;
  }

  /** Flushes run one after another: a record's revision must be the one the previous write left. */
  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushNow());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private flushing: Promise<void> = Promise.resolve();

  private async flushNow(): Promise<void> {
    // Observations first: a record is derived from them and never the only copy. Answers keep coming while this
    // flush awaits the store (`consider` puts each in `pending` and in its record's `added` at once), so the
    // records take only the answers counted here, with the batch; later ones wait for the next flush, which
    // stores their observations first. Folded in now, a run killed before that flush would leave a record naming
    // an answer whose observation was never stored (`verify-evidence` would not rebuild it).
    const batchOf = new Map<RecordEntry, number>();
    for (const entry of this.records.values()) if (entry.added.length > 0) batchOf.set(entry, entry.added.length);
    if (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.pending.length);
      await this.store.recordObservations(batch);
      this.written += batch.length;
    }
    await this.writeRecords(batchOf);
    // Marked only after the observations are stored, so the notifier never sees a mark without its evidence.
    if (this.changedCases.size > 0) {
      const ids = [...this.changedCases];
      this.changedCases.clear();
      await this.store.markCasesChanged(ids, this.clock.now().getTime());
    }
  }

  private async writeRecords(batchOf: ReadonlyMap<RecordEntry, number>): Promise<void> {
    this.writing = true;
    try {
      await this.writeDirtyRecords(batchOf);
    } finally {
      this.writing = false;
    }
    for (const sha of this.released) {
      const entry = this.records.get(sha);
      if (entry && entry.added.length > 0) continue; // answers since the last write: the next flush writes them
      this.records.delete(sha);
      this.released.delete(sha);
    }
  }

  /** Writes the records of `batchOf`, each with as many of its first answers folded in as it says (those stored). */
  private async writeDirtyRecords(batchOf: ReadonlyMap<RecordEntry, number>): Promise<void> {
    const now = this.clock.now().getTime();
    const dirty = [...batchOf.keys()];
    // Queued jobs do not carry records: read those the answers changed, in batches.
    const unknown = dirty.filter((e) => e.known === null);
    if (unknown.length > 0) {
      const fetched = await this.store.getCaseCertificates(
        unknown.flatMap((e) => e.cert.caseIds.map((caseId) => ({ caseId, sha256: e.cert.sha256 }))),
      );
      const bySha = groupBy(fetched, (cc) => cc.cert.sha256);
      for (const e of unknown) {
        const found = bySha.get(e.cert.sha256) ?? [];
        let record = EMPTY_RECORD;
        for (const cc of found) {
          const r = cc.legacy
            ? mergeEvidence(EMPTY_RECORD, await this.store.listObservations(cc.cert.sha256), cc.cert.notAfter)
            : cc.record;
          record = mergeEvidence(record, recordObservations(r), cc.cert.notAfter);
        }
        e.known = { record, cases: found.map((cc) => ({ cert: cc.cert, rev: cc.rev })) };
      }
    }
    const writes: { entry: (typeof dirty)[number]; index: number; write: RecordWrite }[] = [];
    for (const entry of dirty) {
      const known = entry.known!;
      const stored = entry.added.slice(0, batchOf.get(entry));
      entry.added = entry.added.slice(stored.length);
      if (known.cases.length === 0) continue; // no longer tracked by any case: the observations stand alone
      known.record = mergeEvidence(known.record, stored, entry.cert.notAfter);
      const { due, settled } = this.pollPlace(
        withDisclosed(known.cases[0]!.cert, entry.cert),
        known.record,
        now,
        entry.cert.settled === true,
      );
      known.cases.forEach((kc, index) => {
        writes.push({
          entry,
          index,
          write: {
            cert: kc.cert,
            record: known.record,
            rev: kc.rev,
            pollDue: due,
            ...(settled ? { pollSettled: true } : {}),
            soleWriter: this.options.soleWriter === true || entry.cert.sources === 1,
          },
        });
      });
    }
    let lost = await this.store.writeRecords(writes.map((w) => w.write));
    const lostSet = new Set(lost);
    for (const w of writes) if (!lostSet.has(w.write)) w.entry.known!.cases[w.index]!.rev = w.write.rev + 1;
    // Another writer (a worker running this certificate's other source) got there first: join its record
    // with ours and try again. Joins commute, so the order of the writers does not matter.
    for (let attempt = 0; lost.length > 0; attempt++) {
      if (attempt >= 8)
        throw new StoreConflictError(`evidence records of ${lost.length} certificate(s) kept changing under a conditional write`);
      const retry: RecordWrite[] = [];
      for (const w of lost) {
        const stored = await this.store.getCaseCertificate(w.cert.caseId, w.cert.sha256);
        if (!stored) continue; // not tracked any more
        const record = mergeEvidence(stored.record, recordObservations(w.record), w.cert.notAfter);
        const planned = this.records.get(w.cert.sha256)?.cert;
        const { due, settled } = this.pollPlace(withDisclosed(w.cert, planned), record, now, planned?.settled === true);
        retry.push({ ...w, record, rev: stored.rev, pollDue: due, pollSettled: settled, soleWriter: false });
      }
      lost = await this.store.writeRecords(retry);
      // A later write in this run for the same certificate must start from the revision that won.
      for (const w of retry) {
        if (lost.includes(w)) continue;
        const entry = this.records.get(w.cert.sha256);
        const kc = entry?.known?.cases.find((c) => c.cert.caseId === w.cert.caseId);
        if (entry?.known && kc) {
          kc.rev = w.rev + 1;
          entry.known.record = mergeEvidence(entry.known.record, recordObservations(w.record), w.cert.notAfter);
        }
      }
    }
  }
}

/**
 * Values a run repeats across many certificates, kept once each: the first `limit` distinct ones (a run
 * names a few sources and answers, so the limit is never reached but bounds what a strange run could keep).
 */
class KeptOnce {
  private readonly kept = new Map<string, unknown>();
  constructor(private readonly limit = 10_000) {}

  of(key: string): string;
  of<T>(key: string, make: () => T): T;
  of<T>(key: string, make?: () => T): T | string {
    const found = this.kept.get(key);
    if (found !== undefined) return found as T | string;
    const value = make ? make() : key;
    if (this.kept.size < this.limit) this.kept.set(key, value);
    return value;
  }
}

/** A conditional write kept losing: something else is rewriting the same records in a loop. */
export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreConflictError';
  }
}

/** Issuer certificates read from the store once per process. */
export class IssuerCache {
  private readonly raw = new Map<string, RawCertificate | null>();
  private readonly ocsp = new Map<string, OcspIssuer>();
  constructor(private readonly store: Store) {}

  async certificate(sha256: string): Promise<RawCertificate | null> {
    if (!this.raw.has(sha256)) {
      const der = await this.store.getCertificateDer(sha256);
      this.raw.set(sha256, der ? parseRawCertificate(der) : null);
    }
    return this.raw.get(sha256)!;
  }

  async forOcsp(sha256: string): Promise<OcspIssuer | null> {
    const cached = this.ocsp.get(sha256);
    if (cached) return cached;
    const issuer = await this.certificate(sha256);
    if (!issuer) return null;
    const oi = new OcspIssuer(issuer);
    this.ocsp.set(sha256, oi);
    return oi;
  }
}

const MISSING_ISSUER = 'issuer certificate missing from the store';

/** Fetches one CRL once, answers for all of its certificates, and records the snapshot as evidence. */
export async function executeCrlJob(
  deps: ExecuteDeps,
  issuers: IssuerCache,
  recorder: ObservationRecorder,
  job: CrlJob,
  options: ExecuteOptions = {},
  shards?: ShardUnion,
): Promise<JobsResult> {
  const { store, clock } = deps;
  const now = (): number => clock.now().getTime();
  const issuer = await issuers.certificate(job.issuerSha256);
  if (!issuer) return { sourceStates: [], failedSources: [{ kind: 'crl', url: job.url, error: MISSING_ISSUER }] };
  const prevState = job.conditional;
  // A sweep's recent reading of this CRL stands for the fetch, judged as of when the sweep read it.
  const reading = deps.sweepReadings?.reading(job, issuer) ?? null;
  const result = await probeCrl({
    url: job.url,
    serials: job.certificates.map((c) => c.serial),
    issuer,
    fetcher: reading?.fetcher ?? deps.fetcher,
    now: reading ? () => reading.at : now,
    certificatesAreCAs: job.certificatesAreCAs,
    requireIdp: job.requireIdp === true,
    maxBytes: options.crlMaxBytes,
    etag: reading ? null : (prevState?.etag ?? null),
    lastModified: reading ? null : (prevState?.lastModified ?? null),
  });
  const checkedAt = reading ? reading.at : now();
  if (result.notModified && prevState) {
    // The CRL last read still stands: each certificate it answered "good" for is answered so again now.
    if (!job.requireIdp && prevState.sha256 && prevState.thisUpdate != null)
      for (const cert of job.certificates)
        if (cert.previous?.summary === 'good')
          recorder.confirmedGood({
            sha256Cert: cert.sha256,
            observedAt: checkedAt,
            source: { kind: 'crl', url: job.url },
            status: 'good',
            revocationTime: null,
            reasonCode: null,
            thisUpdate: prevState.thisUpdate,
            nextUpdate: prevState.nextUpdate ?? null,
            producedAt: null,
            crlNumber: prevState.crlNumber ?? null,
            signer: 'crl-issuer',
            sha256: prevState.sha256,
            error: null,
            ...(prevState.signatureAlgorithm ? { signatureAlgorithm: prevState.signatureAlgorithm } : {}),
            raw: null,
          });
    return { sourceStates: [{ ...prevState, lastCheckedAt: checkedAt }], failedSources: [] };
  }
  const firstError = result.outcomes.find((o) => o.status === 'error');
  const error = firstError?.status === 'error' ? firstError.error.message : null;
  const state: SourceState = {
    kind: 'crl',
    url: job.url,
    lastCheckedAt: checkedAt,
    ok: error === null,
    error,
    etag: result.etag,
    lastModified: result.lastModified,
    crlNumber: result.scan?.crlNumber ?? null,
    thisUpdate: result.scan?.thisUpdate ?? null,
    nextUpdate: result.scan?.nextUpdate ?? null,
    sha256: result.sha256,
    bytes: result.bytes,
    issuerSha256: job.issuerSha256,
    ...(result.scan?.signatureAlgorithm ? { signatureAlgorithm: result.scan.signatureAlgorithm } : {}),
  };
  if (error === null && result.scan && result.sha256) {
    // Archived before the snapshot is recorded: a failed archive write then fails the job before the table
    // names a CRL the archive lacks, and the retried job (or the next run) archives it. Recorded first, a
    // retry found the snapshot present and never archived the CRL. A CRL the last recorded state already
    // named was archived with it; one archived before by another path answers "exists" and is kept as it is.
    if (deps.saveCrl && result.raw && prevState?.sha256 !== result.sha256) await deps.saveCrl(result.sha256, result.raw);
    await store.putCrlSnapshot({
      url: job.url,
      observedAt: checkedAt,
      crlNumber: result.scan.crlNumber,
      thisUpdate: result.scan.thisUpdate,
      nextUpdate: result.scan.nextUpdate,
      sha256: result.sha256,
      bytes: result.bytes,
      entries: result.scan.entries,
    });
  }
  for (const [i, outcome] of result.outcomes.entries()) {
    const cert = job.certificates[i]!;
    if (job.requireIdp && outcome.status === 'good') {
      // One shard's silence is no answer (ShardUnion): without the other shards of this run it is not recorded.
      if (shards) await shards.good(cert, outcome, recorder);
      continue;
    }
    if (job.requireIdp) shards?.spoil(cert);
    await recorder.consider(cert, outcome);
  }
  return { sourceStates: [state], failedSources: error === null ? [] : [{ kind: 'crl', url: job.url, error }] };
}

/**
 * A partitioned CRL (a CCADB disclosure of shards) speaks for a certificate
 * only as a whole: each shard covers its own partition (its critical
 * issuingDistributionPoint, RFC 5280 5.2.5), and a serial missing from one
 * shard may be listed in another. So a shard's "not listed" is recorded only
 * when every shard the certificate is checked against was read, verified and
 * silent in this run, and then dated by the oldest of those shards'
 * thisUpdate: the union is only as fresh as its stalest part, and a later
 * date would push the bound on backdating past the truth (a false "late").
 * A listing (revoked) or an error in any shard is recorded as it comes and
 * spoils the union for that run. Where the shards are not all in one process
 * (queued jobs in AWS), no ShardUnion is given and silence is not recorded.
 */
export class ShardUnion {
  private readonly waiting = new Map<
    string,
    { remaining: number; spoiled: boolean; goods: { cert: JobCertificate; outcome: ProbeAnswer }[] }
  >();

  constructor(jobs: readonly CrlJob[]) {
    for (const job of jobs) {
      if (!job.requireIdp) continue;
      for (const c of job.certificates) {
        const w = this.waiting.get(c.sha256) ?? { remaining: 0, spoiled: false, goods: [] };
        w.remaining++;
        this.waiting.set(c.sha256, w);
      }
    }
  }

  spoil(cert: JobCertificate): void {
    const w = this.waiting.get(cert.sha256);
    if (!w) return;
    w.spoiled = true;
    w.goods = [];
    this.settle(cert.sha256, w);
  }

  async good(cert: JobCertificate, outcome: ProbeAnswer, recorder: ObservationRecorder): Promise<void> {
    const w = this.waiting.get(cert.sha256);
    if (!w) return;
    if (!w.spoiled) w.goods.push({ cert, outcome });
    if (this.settle(cert.sha256, w) && !w.spoiled) {
      let oldest = Number.POSITIVE_INFINITY; // not Math.min(...): one argument per shard
      for (const g of w.goods) oldest = Math.min(oldest, g.outcome.thisUpdate);
      for (const g of w.goods) await recorder.consider(g.cert, { ...g.outcome, thisUpdate: oldest });
    }
  }

  /** Counts one shard's answer; true when it was the certificate's last. */
  private settle(sha256: string, w: { remaining: number }): boolean {
    w.remaining--;
    if (w.remaining > 0) return false;
    this.waiting.delete(sha256);
    return true;
  }
}

/** Asks OCSP responders, at most `ocspPerHost` at a time per host and no faster than one per `ocspMinIntervalMs`. */
export async function executeOcspJobs(
  deps: ExecuteDeps,
  issuers: IssuerCache,
  recorder: ObservationRecorder,
  jobs: readonly OcspJob[],
  options: ExecuteOptions = {},
): Promise<JobsResult> {
  const asker = new OcspAsker(deps, issuers, recorder, options);
  asker.add(jobs);
  return asker.finish();
}

/** One responder host's jobs in arrival order; `next` is the first not yet asked. */
interface HostQueue {
  queue: OcspJob[];
  next: number;
  inFlight: number;
  lastStart: number;
}

/**
 * The OCSP jobs of a run, taken as they come (the planner hands them over
 * shard by shard) and asked under one set of per-host limits: each host has
 * its own queue, at most `ocspPerHost` requests in flight and one start per
 * `ocspMinIntervalMs`, however the jobs arrived.
 */
export class OcspAsker {
  private readonly hosts = new Map<string, HostQueue>();
  private readonly perUrl = new Map<string, { ok: number; errors: number; lastError: string | null; checkedAt: number }>();
  private readonly perHost: number;
  private readonly spacing: number;
  private running = 0;
  private failure: { error: unknown } | null = null;
  /** Called once nothing is in flight: whoever waits in finish() or abandon(). */
  private waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly deps: ExecuteDeps,
    private readonly issuers: IssuerCache,
    private readonly recorder: ObservationRecorder,
    private readonly options: ExecuteOptions = {},
  ) {
    this.perHost = Math.max(1, options.ocspPerHost ?? DEFAULT_OCSP_PER_HOST);
    this.spacing = options.ocspMinIntervalMs ?? DEFAULT_OCSP_INTERVAL_MS;
  }

  add(jobs: readonly OcspJob[]): void {
    if (this.closed) return;
    for (const [host, list] of groupByHost(jobs)) {
      const h = this.hosts.get(host) ?? { queue: [], next: 0, inFlight: 0, lastStart: 0 };
      this.hosts.set(host, h);
      for (const job of list) h.queue.push(job);
      this.pump(h);
    }
  }

  /** Waits for every job added so far (and any added meanwhile); rejects with the first failure to record one. */
  async finish(): Promise<JobsResult> {
    await this.settledAll();
    if (this.failure) throw this.failure.error;
    const sourceStates: SourceState[] = [];
    const failedSources: FailedSource[] = [];
    for (const [url, r] of this.perUrl) {
      sourceStates.push({ kind: 'ocsp', url, lastCheckedAt: r.checkedAt, ok: r.errors === 0, error: r.lastError });
      if (r.errors > 0)
        failedSources.push({ kind: 'ocsp', url, error: `${r.errors} of ${r.ok + r.errors} requests failed; last: ${r.lastError}` });
    }
    return { sourceStates, failedSources };
  }

  /** Drops every job not yet started and waits for those in flight: nothing keeps asking for a run that failed. */
  async abandon(): Promise<void> {
    this.closed = true;
    for (const h of this.hosts.values()) h.next = h.queue.length;
    await this.settledAll();
  }

  private settledAll(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private pump(h: HostQueue): void {
    while (this.failure === null && h.inFlight < this.perHost && h.next < h.queue.length) {
      const job = h.queue[h.next]!;
      h.queue[h.next++] = undefined as unknown as OcspJob; // asked: let it go
      h.inFlight++;
      this.running++;
      // Spacing is decided before the first await, so requests to one host start in queue order.
      const now = this.deps.clock.now().getTime();
      const wait = h.lastStart + this.spacing - now;
      h.lastStart = Math.max(h.lastStart + this.spacing, now);
      void this.ask(job, wait).then(
        () => this.settled(h),
        (error: unknown) => {
          // Only revwatch's own failures get here (the store, a bug in this
          // control flow): probeOcsp turns whatever a remote answer throws
          // into an error outcome of its source, so no responder can end a run.
          this.failure ??= { error };
          this.settled(h);
        },
      );
    }
  }

  private settled(h: HostQueue): void {
    h.inFlight--;
    this.running--;
    this.pump(h);
    if (this.running === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }

  private async ask(job: OcspJob, wait: number): Promise<void> {
    const { deps, options } = this;
    const { clock } = deps;
    if (wait > 0) await clock.sleep(wait);
    const issuer = await this.issuers.forOcsp(job.issuerSha256);
    const outcome: ProbeOutcome = issuer
      ? await probeOcsp({
          url: job.url,
          serial: job.certificate.serial,
          issuer,
          fetcher: deps.fetcher,
          now: () => clock.now().getTime(),
          maxBytes: options.ocspMaxBytes,
        })
      : {
          source: { kind: 'ocsp', url: job.url },
          serial: job.certificate.serial,
          checkedAt: clock.now().getTime(),
          status: 'error',
          sha256: null,
          raw: null,
          error: { kind: 'unsupported', message: MISSING_ISSUER },
        };
    const r = this.perUrl.get(job.url) ?? { ok: 0, errors: 0, lastError: null, checkedAt: 0 };
    if (outcome.status === 'error') {
      r.errors++;
      r.lastError = outcome.error.message;
    } else r.ok++;
    r.checkedAt = Math.max(r.checkedAt, outcome.checkedAt);
    this.perUrl.set(job.url, r);
    await this.recorder.consider(job.certificate, outcome);
    deps.progress?.increment();
  }
}

export function toObservation(sha256Cert: string, o: ProbeOutcome): StoredObservation {
  if (o.status === 'error') {
    return {
      sha256Cert,
      observedAt: o.checkedAt,
      source: o.source,
      status: 'error',
      revocationTime: null,
      reasonCode: null,
      thisUpdate: null,
      nextUpdate: null,
      producedAt: null,
      sha256: o.sha256,
      error: o.error,
      raw: o.raw,
    };
  }
  return {
    sha256Cert,
    observedAt: o.checkedAt,
    source: o.source,
    status: o.status,
    revocationTime: o.revocationTime,
    reasonCode: o.reasonCode,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    producedAt: o.producedAt,
    crlNumber: o.crlNumber,
    signer: o.signer,
    sha256: o.sha256,
    error: null,
    ...(o.signatureAlgorithm ? { signatureAlgorithm: o.signatureAlgorithm } : {}),
    ...(o.listedRevocationDates ? { listedRevocationDates: o.listedRevocationDates } : {}),
    raw: o.raw,
  };
}

/** The stored certificate with the CCADB-disclosed CRLs it was planned with: the sources its due time counts. */
function withDisclosed(cert: StoredCertificate, planned: JobCertificate | undefined): StoredCertificate {
  if (!planned?.disclosedCrlUrls?.length) return cert;
  return { ...cert, disclosedCrlUrls: planned.disclosedCrlUrls, disclosedCrlsPartitioned: planned.disclosedCrlsPartitioned === true };
}
