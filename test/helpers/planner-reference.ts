/**
 * The AWS planner's jobs as the whole-run planner made them before issue 29 (every job built in memory from one
 * lean plan), and a digest of a set of queued jobs that ignores job ids, job order, the order of a CRL job's certificates and JSON key order: the
 * streamed planner (src/check/fan-out.ts planRun) must queue the same jobs. Used by the planner tests and by
 * bench/planner-run.ts.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { leanCertificate } from '../../src/check/fan-out.js';
import { groupByHost } from '../../src/check/jobs.js';
import { planCheck, type PlanOptions } from '../../src/check/plan.js';
import type { JobMessage, QueuedJob, RunLedger } from '../../src/ports/index.js';
import type { CaseStore, ObservationStore } from '../../src/ports/store.js';

/** The jobs of a run, planned whole: one per CRL URL and issuer, and OCSP batches per host in certificate order. */
export async function referenceJobs(
  store: CaseStore & ObservationStore,
  now: number,
  options: PlanOptions & { ocspBatchSize?: number } = {},
): Promise<QueuedJob[]> {
  const plan = await planCheck(store, now, { ...options, lean: true, settledPool: true });
  const batchSize = options.ocspBatchSize ?? 100;
  const jobs: QueuedJob[] = plan.crlJobs.map((crl) => ({
    kind: 'crl',
    crl: { ...crl, certificates: crl.certificates.map(leanCertificate) },
  }));
  for (const unordered of groupByHost(plan.ocspJobs).values()) {
    const hostJobs = [...unordered].sort((a, b) =>
      a.certificate.sha256 < b.certificate.sha256 ? -1 : a.certificate.sha256 > b.certificate.sha256 ? 1 : 0,
    );
    for (let i = 0; i < hostJobs.length; i += batchSize)
      jobs.push({
        kind: 'ocsp',
        ocsp: hostJobs.slice(i, i + batchSize).map((j) => ({ ...j, certificate: leanCertificate(j.certificate) })),
      });
  }
  return jobs;
}

/** JSON with every object's keys sorted, after a JSON round trip (what a queue message carries). */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v;
  return JSON.stringify(sort(JSON.parse(JSON.stringify(value))));
}

export interface JobsSummary {
  readonly jobs: number;
  readonly crlJobs: number;
  readonly ocspBatches: number;
  /** Certificates in the jobs, once per job that asks for them. */
  readonly certificates: number;
  readonly digest: string;
}

/** Adds jobs one at a time (so a million certificates are never held at once) into an order-free digest. */
export class JobsDigest {
  jobs = 0;
  crlJobs = 0;
  ocspBatches = 0;
  certificates = 0;
  private readonly hashes: string[] = [];

  add(job: QueuedJob): void {
    this.jobs++;
    if (job.kind === 'crl') {
      this.crlJobs++;
      this.certificates += job.crl.certificates.length;
    } else {
      this.ocspBatches++;
      this.certificates += job.ocsp.length;
    }
    // A CRL job's certificates are a set: the planner reads index entries due at the same instant in no fixed
    // order, and a CRL job takes its certificates as they are planned. A certificate's cases are compared in
    // order: the planner sorts them (fan-out.ts leanCertificate). An OCSP batch is in certificate order.
    const inOrder: QueuedJob =
      job.kind === 'crl'
        ? { kind: 'crl', crl: { ...job.crl, certificates: [...job.crl.certificates].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1)) } }
        : job;
    this.hashes.push(createHash('sha256').update(canonical(inOrder)).digest('hex'));
  }

  digest(): string {
    const all = createHash('sha256');
    for (const h of [...this.hashes].sort()) all.update(h);
    return all.digest('hex');
  }

  summary(): JobsSummary {
    return {
      jobs: this.jobs,
      crlJobs: this.crlJobs,
      ocspBatches: this.ocspBatches,
      certificates: this.certificates,
      digest: this.digest(),
    };
  }
}

/** The job a queued message carries, from the message or from its payload in the table (as a worker reads it). */
export async function messageJob(store: RunLedger, message: JobMessage): Promise<QueuedJob> {
  if (message.job) return message.job;
  const payload = await store.getJobPayload(message.runId, message.jobId);
  if (!payload) throw new Error(`payload of job ${message.jobId} is missing`);
  return JSON.parse(gunzipSync(payload).toString('utf8')) as QueuedJob;
}
