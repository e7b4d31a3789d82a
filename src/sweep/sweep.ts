/**
 * `revwatch sweep`: reads every disclosed CRL once (targets.ts), verifies it
 * against the disclosing CA certificate, keeps each distinct CRL by hash,
 * indexes its difference from the URL's previous snapshot
 * (revocation-index.ts), and judges its health (health.ts).
 *
 * Faults are data: a CRL that cannot be fetched, is not DER, cannot be parsed
 * or does not verify is recorded with its reason (in the URL's state and as a
 * health finding) and the sweep goes on. Only a verified CRL is indexed.
 */
import { DerError } from '../pki/der.js';
import { scanCrl, type CrlScan } from '../pki/crl.js';
import type { Clock, FetchFailureKind, Fetcher, FetchSuccess } from '../ports/index.js';
import type {
  HealthFindingState,
  IssuerInfo,
  RevocationIndexStore,
  SweepRun,
  SweepStateStore,
  UrlState,
} from '../ports/revocation-index.js';
import type { StoredDisclosure } from '../ccadb/store.js';
import { readCrlEntries, type CrlEntry } from './crl-entries.js';
import { changeFindings, contentFindings, foldHealth, timeFindings, type CrlContext, type HealthBasis, type HealthHit } from './health.js';
import { runPerHost } from '../util/host-pool.js';
import { ByteGate } from '../util/byte-gate.js';
// One threshold for the check's CRL pool and the sweep: a CRL larger than it when last read is fetched after the others, two at a time.
import { LARGE_CRL_BYTES } from '../check/crl-pool.js';
import { indexSnapshot } from './revocation-index.js';
import { ownerAvailability } from './health-report.js';
import { sweepTargets, type CaCertificate, type SweepTarget, type TargetFilter } from './targets.js';

/** Politeness defaults (issue 27): at most 4 fetches in flight to one host, 64 overall. */
export const SWEEP_PER_HOST = 4;
export const SWEEP_PARALLEL = 64;
/**
 * CRL bytes read, parsed and indexed at once (a CRL larger alone is let through by itself). Each byte of a CRL
 * becomes several in its entries and index records while it is folded, and a first sweep has no sizes from a
 * previous read to put its large CRLs last: without a bound, a few large CRLs fetched together were folded
 * together, and the sweep's peak memory was theirs. The folding is the main thread's work, so waiting costs
 * no throughput; the fetches go on meanwhile.
 */
export const SWEEP_FOLDING_BYTES = 32 * 1024 * 1024;
/** Real CRLs reach 100 MB and more; the probes' cap. */
export const SWEEP_CRL_MAX_BYTES = 256 * 1024 * 1024;

export interface SweepDeps {
  readonly disclosures: {
    current(): Promise<StoredDisclosure[]>;
    /** Every CA certificate kept from the CCADB's PEM report (a V5 records report carries no PEMs): one read. */
    caCertificates?(): Promise<readonly { readonly sha256: string; readonly pem: string }[]>;
  };
  readonly fetcher: Fetcher;
  readonly clock: Clock;
  readonly index: RevocationIndexStore;
  readonly state: SweepStateStore;
  /** Where each distinct CRL is kept by hash (<home>/crls/ locally, as `check` keeps them). */
  readonly evidence: {
    saveCrl(sha256: string, bytes: Uint8Array): Promise<void>;
    crlPath(sha256: string): string | null;
    readCrl(sha256: string): Uint8Array | null;
  };
}

export interface SweepOptions extends TargetFilter {
  readonly perHost?: number;
  readonly parallel?: number;
  readonly maxBytes?: number;
  /** Told after each URL (progress). */
  readonly onUrl?: (done: number, total: number) => void;
}

export type SweepFaultKind = FetchFailureKind | 'not-der' | 'unparseable' | 'no-ca-certificate' | 'bad-signature';

export interface UrlResult {
  readonly url: string;
  readonly owner: string;
  readonly outcome: 'changed' | 'unchanged' | 'fault';
  /** 304 Not Modified (no body transferred). */
  readonly notModified: boolean;
  readonly fault: { readonly kind: SweepFaultKind; readonly message: string } | null;
  readonly sha256: string | null;
  readonly entries: number | null;
  readonly added: number;
  readonly removed: number;
  readonly claimChanged: number;
  readonly recordsWritten: number;
  readonly bytes: number;
}

export interface SweepSummary {
  readonly sweep: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly urls: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly notModified: number;
  readonly faults: number;
  readonly added: number;
  readonly removed: number;
  readonly claimChanged: number;
  readonly recordsWritten: number;
  readonly bytesFetched: number;
  readonly results: readonly UrlResult[];
  /** Health findings opened by this sweep, and resolved by it. */
  readonly healthOpened: number;
  readonly healthResolved: number;
}

const FETCH_FAULT_BASES: ReadonlySet<HealthBasis> = new Set(['reach']);
const VERIFY_FAULT_BASES: ReadonlySet<HealthBasis> = new Set(['reach', 'verify']);
const UNCHANGED_BASES: ReadonlySet<HealthBasis> = new Set(['reach', 'verify', 'time']);
const CHANGED_BASES: ReadonlySet<HealthBasis> = new Set(['reach', 'verify', 'time', 'content', 'event']);

/**
 * Each disclosure with its CA certificate: from its own PEM cell (V4), else the
 * certificate the PEM report disclosed under the same fingerprint. The kept
 * certificates are read once, not looked up per disclosure (two queries each
 * cost an unchanged re-sweep of 300 CAs seconds). Without either, its CRLs are
 * recorded as having no disclosed CA certificate to verify them with.
 */
export async function withCaCertificates(
  disclosures: readonly StoredDisclosure[],
  lookup: SweepDeps['disclosures'],
): Promise<StoredDisclosure[]> {
  if (!lookup.caCertificates || disclosures.every((d) => d.pem)) return [...disclosures];
  const pemBySha256 = new Map((await lookup.caCertificates()).map((c) => [c.sha256, c.pem] as const));
  return disclosures.map((d) => {
    const pem = d.pem ? null : pemBySha256.get(d.sha256);
    return pem ? { ...d, pem } : d;
  });
}

export async function runSweep(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const targets = sweepTargets(await withCaCertificates(await deps.disclosures.current(), deps.disclosures), options);
  const state = await deps.state.load();
  const sweep = (state.sweeps[state.sweeps.length - 1]?.sweep ?? 0) + 1;
  const startedAt = deps.clock.now().getTime();
  const urls: Record<string, UrlState> = { ...state.urls };
  const issuers: Record<string, IssuerInfo> = { ...state.issuers };
  const health: Record<string, HealthFindingState> = { ...state.health };
  const healthBefore = new Set(
    Object.entries(health)
      .filter(([, f]) => f.resolvedAt === null)
      .map(([k]) => k),
  );
  for (const t of targets) {
    for (const c of t.caCertificates) {
      const known = issuers[c.issuerKey];
      issuers[c.issuerKey] = {
        issuerKey: c.issuerKey,
        subjectKeyId: c.subjectKeyId ?? known?.subjectKeyId ?? null,
        caSha256: [...new Set([...(known?.caSha256 ?? []), c.sha256])].sort(),
        name: c.name,
        owner: c.owner,
      };
    }
  }

  const results: UrlResult[] = [];
  const readOne = async (target: SweepTarget): Promise<void> => {
    const result = await readTarget(deps, options, target, urls, health, sweep);
    results.push(result);
    options.onUrl?.(results.length, targets.length);
  };
  const small = targets.filter((t) => (urls[t.url]?.bytes ?? 0) <= LARGE_CRL_BYTES);
  const large = targets.filter((t) => (urls[t.url]?.bytes ?? 0) > LARGE_CRL_BYTES);
  const limits = { parallel: options.parallel ?? SWEEP_PARALLEL, perHost: options.perHost ?? SWEEP_PER_HOST };
  await runPerHost(small, (t) => t.url, readOne, limits);
  await runPerHost(large, (t) => t.url, readOne, { parallel: Math.min(2, limits.parallel), perHost: Math.min(2, limits.perHost) });

  // Every index write durable before the state says this sweep read its URLs: a write that failed fails the
  // sweep, and the next one reads those URLs again.
  await deps.index.flush?.();
  const finishedAt = deps.clock.now().getTime();
  results.sort((a, b) => (a.url < b.url ? -1 : 1));
  const count = (f: (r: UrlResult) => boolean): number => results.filter(f).length;
  const sum = (f: (r: UrlResult) => number): number => results.reduce((s, r) => s + f(r), 0);
  const run: SweepRun = {
    sweep,
    startedAt,
    finishedAt,
    urls: results.length,
    changed: count((r) => r.outcome === 'changed'),
    unchanged: count((r) => r.outcome === 'unchanged'),
    faults: count((r) => r.outcome === 'fault'),
    availability: ownerAvailability(results),
  };
  await deps.state.save({ sweeps: [...state.sweeps, run], urls, issuers, health });
  const openNow = Object.entries(health).filter(([, f]) => f.resolvedAt === null);
  return {
    sweep,
    startedAt,
    finishedAt,
    urls: run.urls,
    changed: run.changed,
    unchanged: run.unchanged,
    notModified: count((r) => r.notModified),
    faults: run.faults,
    added: sum((r) => r.added),
    removed: sum((r) => r.removed),
    claimChanged: sum((r) => r.claimChanged),
    recordsWritten: sum((r) => r.recordsWritten),
    bytesFetched: sum((r) => r.bytes),
    results,
    healthOpened: openNow.filter(([k]) => !healthBefore.has(k)).length,
    healthResolved: [...healthBefore].filter((k) => health[k]?.resolvedAt !== null).length,
  };
}

/** Records a URL's fault (kept since its first sweep) and its health hits, and gives the URL's result. */
type FaultWith = (
  kind: SweepFaultKind,
  message: string,
  hits: HealthHit[],
  bases: ReadonlySet<HealthBasis>,
  bytes: number,
  sha256: string | null,
) => UrlResult;

/**
 * Reads one URL; never throws for anything the remote side did. Exported for the AWS sweep worker
 * (sweep/fan-out.ts), which reads one URL per job with that URL's state and findings alone in `urls` and `health`.
 */
export async function readTarget(
  deps: SweepDeps,
  options: SweepOptions,
  target: SweepTarget,
  urls: Record<string, UrlState>,
  health: Record<string, HealthFindingState>,
  sweep: number,
): Promise<UrlResult> {
  const url = target.url;
  const previous: UrlState | null = urls[url] ?? null;
  const kept = previous?.sha256 ? deps.evidence.crlPath(previous.sha256) !== null : false;
  const fetched = await deps.fetcher.fetch({
    url,
    maxBytes: options.maxBytes ?? SWEEP_CRL_MAX_BYTES,
    purpose: 'crl',
    // Validators only while the CRL they vouch for is still kept: a 304 must leave a CRL to diff against.
    etag: kept ? previous?.etag : null,
    lastModified: kept ? previous?.lastModified : null,
  });
  const at = deps.clock.now().getTime();
  const base = { url, owner: target.owner, added: 0, removed: 0, claimChanged: 0, recordsWritten: 0 };
  const faultWith: FaultWith = (kind, message, hits, bases, bytes, sha256) => {
    const since = previous?.fault ? previous.fault.since : at;
    const sinceSweep = previous?.fault ? previous.fault.sinceSweep : sweep;
    urls[url] = { ...(previous ?? emptyUrlState(url)), fault: { kind, message, since, sinceSweep, lastAt: at } };
    foldHealth(health, target, hits, bases, at);
    return { ...base, outcome: 'fault', notModified: false, fault: { kind, message }, sha256, entries: null, bytes };
  };
  const ctx: CrlContext = { url, shard: target.shard, forCaCertificates: target.caCertificates.some((c) => c.root) };

  if (!fetched.ok) {
    const since = previous?.fault ? previous.fault.since : at;
    const hours = ((at - since) / 3_600_000).toFixed(1);
    const message = `${fetched.message}; not retrievable since ${new Date(since).toISOString()} (${hours} h)`;
    return faultWith(fetched.kind, fetched.message, [{ code: 'crl_unreachable', subject: '', message }], FETCH_FAULT_BASES, 0, null);
  }
  if (fetched.notModified || (previous?.sha256 && fetched.sha256 === previous.sha256 && kept)) {
    urls[url] = {
      ...previous!,
      etag: fetched.etag ?? previous!.etag,
      lastModified: fetched.lastModified ?? previous!.lastModified,
      lastRead: { sweep, at },
      lastGoodAt: at,
      fault: null,
    };
    const hits =
      previous?.thisUpdate != null ? timeFindings(ctx, { thisUpdate: previous.thisUpdate, nextUpdate: previous.nextUpdate }, at) : [];
    foldHealth(health, target, hits, UNCHANGED_BASES, at);
    return {
      ...base,
      outcome: 'unchanged',
      notModified: fetched.notModified,
      fault: null,
      sha256: previous!.sha256,
      entries: null,
      bytes: fetched.body.length,
    };
  }

  const release = await foldingGate.enter(fetched.body.length);
  try {
    return await foldTarget(deps, target, urls, health, sweep, previous, kept, fetched, at, ctx, faultWith);
  } finally {
    release();
  }
}

/** The rest of readTarget once a new body was read: verified, kept, indexed and judged, within the folding gate. */
async function foldTarget(
  deps: SweepDeps,
  target: SweepTarget,
  urls: Record<string, UrlState>,
  health: Record<string, HealthFindingState>,
  sweep: number,
  previous: UrlState | null,
  kept: boolean,
  fetched: FetchSuccess,
  at: number,
  ctx: CrlContext,
  faultWith: FaultWith,
): Promise<UrlResult> {
  const url = target.url;
  const base = { url, owner: target.owner, added: 0, removed: 0, claimChanged: 0, recordsWritten: 0 };
  const body = fetched.body;
  const bytes = body.length;
  /** The body was read but cannot be used: one finding, judged on reach and verification only. */
  const verifyFault = (kind: SweepFaultKind, code: HealthHit['code'], message: string): UrlResult =>
    faultWith(kind, message, [{ code, subject: '', message }], VERIFY_FAULT_BASES, bytes, fetched.sha256);
  if (body.length === 0 || body[0] !== 0x30) {
    const what = body.subarray(0, 64).toString('latin1').includes('-----BEGIN')
      ? 'PEM, not DER'
      : body.length === 0
        ? 'an empty body'
        : 'not a DER SEQUENCE';
    return verifyFault('not-der', 'crl_not_der', `the body (${bytes} bytes) is ${what}`);
  }
  if (target.caCertificates.length === 0) {
    return verifyFault(
      'no-ca-certificate',
      'crl_no_ca_certificate',
      `none of the disclosures naming it (${target.disclosures.join(', ')}) carries its CA certificate`,
    );
  }
  let scan: CrlScan | null = null;
  let signer: CaCertificate | null = null;
  let refusal = '';
  try {
    for (const cert of target.caCertificates) {
      const s = await scanCrl(body, { issuer: cert.raw, at });
      if (s.signatureValid) {
        scan = s;
        signer = cert;
        break;
      }
      refusal ||=
        s.problems.find((p) =>
          ['bad-signature', 'issuer-name-mismatch', 'issuer-not-crl-signer', 'unsupported-signature-algorithm'].includes(p.code),
        )?.message ?? '';
    }
  } catch (err) {
    return verifyFault(
      'unparseable',
      'crl_unparseable',
      err instanceof DerError ? err.message : `${(err as Error).name}: ${(err as Error).message}`,
    );
  }
  if (!scan || !signer) {
    return verifyFault(
      'bad-signature',
      'crl_signature_invalid',
      `${refusal || 'the signature does not verify'} (tried ${target.caCertificates.map((c) => c.sha256.slice(0, 16)).join(', ')})`,
    );
  }
  let entries: CrlEntry[];
  try {
    entries = readCrlEntries(body);
  } catch (err) {
    return verifyFault('unparseable', 'crl_unparseable', (err as Error).message);
  }
  await deps.evidence.saveCrl(fetched.sha256, body);

  const hits: HealthHit[] = [...contentFindings(ctx, scan, entries), ...timeFindings(ctx, scan, at)];
  // A delta or indirect CRL is kept and judged, not indexed: its entries are not the issuer's full list (RFC 5280 5.2.4, 5.3.3).
  const indexable = scan.deltaCrlIndicator === null && !scan.problems.some((p) => p.code === 'indirect-crl-unsupported');
  let work = { added: 0, removed: 0, claimChanged: 0, recordsWritten: 0 };
  let removedEntries: CrlEntry[] = [];
  if (indexable) {
    const keptBytes = kept && previous?.sha256 && previous.issuerKey === signer.issuerKey ? deps.evidence.readCrl(previous.sha256) : null;
    const previousEntries = keptBytes ? readCrlEntries(keptBytes) : null;
    if (previousEntries) {
      const next = new Set(entries.map((e) => e.serial));
      removedEntries = previousEntries.filter((e) => !next.has(e.serial));
    }
    // One issuer's records are read, folded and written by one URL at a time: two shards of a set changing in the
    // same sweep must not each write a fold of the records the other had not written yet.
    const unlock = await issuerLock(signer.issuerKey);
    try {
      const { listedElsewhere, ...counts } = await indexSnapshot(deps.index, {
        url,
        issuerKey: signer.issuerKey,
        snapshot: {
          url,
          sweep,
          at,
          sha256: fetched.sha256,
          thisUpdate: scan.thisUpdate,
          nextUpdate: scan.nextUpdate,
          crlNumber: scan.crlNumber,
          entries: entries.length,
        },
        previousRead: previous?.lastRead?.sweep ?? null,
        previous: previousEntries ? { sha256: previous!.sha256!, entries: previousEntries } : null,
        entries,
      });
      work = counts;
      if (target.siblings.length > 0 && listedElsewhere) hits.push(...twoShardHits(target.siblings, listedElsewhere));
    } finally {
      unlock();
    }
  }
  hits.push(...changeFindings(previous, scan, removedEntries, at));
  // An open "serial in two shards" stays while the serial is still listed here (the set made only when one is open).
  let listed: Set<string> | null = null;
  const listedHere = (serial: string): boolean => {
    listed ??= new Set(entries.map((e) => e.serial));
    return listed.has(serial);
  };
  for (const f of Object.values(health)) {
    if (
      f.url === url &&
      f.code === 'serial_in_two_shards' &&
      f.resolvedAt === null &&
      listedHere(f.subject) &&
      !hits.some((h) => h.code === f.code && h.subject === f.subject)
    ) {
      hits.push({ code: 'serial_in_two_shards', subject: f.subject, message: f.message });
    }
  }
  foldHealth(health, target, hits, CHANGED_BASES, at);
  urls[url] = {
    url,
    etag: fetched.etag,
    lastModified: fetched.lastModified,
    sha256: fetched.sha256,
    crlNumber: scan.crlNumber,
    thisUpdate: scan.thisUpdate,
    nextUpdate: scan.nextUpdate,
    bytes,
    issuerKey: signer.issuerKey,
    lastRead: { sweep, at },
    lastChangedAt: at,
    lastGoodAt: at,
    fault: null,
  };
  return { ...base, ...work, outcome: 'changed', notModified: false, fault: null, sha256: fetched.sha256, entries: entries.length, bytes };
}

/** Serials newly listed here that a sibling shard of the same set lists too (the fold's own reading of their records). */
function twoShardHits(siblings: readonly string[], listedElsewhere: ReadonlyMap<string, readonly string[]>): HealthHit[] {
  const siblingSet = new Set(siblings);
  const hits: HealthHit[] = [];
  for (const [serial, urls] of listedElsewhere) {
    const other = urls.find((u) => siblingSet.has(u));
    if (other) hits.push({ code: 'serial_in_two_shards', subject: serial, message: `serial ${serial} is also listed on ${other}` });
  }
  return hits;
}

const foldingGate = new ByteGate(SWEEP_FOLDING_BYTES);

const issuerLocks = new Map<string, Promise<void>>();

/** Waits for the issuer's previous holder; resolves with the release. */
async function issuerLock(issuerKey: string): Promise<() => void> {
  const before = issuerLocks.get(issuerKey) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const chained = before.then(() => mine);
  issuerLocks.set(issuerKey, chained);
  await before;
  return () => {
    release();
    if (issuerLocks.get(issuerKey) === chained) issuerLocks.delete(issuerKey);
  };
}

const emptyUrlState = (url: string): UrlState => ({
  url,
  etag: null,
  lastModified: null,
  sha256: null,
  crlNumber: null,
  thisUpdate: null,
  nextUpdate: null,
  bytes: null,
  issuerKey: null,
  lastRead: null,
  lastChangedAt: null,
  lastGoodAt: null,
  fault: null,
});
