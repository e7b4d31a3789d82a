/**
 * One check run: plan which certificates need asking, fetch every CRL once for
 * all of its serials, ask OCSP responders with a per-host limit, and record
 * what changed.
 *
 * Polling cost follows changes, not polls: a certificate's answer is written
 * only when it differs from the last one recorded (or once a day as a
 * heartbeat); otherwise only the source's own state is updated.
 */
import { randomUUID } from 'node:crypto';
import type { Observation } from '../domain.js';
import { OcspIssuer } from '../pki/ocsp.js';
import { parseRawCertificate, type RawCertificate } from '../pki/raw-certificate.js';
import type { Clock, Fetcher } from '../ports.js';
import { sourceKey, type LastAnswer, type SourceState, type Store, type StoredCertificate, type StoredObservation } from '../store/store.js';
import { probeCrl, probeOcsp, type ProbeOutcome } from './probe.js';
import { judge, type Verdict } from '../rules/verdict.js';
import type { Case } from '../domain.js';

export interface ProgressSink {
  start(total: number, label: string): void;
  increment(by?: number): void;
  stop(): void;
}

export interface CheckDeps {
  readonly store: Store;
  readonly fetcher: Fetcher;
  readonly clock: Clock;
  readonly progress?: ProgressSink;
  /** Keeps a copy of each new CRL (local mode evidence); optional. */
  readonly saveCrl?: (sha256: string, bytes: Uint8Array) => Promise<void>;
}

export interface CheckOptions {
  readonly caseId?: string;
  /** Concurrent OCSP requests per responder host. */
  readonly ocspPerHost?: number;
  /** Minimum spacing between two requests to one OCSP host (politeness; 5 ms caps a host at 200 requests/s). */
  readonly ocspMinIntervalMs?: number;
  /** A settled (verified revoked) certificate is asked again this often, to catch a reversed revocation. */
  readonly settledIntervalMs?: number;
  /** Unchanged answers are still recorded this often, as heartbeats. */
  readonly heartbeatMs?: number;
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

export interface CheckSummary {
  readonly runId: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly certificates: number;
  readonly skippedExpired: number;
  readonly skippedSettled: number;
  readonly crlsFetched: number;
  readonly ocspRequests: number;
  readonly changes: readonly Change[];
  readonly failedSources: readonly { kind: 'ocsp' | 'crl'; url: string; error: string }[];
  readonly observationsWritten: number;
  readonly itemsWritten: number;
  /**
   * Verdicts judged on each certificate's latest answers. `revwatch status`
   * weighs the whole history (e.g. evidence of backdating), so a backdated
   * revocation can count as on time here and late there.
   */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /** Where the time went, in milliseconds. */
  readonly timings: { readonly plan: number; readonly crl: number; readonly ocsp: number; readonly write: number };
}

const DAY = 86_400_000;

interface CertRef {
  readonly cert: StoredCertificate;
  readonly caseIds: string[];
}

const describe = (o: Observation | undefined): string => {
  if (!o) return 'none';
  if (o.status === 'revoked') return `revoked@${new Date(o.revocationTime ?? 0).toISOString()}/${o.reasonCode ?? '-'}`;
  if (o.status === 'error') return `error:${o.error?.kind ?? '?'}`;
  return o.status;
};

export async function runCheck(deps: CheckDeps, options: CheckOptions = {}): Promise<CheckSummary> {
  const { store, clock } = deps;
  const startedAt = clock.now().getTime();
  const runId = randomUUID();
  const writtenBefore = store.itemsWritten;
  const settledInterval = options.settledIntervalMs ?? DAY;
  const heartbeat = options.heartbeatMs ?? DAY;

  // -- plan ------------------------------------------------------------------
  const cases = options.caseId ? [await store.getCase(options.caseId)].filter((c) => c !== null) : await store.listCases();
  const refs = new Map<string, CertRef>();
  const last = new Map<string, Observation>();
  const lastKey = (caseId: string, sha: string, kind: 'ocsp' | 'crl', url: string): string => `${caseId}|${sha}|${sourceKey(kind, url)}`;
  let certificates = 0;
  let skippedExpired = 0;
  let skippedSettled = 0;
  for (const kase of cases) {
    const loaded = await store.loadCase(kase.id);
    for (const l of loaded.last as LastAnswer[]) last.set(lastKey(l.caseId, l.sha256, l.observation.source.kind, l.observation.source.url), l.observation);
    for (const cert of loaded.certificates) {
      certificates++;
      const ref = refs.get(cert.sha256);
      if (ref) ref.caseIds.push(kase.id);
      else refs.set(cert.sha256, { cert, caseIds: [kase.id] });
    }
  }
  const lastFor = (ref: CertRef, kind: 'ocsp' | 'crl', url: string): Observation | undefined => {
    // The most recent last answer across the cases that track this certificate.
    let best: Observation | undefined;
    for (const caseId of ref.caseIds) {
      const o = last.get(lastKey(caseId, ref.cert.sha256, kind, url));
      if (o && (!best || o.observedAt > best.observedAt)) best = o;
    }
    return best;
  };

  const crlGroups = new Map<string, { url: string; issuerSha256: string; refs: CertRef[]; isCA: boolean }>();
  const ocspJobs: { ref: CertRef; url: string }[] = [];
  for (const ref of refs.values()) {
    const c = ref.cert;
    // BR 4.10.1: entries may leave CRLs after expiry; an expired certificate is no longer polled.
    if (c.notAfter < startedAt) {
      skippedExpired++;
      continue;
    }
    const sources = [...c.crlUrls.map((url) => ({ kind: 'crl' as const, url })), ...c.ocspUrls.map((url) => ({ kind: 'ocsp' as const, url }))];
    const settled = sources.some((s) => lastFor(ref, s.kind, s.url)?.status === 'revoked');
    let planned = false;
    for (const s of sources) {
      const prev = lastFor(ref, s.kind, s.url);
      if (settled && prev && prev.observedAt + settledInterval > startedAt) continue;
      planned = true;
      if (s.kind === 'crl') {
        const key = `${s.url}|${c.issuerSha256}`;
        const g = crlGroups.get(key) ?? { url: s.url, issuerSha256: c.issuerSha256, refs: [], isCA: c.isCA };
        g.refs.push(ref);
        crlGroups.set(key, g);
      } else {
        ocspJobs.push({ ref, url: s.url });
      }
    }
    if (settled && !planned) skippedSettled++;
  }

  const planDone = clock.now().getTime();

  // -- issuers -----------------------------------------------------------------
  const issuers = new Map<string, RawCertificate | null>();
  const issuerOf = async (sha: string): Promise<RawCertificate | null> => {
    if (!issuers.has(sha)) {
      const der = await store.getCertificateDer(sha);
      issuers.set(sha, der ? parseRawCertificate(der) : null);
    }
    return issuers.get(sha)!;
  };
  const ocspIssuers = new Map<string, OcspIssuer>();

  // -- recording -----------------------------------------------------------------
  const changes: Change[] = [];
  const pending: { observation: StoredObservation; caseIds: string[] }[] = [];
  let observationsWritten = 0;
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending.splice(0, pending.length);
    await store.recordObservations(batch);
    observationsWritten += batch.length;
  };
  const latest = new Map<string, Observation>(last);
  const consider = async (ref: CertRef, outcome: ProbeOutcome): Promise<void> => {
    const obs = toObservation(ref.cert.sha256, outcome);
    for (const caseId of ref.caseIds) latest.set(lastKey(caseId, ref.cert.sha256, obs.source.kind, obs.source.url), obs);
    const prev = lastFor(ref, obs.source.kind, obs.source.url);
    const changed = !prev || describe(prev) !== describe(obs);
    if (!changed && prev.observedAt + heartbeat > obs.observedAt) return;
    if (changed) changes.push({ caseIds: [...ref.caseIds], sha256: ref.cert.sha256, serial: ref.cert.serial, source: sourceKey(obs.source.kind, obs.source.url), from: describe(prev), to: describe(obs) });
    pending.push({ observation: obs, caseIds: ref.caseIds });
    if (pending.length >= 2000) await flush();
  };

  const sourceStates = await store.getSourceStates();
  const newStates: SourceState[] = [];
  const failedSources: CheckSummary['failedSources'][number][] = [];
  const total = crlGroups.size + ocspJobs.length;
  deps.progress?.start(total, 'checking');

  // -- CRLs: one fetch per URL for all of its serials ---------------------------------
  let crlsFetched = 0;
  for (const g of crlGroups.values()) {
    const issuer = await issuerOf(g.issuerSha256);
    const prevState = sourceStates.get(sourceKey('crl', g.url));
    // A conditional GET only helps when every certificate already has an answer from this CRL.
    const allKnown = g.refs.every((r) => lastFor(r, 'crl', g.url)?.status !== undefined && lastFor(r, 'crl', g.url)?.status !== 'error');
    const now = () => clock.now().getTime();
    if (!issuer) {
      failedSources.push({ kind: 'crl', url: g.url, error: 'issuer certificate missing from the store' });
      deps.progress?.increment();
      continue;
    }
    const result = await probeCrl({
      url: g.url,
      serials: g.refs.map((r) => r.cert.serial),
      issuer,
      fetcher: deps.fetcher,
      now,
      certificatesAreCAs: g.isCA,
      maxBytes: options.crlMaxBytes,
      etag: allKnown && prevState?.ok ? prevState.etag : null,
      lastModified: allKnown && prevState?.ok ? prevState.lastModified : null,
    });
    crlsFetched++;
    const checkedAt = now();
    if (result.notModified && prevState) {
      newStates.push({ ...prevState, lastCheckedAt: checkedAt });
    } else {
      const firstError = result.outcomes.find((o) => o.status === 'error');
      const ok = !firstError;
      if (!ok && firstError?.status === 'error') failedSources.push({ kind: 'crl', url: g.url, error: firstError.error.message });
      newStates.push({
        kind: 'crl',
        url: g.url,
        lastCheckedAt: checkedAt,
        ok,
        error: firstError?.status === 'error' ? firstError.error.message : null,
        etag: result.etag,
        lastModified: result.lastModified,
        crlNumber: result.scan?.crlNumber ?? null,
        thisUpdate: result.scan?.thisUpdate ?? null,
        nextUpdate: result.scan?.nextUpdate ?? null,
        sha256: result.sha256,
        bytes: result.bytes,
        issuerSha256: g.issuerSha256,
      });
      if (ok && result.scan && result.sha256) {
        const fresh = await store.putCrlSnapshot({
          url: g.url,
          observedAt: checkedAt,
          crlNumber: result.scan.crlNumber,
          thisUpdate: result.scan.thisUpdate,
          nextUpdate: result.scan.nextUpdate,
          sha256: result.sha256,
          bytes: result.bytes,
          entries: result.scan.entries,
        });
        if (fresh && deps.saveCrl && result.raw) await deps.saveCrl(result.sha256, result.raw);
      }
      for (const [i, outcome] of result.outcomes.entries()) await consider(g.refs[i]!, outcome);
    }
    deps.progress?.increment();
  }

  const crlDone = clock.now().getTime();

  // -- OCSP: per-host concurrency and spacing -----------------------------------------------
  const perHost = options.ocspPerHost ?? 4;
  const spacing = options.ocspMinIntervalMs ?? 5;
  const byHost = new Map<string, { ref: CertRef; url: string }[]>();
  for (const job of ocspJobs) {
    let host: string;
    try {
      host = new URL(job.url).host;
    } catch {
      host = job.url;
    }
    byHost.set(host, [...(byHost.get(host) ?? []), job]);
  }
  const ocspResults = new Map<string, { ok: number; errors: number; lastError: string | null; checkedAt: number }>();
  const runHost = async (jobs: { ref: CertRef; url: string }[]): Promise<void> => {
    let next = 0;
    let lastStart = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const wait = lastStart + spacing - clock.now().getTime();
        lastStart = Math.max(lastStart + spacing, clock.now().getTime());
        if (wait > 0) await clock.sleep(wait);
        const issuer = await issuerOf(job.ref.cert.issuerSha256);
        let outcome: ProbeOutcome;
        if (!issuer) {
          outcome = { source: { kind: 'ocsp', url: job.url }, serial: job.ref.cert.serial, checkedAt: clock.now().getTime(), status: 'error', sha256: null, raw: null, error: { kind: 'unsupported', message: 'issuer certificate missing from the store' } };
        } else {
          let oi = ocspIssuers.get(job.ref.cert.issuerSha256);
          if (!oi) {
            oi = new OcspIssuer(issuer);
            ocspIssuers.set(job.ref.cert.issuerSha256, oi);
          }
          outcome = await probeOcsp({ url: job.url, serial: job.ref.cert.serial, issuer: oi, fetcher: deps.fetcher, now: () => clock.now().getTime(), maxBytes: options.ocspMaxBytes });
        }
        const r = ocspResults.get(job.url) ?? { ok: 0, errors: 0, lastError: null, checkedAt: 0 };
        if (outcome.status === 'error') {
          r.errors++;
          r.lastError = outcome.error.message;
        } else r.ok++;
        r.checkedAt = Math.max(r.checkedAt, outcome.checkedAt);
        ocspResults.set(job.url, r);
        await consider(job.ref, outcome);
        deps.progress?.increment();
      }
    };
    await Promise.all(Array.from({ length: Math.min(perHost, jobs.length) }, worker));
  };
  await Promise.all([...byHost.values()].map(runHost));
  for (const [url, r] of ocspResults) {
    newStates.push({ kind: 'ocsp', url, lastCheckedAt: r.checkedAt, ok: r.errors === 0, error: r.lastError });
    if (r.errors > 0) failedSources.push({ kind: 'ocsp', url, error: `${r.errors} of ${r.ok + r.errors} requests failed; last: ${r.lastError}` });
  }

  const ocspDone = clock.now().getTime();
  await flush();
  await store.putSourceStates(newStates);
  deps.progress?.stop();
  const verdicts: Record<Verdict, number> = { pending: 0, overdue: 0, revoked_on_time: 0, revoked_late: 0, expired: 0, expired_overdue: 0, no_deadline: 0, undetermined: 0 };
  const casesById = new Map<string, Case>(cases.map((c) => [c.id, c]));
  const judgedAt = clock.now().getTime();
  for (const ref of refs.values()) {
    for (const caseId of ref.caseIds) {
      const c = ref.cert;
      const answers = [...c.crlUrls.map((u) => latest.get(lastKey(caseId, c.sha256, 'crl', u))), ...c.ocspUrls.map((u) => latest.get(lastKey(caseId, c.sha256, 'ocsp', u)))].filter(
        (o): o is Observation => o !== undefined,
      );
      verdicts[judge(casesById.get(caseId)!, c, answers, judgedAt).verdict]++;
    }
  }
  const finishedAt = clock.now().getTime();
  const itemsWritten = store.itemsWritten - writtenBefore + 1;
  await store.recordRun({ runId, startedAt, finishedAt, certificates, sourcesFailed: failedSources.length, observationsWritten, itemsWritten });
  return {
    runId,
    startedAt,
    finishedAt,
    certificates,
    skippedExpired,
    skippedSettled,
    crlsFetched,
    ocspRequests: ocspJobs.length,
    changes,
    failedSources,
    observationsWritten,
    itemsWritten,
    verdicts,
    timings: { plan: planDone - startedAt, crl: crlDone - planDone, ocsp: ocspDone - crlDone, write: finishedAt - ocspDone },
  };
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
    raw: o.raw,
  };
}
