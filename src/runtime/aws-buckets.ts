/**
 * AWS mode's buckets, each null when the stack names none: the evidence
 * archive (verified CRLs, the worker), the good-answer log (the worker, the
 * CLI's check) and the site publisher (the digest), over one S3 client. Each
 * reads only its own variable, so a function's environment holds exactly
 * what it reads (test/aws/deployed.test.ts).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3EvidenceArchive } from '../adapters/aws/s3-evidence-archive.js';
import { S3GoodAnswerLog, type GoodAnswerJob } from '../adapters/aws/s3-good-answer-log.js';
import { S3SitePublisher } from '../adapters/aws/s3-site-publisher.js';
import type { SitePublisher } from '../ports/index.js';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import { loadEvidenceBucket, loadGoodAnswersBucket, type Env } from './env.js';

/** One S3 client for the process, made when a bucket is first named. */
let client: S3Client | null = null;
const s3 = (): S3Client => (client ??= new S3Client({}));

/** The evidence archive (verified CRLs), when REVWATCH_EVIDENCE_BUCKET names its bucket. */
export function s3EvidenceArchive(env: Env): EvidenceArchive | null {
  const bucket = loadEvidenceBucket(env);
  return bucket ? new S3EvidenceArchive(s3(), bucket) : null;
}

/** One good-answer log per job (runId, run start, jobId), when REVWATCH_GOOD_ANSWERS_BUCKET names its bucket. */
export function s3GoodAnswerLogs(env: Env): ((job: GoodAnswerJob) => GoodAnswerLog) | null {
  const bucket = loadGoodAnswersBucket(env);
  return bucket ? (job) => new S3GoodAnswerLog(s3(), bucket, job) : null;
}

/** The dashboard under site/ in the evidence bucket, when REVWATCH_EVIDENCE_BUCKET names it. */
export function s3SitePublisher(env: Env): SitePublisher | null {
  const bucket = loadEvidenceBucket(env);
  return bucket ? new S3SitePublisher(s3(), bucket) : null;
}
