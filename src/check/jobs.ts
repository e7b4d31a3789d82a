/**
 * Check jobs: the unit of work a run is split into. Locally one process runs
 * every job of a run; in AWS the planner puts them on a queue and workers run
 * them. A job carries everything its executor needs to decide what changed,
 * so a worker reads nothing of the plan from the table but the issuer.
 */
import type { Observation } from '../domain.js';
import type { EvidenceRecord } from '../rules/evidence.js';
import type { SourceState, StoredCertificate } from '../store/store.js';
import { groupBy } from '../util/group-by.js';

/** The last answer recorded for a certificate from one source, reduced to what "changed" is judged on. */
export interface PreviousAnswer {
  /** `describeAnswer` of the observation. */
  readonly summary: string;
  readonly observedAt: number;
}

export interface JobCertificate {
  readonly sha256: string;
  readonly serial: string;
  readonly notAfter: number;
  /** Every case that tracks this certificate: one observation serves them all. */
  readonly caseIds: readonly string[];
  /** The last answer recorded from this job's source. */
  readonly previous: PreviousAnswer | null;
  /**
   * The evidence record as planned (the same in every case that tracks the certificate) and each case's
   * copy of the certificate with the record's revision. Present when the planner's process runs the job
   * (local mode); left out of queued jobs, whose workers read the few records an answer changes.
   */
  readonly record?: EvidenceRecord;
  readonly cases?: readonly { readonly cert: StoredCertificate; readonly rev: number }[];
  /** How many sources the certificate has: with one, this job is the only writer of its record in a run. */
  readonly sources: number;
}

/** One CRL URL (and issuer): fetched once for all of its certificates. */
export interface CrlJob {
  readonly kind: 'crl';
  readonly url: string;
  readonly issuerSha256: string;
  /** For the IDP scope check (RFC 5280 5.2.5): onlyContainsUserCerts / onlyContainsCACerts. */
  readonly certificatesAreCAs: boolean;
  /**
   * The CRL's last good state, whose validators (ETag, Last-Modified) a
   * conditional GET sends and which a 304 carries forward. Only set when every
   * certificate already has an answer from this CRL.
   */
  readonly conditional: SourceState | null;
  readonly certificates: readonly JobCertificate[];
  /** A shard of a partitioned CCADB disclosure: the CRL must carry a critical IDP naming this URL (RFC 5280 5.2.5). */
  readonly requireIdp?: boolean;
}

/** One OCSP request: one certificate at one responder. */
export interface OcspJob {
  readonly kind: 'ocsp';
  readonly url: string;
  readonly issuerSha256: string;
  readonly certificate: JobCertificate;
}

/** The change summary of an observation: two observations with the same summary are "unchanged". */
export function describeAnswer(o: Pick<Observation, 'status' | 'revocationTime' | 'reasonCode' | 'error'> | undefined): string {
  if (!o) return 'none';
  if (o.status === 'revoked') return `revoked@${new Date(o.revocationTime ?? 0).toISOString()}/${o.reasonCode ?? '-'}`;
  if (o.status === 'error') return `error:${o.error?.kind ?? '?'}`;
  return o.status;
}

export const previousAnswer = (o: Observation | undefined): PreviousAnswer | null => (o ? { summary: describeAnswer(o), observedAt: o.observedAt } : null);

/** The host an OCSP job's per-host politeness limit applies to. */
function ocspHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** OCSP jobs grouped by responder host, in their order. */
export function groupByHost(jobs: readonly OcspJob[]): Map<string, OcspJob[]> {
  return groupBy(jobs, (job) => ocspHost(job.url));
}
