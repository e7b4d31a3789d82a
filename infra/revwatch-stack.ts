/**
 * revwatch in one AWS account:
 *
 *   EventBridge schedule ─▶ planner ─▶ SQS job queue ─▶ worker (reserved concurrency) ─┐
 *        (15 min)              │            │ 3 receives                                │ last job of a run
 *                              ▼            ▼                                           ▼
 *                          DynamoDB ◀── dead-letter queue ──▶ alarm     revwatch bus "Check Completed"
 *                              ▲                                                        │
 *   hourly backstop ───────▶ notifier ◀─────────────────────────────────────────────────┘ ─▶ SES
 *   weekly schedule ───────▶ digest ─▶ SES
 *   sweep schedule (4 h) ──▶ sweeper (CCADB refresh, plans a sweep) ─▶ SQS job queue ─▶ worker ─▶ "Sweep Completed"
 *
 * Alarms (to one SNS topic): the dead-letter queue holds a message, a function
 * failed, no check run finished for an hour, or the CCADB disclosures are over 48 hours old.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { POLL_DUE_INDEX, POLL_DUE_PROJECTION, POLL_INDEX } from '../src/store/poll-index.js';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { EvidenceBucket } from './evidence-bucket.js';
import { GoodAnswersBucket } from './good-answers-bucket.js';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { CCADB_DISCLOSURE_STALE, CHECKS_COMPLETED, METRICS_NAMESPACE, SERVICE_NAME } from '../functions/shared/names.js';
import { ENV } from '../src/runtime/env.js';
import { CHECK_COMPLETED, EVENT_SOURCE, SWEEP_COMPLETED } from '../src/adapters/aws/eventbridge-run-events.js';
import type { StackConfig } from './config.js';
import { RevwatchFunction } from './revwatch-function.js';
import { CRL_PREFIX } from '../src/ports/evidence-archive.js';
import { SITE_PREFIX } from '../src/adapters/aws/s3-site-publisher.js';
import { GOOD_ANSWERS_PREFIX } from '../src/adapters/aws/s3-good-answer-log.js';

export interface RevwatchStackProps extends StackProps {
  readonly config: StackConfig;
}

export class RevwatchStack extends Stack {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: RevwatchStackProps) {
    super(scope, id, props);
    const { config } = props;

    // -- the table (docs/data-model.md: single table, pk/sk) ------------------------------
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The observations are the evidence: deleting the stack must not delete them.
      removalPolicy: RemovalPolicy.RETAIN,
      // Encrypted at rest with the AWS-owned key (DynamoDB's default: no KMS charges or key policy).
      // Open runs and oversized job payloads expire two days after planning.
      timeToLiveAttribute: 'expiresAt',
    });
    // The sparse polling index (src/store/layout.ts, poll-index.ts): only certificates that still need asking
    // carry pk2/pd, and it projects their polling summary alone (~180 bytes a due certificate, not the ~1.1 KB item).
    this.table.addGlobalSecondaryIndex({
      indexName: POLL_DUE_INDEX,
      partitionKey: { name: 'pk2', type: AttributeType.STRING },
      sortKey: { name: 'pd', type: AttributeType.NUMBER },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...POLL_DUE_PROJECTION],
    });
    // The index of stacks deployed before it, kept through the first deployment of an upgrade (config.ts).
    if (config.legacyPollIndex)
      this.table.addGlobalSecondaryIndex({
        indexName: POLL_INDEX,
        partitionKey: { name: 'pk2', type: AttributeType.STRING },
        sortKey: { name: 'sk2', type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      });
    const table = this.table;

    // -- queues ------------------------------------------------------------------------------
    const deadLetters = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const workerTimeout = Duration.minutes(5);
    const jobs = new Queue(this, 'JobQueue', {
      // AWS's guidance for Lambda consumers: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(6 * workerTimeout.toSeconds()),
      retentionPeriod: Duration.days(2),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: 3 },
    });

    const bus = new EventBus(this, 'Bus', { description: 'revwatch: "Check Completed" when a check run finishes' });
    const retention = config.logRetentionDays as RetentionDays;
    // SES: only the configured identity, and only as the configured From address.
    const mailer = {
      identityArn: this.formatArn({ service: 'ses', resource: 'identity', resourceName: config.sesIdentity }),
      sender: config.sender,
      defaultRecipients: config.recipients,
      digestRecipients: config.digestRecipients,
    };

    // -- functions ---------------------------------------------------------------------------
    const planner = new RevwatchFunction(this, 'Planner', {
      handler: 'planner',
      description: 'revwatch: plans a check run and queues its CRL and OCSP jobs',
      memorySize: config.memory,
      timeout: Duration.minutes(5),
      logRetention: retention,
      // One planner at a time: two would plan the same run twice.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: deadLetters,
    });
    // Reads the cases and the due certificates' polling summaries (polling index), and the whole items of those
    // whose summaries it cannot resolve or that predate them (BatchGetItem); writes the open run, job payloads,
    // the run's settled rounds, the run record of an empty run, and takes judged expired certificates out of the index.
    planner
      .bindTable(table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem'], {
        queryIndexes: config.legacyPollIndex ? [POLL_DUE_INDEX, POLL_INDEX] : [POLL_DUE_INDEX],
      })
      .bindQueue(jobs)
      .bindBus(bus);

    const sweeper = new RevwatchFunction(this, 'Sweeper', {
      handler: 'sweeper',
      description: 'revwatch: refreshes the CCADB disclosures and plans a sweep of every disclosed CRL',
      memorySize: config.memory,
      timeout: Duration.minutes(5),
      logRetention: retention,
      // One at a time: two would refresh and plan the same sweep twice.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: deadLetters,
    });
    // Reads the disclosures and their last import (staleness, the alarm below); plans the sweep: reads the URL
    // states (BatchGetItem), writes the issuer keys (BatchWriteItem), opens the sweep run (PutItem) and, when
    // it has nothing to read, records and finishes it (UpdateItem); queues the jobs; announces an empty sweep.
    sweeper.bindTable(table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']).bindQueue(jobs).bindBus(bus);
    if (config.ccadbReportUrl) {
      // The daily CCADB refresh (src/ccadb/refresh.ts) replaces disclosures: a CA no longer reported is deleted.
      sweeper.bindTable(table, ['PutItem', 'BatchWriteItem', 'DeleteItem']);
      sweeper.fn.addEnvironment(ENV.ccadbReportUrl, config.ccadbReportUrl);
    }

    const worker = new RevwatchFunction(this, 'Worker', {
      handler: 'worker',
      description: 'revwatch: fetches one CRL or a batch of OCSP responses, verifies them, records what changed',
      memorySize: config.workerMemory,
      timeout: workerTimeout,
      logRetention: retention,
      environment: { [ENV.ocspPerHost]: String(config.ocspPerHost), [ENV.ocspIntervalMs]: String(config.ocspIntervalMs) },
      // Bounds the load on each CA's responders (each worker asks at most ocspPerHost at a time per host) and on the table.
      reservedConcurrentExecutions: config.workerConcurrency,
    });
    // Reads issuers, job payloads and the evidence records of certificates whose answer changed (BatchGetItem);
    // writes observations, last answers, source states, CRL snapshots and run counts.
    worker.bindTable(table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']).bindBus(bus);
    // The evidence archive: verified CRLs under crls/<sha256>.crl. PutObject on that prefix only: the worker
    // cannot read, list, delete or overwrite-protect-bypass anything (writes are If-None-Match: *).
    const evidence = new EvidenceBucket(this, 'Evidence', {
      objectLockDays: config.evidenceObjectLockDays,
      infrequentAccessDays: config.evidenceInfrequentAccessDays,
    });
    const bucketLogicalId = this.resolve(this.getLogicalId(evidence.bucket.node.defaultChild as CfnBucket)) as string;
    /**
     * PutObject (and, when given, other object actions) under one prefix of the evidence bucket and nothing
     * else of it, and ENV.evidenceBucket. AwsSolutions-IAM5 flags the object wildcard: it is the prefix itself
     * (keys unknown in advance), on one bucket, so the finding is acknowledged for that resource only.
     */
    const bindEvidencePrefix = (
      fn: RevwatchFunction,
      prefix: string,
      reason: string,
      actions: readonly string[] = ['s3:PutObject'],
    ): void => {
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: [...actions], resources: [evidence.bucket.arnForObjects(`${prefix}*`)] }),
      );
      Validations.of(fn.role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`, reason });
      fn.fn.addEnvironment(ENV.evidenceBucket, evidence.bucket.bucketName);
    };
    // Verified CRLs, content-addressed: crls/<sha256>.crl. GetObject too: a sweep job reads a URL's previous
    // CRL back to diff the new one against (src/sweep/fan-out.ts).
    bindEvidencePrefix(
      worker,
      CRL_PREFIX,
      "PutObject and GetObject on the evidence bucket's crls/ prefix only: content-addressed keys are not known in advance",
      ['s3:PutObject', 's3:GetObject'],
    );
    // The good-answer log (docs/evidence.md): each job writes its good answers under good-answers/ and, at a
    // change, lists and reads the earlier runs' objects there. Nothing else of that bucket, and no delete
    // (the lifecycle rule expires them).
    const goodAnswers = new GoodAnswersBucket(this, 'GoodAnswers', { accessLogs: evidence.accessLogs });
    worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [goodAnswers.bucket.arnForObjects(`${GOOD_ANSWERS_PREFIX}*`)],
      }),
    );
    worker.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [goodAnswers.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${GOOD_ANSWERS_PREFIX}*`] } },
      }),
    );
    const goodAnswersLogicalId = this.resolve(this.getLogicalId(goodAnswers.bucket.node.defaultChild as CfnBucket)) as string;
    Validations.of(worker.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${goodAnswersLogicalId}.Arn>/${GOOD_ANSWERS_PREFIX}*]`,
      reason: "PutObject and GetObject on the good-answer bucket's good-answers/ prefix only: keys are per run and job",
    });
    worker.fn.addEnvironment(ENV.goodAnswersBucket, goodAnswers.bucket.bucketName);
    worker.fn.addEventSource(new SqsEventSource(jobs, { batchSize: 1, reportBatchItemFailures: true }));

    const notifier = new RevwatchFunction(this, 'Notifier', {
      handler: 'notifier',
      description: 'revwatch: sends due notices after each check run',
      memorySize: config.memory,
      timeout: Duration.minutes(5),
      logRetention: retention,
      // The ledger already prevents double sends; one at a time keeps two runs' triggers from racing for claims.
      reservedConcurrentExecutions: 1,
      deadLetterQueue: deadLetters,
    });
    // Reads statuses; claims, marks and releases ledger entries; clears the changed-case marks.
    notifier.bindTable(table, ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']).bindMailer(mailer);

    const digest = new RevwatchFunction(this, 'Digest', {
      handler: 'digest',
      description: 'revwatch: the forum digest',
      memorySize: config.memory,
      timeout: Duration.minutes(10),
      logRetention: retention,
      reservedConcurrentExecutions: 1,
      deadLetterQueue: deadLetters,
    });
    // Reads statuses; records the digest and the findings it reported.
    digest.bindTable(table, ['GetItem', 'Query', 'PutItem', 'BatchWriteItem']).bindMailer(mailer);
    // The static dashboard, published after each digest: PutObject under site/ only (pages are replaced
    // weekly; the CRLs under crls/ stay out of its reach).
    bindEvidencePrefix(
      digest,
      SITE_PREFIX,
      "PutObject on the evidence bucket's site/ prefix only: the dashboard's pages are named per case",
    );

    // -- schedules and events ----------------------------------------------------------------
    new Rule(this, 'CheckSchedule', {
      description: 'revwatch: start a check run',
      schedule: Schedule.expression(config.checkSchedule),
      targets: [new LambdaFunction(planner.fn)],
    });
    new Rule(this, 'SweepSchedule', {
      description: 'revwatch: refresh the CCADB and start a sweep run',
      schedule: Schedule.expression(config.sweepSchedule),
      targets: [new LambdaFunction(sweeper.fn)],
    });
    new Rule(this, 'CheckCompleted', {
      description: 'revwatch: notices after each check run',
      eventBus: bus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [CHECK_COMPLETED] },
      targets: [new LambdaFunction(notifier.fn)],
    });
    // After each sweep: CRL-health notices of new violation-level findings (the notifier reads SWEEP#HEALTH with
    // Query and claims each notice in SWEEP#NOTICES with PutItem, DeleteItem on release: grants it already has).
    new Rule(this, 'SweepCompleted', {
      description: 'revwatch: CRL-health notices after each sweep',
      eventBus: bus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [SWEEP_COMPLETED] },
      targets: [new LambdaFunction(notifier.fn)],
    });
    // A backstop for notices whose deadline window opens while no run finishes (a run stuck on a dead-lettered job).
    new Rule(this, 'NoticesHourly', {
      description: 'revwatch: notices backstop',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(notifier.fn)],
    });
    new Rule(this, 'DigestSchedule', {
      description: 'revwatch: the forum digest',
      schedule: Schedule.expression(config.digestSchedule),
      targets: [new LambdaFunction(digest.fn)],
    });

    // -- alarms ------------------------------------------------------------------------------
    const alarms = new Topic(this, 'AlarmTopic', { displayName: 'revwatch alarms', enforceSSL: true });
    if (config.alarmEmail) alarms.addSubscription(new EmailSubscription(config.alarmEmail));
    const toTopic = new SnsAction(alarms);
    const alarm = (a: Alarm): void => {
      a.addAlarmAction(toTopic);
      a.addOkAction(toTopic);
    };
    alarm(
      new Alarm(this, 'DeadLettersAlarm', {
        alarmDescription: 'revwatch: a check job, schedule or notice failed three times and is in the dead-letter queue',
        metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    for (const [name, f] of [
      ['Planner', planner],
      ['Worker', worker],
      ['Notifier', notifier],
      ['Digest', digest],
      ['Sweeper', sweeper],
    ] as const) {
      alarm(
        new Alarm(this, `${name}ErrorsAlarm`, {
          alarmDescription: `revwatch: the ${name.toLowerCase()} function failed`,
          metric: f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }
    alarm(
      new Alarm(this, 'NoSuccessfulCheckAlarm', {
        alarmDescription: 'revwatch: no check run finished in the last hour',
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: CHECKS_COMPLETED,
          dimensionsMap: { service: SERVICE_NAME },
          statistic: 'Sum',
          period: Duration.hours(1),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No data means no run finished: that is the alarm.
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );

    alarm(
      new Alarm(this, 'CcadbDisclosureStaleAlarm', {
        alarmDescription: 'revwatch: the CCADB disclosures in use were last imported more than 48 hours ago',
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: CCADB_DISCLOSURE_STALE,
          dimensionsMap: { service: SERVICE_NAME },
          statistic: 'Maximum',
          period: Duration.hours(1),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // The sweeper reports once per sweep (every 4 hours by default): between two, the last state holds.
        treatMissingData: TreatMissingData.IGNORE,
      }),
    );

    new CfnOutput(this, 'TableName', { value: table.tableName, description: `${ENV.table} for the CLI (revwatch --aws)` });
    new CfnOutput(this, 'EvidenceBucketName', {
      value: evidence.bucket.bucketName,
      description: `${ENV.evidenceBucket} for the CLI (revwatch --aws report --format bundle)`,
    });
    new CfnOutput(this, 'GoodAnswersBucketName', {
      value: goodAnswers.bucket.bucketName,
      description: `${ENV.goodAnswersBucket} for the CLI (revwatch --aws check logs and reads good answers there, as the worker does)`,
    });
    new CfnOutput(this, 'JobQueueUrl', { value: jobs.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topicArn });

    // cdk-nag (AwsSolutions, run on every synth by infra/app.ts) finds three things to acknowledge, each
    // justified where it is acknowledged: the worker's PutObject and GetObject under crls/ and the digest's PutObject under site/
    // (IAM5: an object wildcard under one prefix) and the access-log bucket's own access logs (S1,
    // infra/evidence-bucket.ts). CDK itself acknowledges CloudFormation-Validate W3045 on the access-log
    // bucket, as it grants log delivery by ACL (README.md, "Running it in AWS"). Otherwise each role is built by
    // hand without managed policies or other wildcards, the queues and topic refuse plain HTTP, and the
    // dead-letter queue is recognised as one.
  }
}
