/**
 * The evidence bucket: every verified CRL the worker read, under its SHA-256
 * (src/archive/). It is what a case's verdict rests on, so it is kept like
 * the table: versioned, retained when the stack is deleted, encrypted, never
 * public, reachable over TLS only, with server access logs in a bucket of
 * their own (cdk-nag AwsSolutions-S1). Old CRLs are rarely read: after
 * `infrequentAccessDays` they move to Standard-IA. Object Lock in governance
 * mode is a deploy-time switch (context `evidenceObjectLockDays`), since S3
 * only enables it when the bucket is created.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CRL_PREFIX } from '../src/ports/evidence-archive.js';

export interface EvidenceBucketProps {
  readonly objectLockDays: number | null;
  readonly infrequentAccessDays: number;
}

export class EvidenceBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: EvidenceBucketProps) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Object ownership is left to CDK: it grants S3's log delivery the way the app's feature flags choose.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
    });
    // AwsSolutions-S1 asks every bucket for server access logs. This bucket receives them: logging it into
    // itself would log each delivery without end, and a third bucket would only move the question along.
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'the server access log bucket of the evidence bucket; it cannot log into itself',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // The evidence: deleting the stack must not delete it (as the table).
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'evidence/',
      ...(props.objectLockDays !== null
        ? { objectLockEnabled: true, objectLockDefaultRetention: ObjectLockRetention.governance(Duration.days(props.objectLockDays)) }
        : {}),
      lifecycleRules: [
        {
          id: 'old-crls-to-infrequent-access',
          prefix: CRL_PREFIX,
          transitions: [{ storageClass: StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessDays) }],
        },
      ],
    });
  }
}
