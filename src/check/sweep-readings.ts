/**
 * A check takes a sweep's reading of a CRL instead of fetching it again
 * (issue 27): the sweep read every disclosed CRL minutes ago, verified it and
 * kept it by hash, so the check reads those same bytes from the evidence
 * archive and judges them as if it had fetched them then.
 *
 * A reading is taken only when all of these hold, otherwise the CRL is fetched:
 * - the sweep's last read of the URL succeeded (no fault since) and its
 *   snapshot is kept in the archive, whose bytes still hash to that snapshot;
 * - the sweep verified it with the issuer key the check verifies with (the
 *   SHA-256 of the issuer certificate's subjectPublicKeyInfo, as the sweep
 *   keys issuers): a CRL the sweep took from another CA is not this one's;
 * - it is recent: read within the window (default: the AWS check schedule,
 *   15 minutes), or by the sweep run in the same process (`check --sweep`);
 * - it is newer than anything the check already holds from this CRL: an
 *   observation never goes back in time.
 *
 * The check then verifies the bytes itself (probe.ts) against its own issuer:
 * signatures are always verified, and the observation is the one a fetch at
 * the sweep's read time would have given, dated then (RFC 5280 6.3.3: a CRL
 * speaks as of when it was obtained), and rebuilt by verify-evidence like any.
 */
import { createHash } from 'node:crypto';
import type { RawCertificate } from '../pki/raw-certificate.js';
import type { CrlJob, FetchResult, Fetcher } from '../ports/index.js';
import type { SweepState } from '../ports/revocation-index.js';

/** The AWS check schedule's default (infra/config.ts: rate(15 minutes)): a sweep read within one check interval. */
export const DEFAULT_SWEEP_WINDOW_MS = 15 * 60_000;

export interface SweepReading {
  readonly url: string;
  readonly sweep: number;
  /** When the sweep read it (epoch ms): the observation's time. */
  readonly at: number;
  readonly sha256: string;
  /** Serves the archived bytes as the fetch of this URL would have. */
  readonly fetcher: Fetcher;
}

export interface SweepReadingOptions {
  /** The check's "now" (epoch ms). */
  readonly now: number;
  /** How old a reading may be (ms); 0 takes none (except `sweep`'s). */
  readonly windowMs?: number;
  /** A sweep run in this process: its readings are taken whatever their age. */
  readonly sweep?: number | null;
}

/** Where the sweep kept each CRL by hash (<home>/crls/). */
export interface ArchivedCrls {
  readCrl(sha256: string): Uint8Array | null;
}

export class SweepReadings {
  private readonly issuerKeys = new WeakMap<RawCertificate, string>();
  private readonly taken = new Set<string>();

  constructor(
    private readonly state: SweepState,
    private readonly archive: ArchivedCrls,
    private readonly options: SweepReadingOptions,
  ) {}

  /** URLs whose CRL this check took from a sweep. */
  get reused(): number {
    return this.taken.size;
  }

  /** The sweep's reading of `job`'s CRL when it may stand for a fetch (see the file comment), else null. */
  reading(job: CrlJob, issuer: RawCertificate): SweepReading | null {
    const u = this.state.urls[job.url];
    if (!u?.lastRead || u.fault !== null || !u.sha256 || !u.issuerKey) return null;
    const at = u.lastRead.at;
    const fromThisProcess = this.options.sweep != null && u.lastRead.sweep === this.options.sweep;
    const age = this.options.now - at;
    if (age < 0 || (!fromThisProcess && age > (this.options.windowMs ?? DEFAULT_SWEEP_WINDOW_MS))) return null;
    if (u.issuerKey !== this.issuerKeyOf(issuer)) return null;
    let newest = job.conditional?.lastCheckedAt ?? Number.NEGATIVE_INFINITY;
    for (const c of job.certificates) if (c.previous) newest = Math.max(newest, c.previous.observedAt);
    if (at <= newest) return null;
    const bytes = this.archive.readCrl(u.sha256);
    if (!bytes || createHash('sha256').update(bytes).digest('hex') !== u.sha256) return null;
    this.taken.add(job.url);
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const served: FetchResult = {
      ok: true,
      status: 200,
      url: job.url,
      body,
      sha256: u.sha256,
      notModified: false,
      etag: u.etag,
      lastModified: u.lastModified,
      contentType: null,
      redirects: 0,
      attempts: 0,
    };
    return { url: job.url, sweep: u.lastRead.sweep, at, sha256: u.sha256, fetcher: { fetch: async () => served } };
  }

  private issuerKeyOf(issuer: RawCertificate): string {
    let key = this.issuerKeys.get(issuer);
    if (!key) {
      key = createHash('sha256').update(issuer.spki).digest('hex');
      this.issuerKeys.set(issuer, key);
    }
    return key;
  }
}
