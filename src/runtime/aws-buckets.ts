/**
 * AWS mode's buckets, each null when the stack names none: the evidence
 * archive (verified CRLs, the worker), the good-answer log (the worker, the
 * CLI's check) and the site publisher (the digest), over one S3 client.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3EvidenceArchive } from '../adapters/aws/s3-evidence-archive.js';
import { S3GoodAnswerLog, type GoodAnswerJob } from '../adapters/aws/s3-good-answer-log.js';
import { S3SitePublisher } from '../adapters/aws/s3-site-publisher.js';
import type { SitePublisher } from '../ports/index.js';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { GoodAnswerLog } from '../ports/good-answers.js';
import { loadEvidenceBucket, loadGoodAnswersBucket, type Env } from './env.js';

export interface AwsBuckets {
  readonly evidenceArchive: EvidenceArchive | null;
  /** One log per job (runId, run start, jobId), when REVWATCH_GOOD_ANSWERS_BUCKET names its bucket. */
  readonly goodAnswers: ((job: GoodAnswerJob) => GoodAnswerLog) | null;
  /** The dashboard under site/ in the evidence bucket. */
  readonly sitePublisher: SitePublisher | null;
}

export function openAwsBuckets(env: Env): AwsBuckets {
  const evidence = loadEvidenceBucket(env);
  const goodAnswers = loadGoodAnswersBucket(env);
  let client: S3Client | null = null;
  const s3 = (): S3Client => (client ??= new S3Client({}));
  return {
    evidenceArchive: evidence ? new S3EvidenceArchive(s3(), evidence) : null,
    goodAnswers: goodAnswers ? (job) => new S3GoodAnswerLog(s3(), goodAnswers, job) : null,
    sitePublisher: evidence ? new S3SitePublisher(s3(), evidence) : null,
  };
}
