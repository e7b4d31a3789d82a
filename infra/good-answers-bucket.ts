/**
 * The good-answer log's bucket (src/adapters/aws/s3-good-answer-log.ts): the
 * verified "good" answers each check job received, one object per run, job
 * and source under good-answers/, read when a certificate's answer changes.
 *
 * A bucket of its own, not a prefix of the evidence bucket: that bucket is
 * versioned and may have Object Lock, whose default retention applies to
 * every object put in it whatever the prefix, so a few days' expiry there
 * would only add delete markers over versions locked for years (thousands of
 * objects a run). The log is not evidence: an answer it holds becomes
 * evidence only when a change copies it into the record as an observation
 * (in the table, with its signed bytes). So here: unversioned, no lock,
 * objects expire a day after the reader stops looking at them; encrypted,
 * private, TLS only and access-logged like the evidence bucket (into the
 * same log bucket, under its own prefix).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { GOOD_ANSWERS_PREFIX, S3_GOOD_ANSWER_KEEP_DAYS } from '../src/adapters/aws/s3-good-answer-log.js';

export class GoodAnswersBucket extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: { accessLogs: IBucket }) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Every object expires within days: a bucket left behind by a deleted stack empties itself, while a
      // DESTROY policy would fail the stack's deletion whenever a run had written in the last days.
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: GOOD_ANSWERS_PREFIX,
      lifecycleRules: [
        {
          id: 'expire-good-answers',
          prefix: GOOD_ANSWERS_PREFIX,
          // A day past the reader's window, so an object is never gone between its LIST and its GET.
          expiration: Duration.days(S3_GOOD_ANSWER_KEEP_DAYS + 1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
  }
}
