/**
 * The CDK app, synthesized offline: cdk-nag's AwsSolutions checks, template
 * assertions on the table, every IAM statement, the functions, schedules,
 * queues and alarms, the bundle sizes, and `npx cdk synth` itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MAX_BUNDLE_BYTES } from '../../infra/bundling.js';
import { readStackConfig } from '../../infra/config.js';
import { RevwatchStack } from '../../infra/revwatch-stack.js';

const exec = promisify(execFile);
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

function synth(context: Record<string, string>, withNag = true) {
  const outdir = mkdtempSync(join(tmpdir(), 'revwatch-cdk-'));
  const app = new App({ outdir, context });
  const stack = new RevwatchStack(app, 'revwatch', { config: readStackConfig((k) => app.node.tryGetContext(k)) });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws ValidationFailed when cdk-nag reports anything not acknowledged.
  const assembly = app.synth();
  const artifact = assembly.getStackArtifact(stack.artifactId);
  const json = JSON.parse(readFileSync(artifact.templateFullPath, 'utf8')) as { Resources: Record<string, Resource> };
  return { outdir, template: Template.fromJSON(json), resources: json.Resources };
}

/** Every string inside a CloudFormation value (Fn::Join parts, Fn::GetAtt names, ...). */
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('CDK stack', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  let outdir: string;
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  /** The logical id of a function by its handler file (from its description). */
  const fnId = (word: string) => byType('AWS::Lambda::Function').find(([, r]) => String(r.Properties.Description).includes(word))![0];
  const roleOf = (word: string) => resources[fnId(word)]!.Properties.Role['Fn::GetAtt'][0] as string;
  const statementsOf = (roleId: string) =>
    byType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleId))
      .flatMap(
        ([, p]) =>
          p.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[],
      );

  beforeAll(() => {
    ({ template, resources, outdir } = synth({
      sender: 'revwatch@ca.example',
      recipients: 'compliance@ca.example',
      alarmEmail: 'oncall@ca.example',
    }));
  }, 120_000);

  it('passes cdk-nag AwsSolutions, which does catch a wildcard policy (negative control)', () => {
    // The synth in beforeAll ran the checks and would have thrown. The control shows they are live:
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'revwatch-nag-')) });
    const role = new Role(new Stack(app, 'control'), 'R', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/wildcard permissions[\s\S]*AwsSolutions-IAM5/);
  });

  it('keeps the table: on-demand, point-in-time recovery, deletion protection, retained, TTL on expiresAt', () => {
    const tables = byType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    // No stream: the notifier is triggered by the "Check Completed" event instead.
    expect(table.Properties.StreamSpecification).toBeUndefined();
    // One index: the sparse polling index the planner reads (only certificates that still need asking).
    expect(table.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'poll-due',
        KeySchema: [
          { AttributeName: 'pk2', KeyType: 'HASH' },
          { AttributeName: 'pd', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['ps'] },
      },
    ]);
  });

  it('runs five functions on Node.js 24, ARM64, each with its own role and a log group with retention', () => {
    const fns = byType('AWS::Lambda::Function');
    expect(fns).toHaveLength(5);
    const roles = new Set(fns.map(([, f]) => f.Properties.Role['Fn::GetAtt'][0]));
    expect(roles.size).toBe(5);
    for (const [, f] of fns) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
      const logGroup = resources[f.Properties.LoggingConfig.LogGroup.Ref as string]!;
      expect(logGroup.Properties.RetentionInDays).toBe(90);
    }
    for (const [, r] of byType('AWS::IAM::Role')) expect(r.Properties.ManagedPolicyArns).toBeUndefined();
    expect(resources[fnId('plans a check run')]!.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resources[fnId('fetches one CRL')]!.Properties.ReservedConcurrentExecutions).toBe(4);
    expect(resources[fnId('sends due notices')]!.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resources[fnId('plans a sweep')]!.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(resources[fnId('sends due notices')]!.Properties.Environment.Variables).toMatchObject({
      REVWATCH_SENDER: 'revwatch@ca.example',
      REVWATCH_DEFAULT_RECIPIENTS: 'compliance@ca.example',
    });
    expect(resources[fnId('forum digest')]!.Properties.Environment.Variables).toMatchObject({
      REVWATCH_DIGEST_RECIPIENTS: 'compliance@ca.example',
    });
  });

  it('allows no wildcard action and no wildcard resource in any IAM statement (but the evidence prefixes, see evidence-bucket.test.ts)', () => {
    const policies = byType('AWS::IAM::Policy');
    expect(policies.length).toBeGreaterThanOrEqual(4);
    let statements = 0;
    for (const [, p] of policies) {
      for (const s of p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
        statements++;
        // The two object-prefix grants, s3:PutObject on <evidence bucket>/crls/* (worker) and /site/* (digest),
        // asserted exactly in evidence-bucket.test.ts.
        // And the worker's s3:PutObject + s3:GetObject on <good-answer bucket>/good-answers/*, asserted there too.
        // And the worker's s3:PutObject + s3:GetObject on <evidence bucket>/crls/* (a sweep job reads the previous CRL).
        if (
          JSON.stringify(s.Action) === JSON.stringify(['s3:PutObject', 's3:GetObject']) &&
          ['/good-answers/*', '/crls/*'].includes(
            strings(s.Resource)
              .filter((r) => r.includes('*'))
              .join(),
          )
        )
          continue;
        if (
          s.Action === 's3:PutObject' &&
          ['/crls/*', '/site/*'].includes(
            strings(s.Resource)
              .filter((r) => r.includes('*'))
              .join(),
          )
        )
          continue;
        for (const a of list(s.Action)) expect(a, JSON.stringify(s)).not.toContain('*');
        for (const r of strings(s.Resource)) expect(r, JSON.stringify(s)).not.toContain('*');
      }
    }
    expect(statements).toBeGreaterThan(10);
  });

  it.each([
    ['plans a check run', ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']],
    ['fetches one CRL', ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']],
    ['sends due notices', ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem']],
    ['forum digest', ['GetItem', 'Query', 'PutItem', 'BatchWriteItem']],
    ['plans a sweep', ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem', 'BatchWriteItem']],
  ])('grants the %s function only the DynamoDB actions it issues, on the table alone', (word, actions) => {
    const tableId = byType('AWS::DynamoDB::Table')[0]![0];
    const onTable = (s: { Resource: unknown }) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] });
    const dynamo = statementsOf(roleOf(word)).filter((s) => list(s.Action).some((a) => a.startsWith('dynamodb:')));
    expect(
      dynamo
        .filter(onTable)
        .flatMap((s) => list(s.Action))
        .sort(),
    ).toEqual(actions.map((a) => `dynamodb:${a}`).sort());
    // Only the planner reads the polling index, with Query, on that index alone.
    const onIndex = dynamo.filter((s) => !onTable(s));
    if (word === 'plans a check run') {
      expect(onIndex).toHaveLength(1);
      expect(onIndex[0]!.Action).toBe('dynamodb:Query');
      expect(onIndex[0]!.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/poll-due']] });
    } else expect(onIndex).toEqual([]);
  });

  it('lets only the notifier and the digest send mail, only as the configured sender and identity', () => {
    const ses = byType('AWS::IAM::Policy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument.Statement as any[]).filter((s) => list(s.Action).some((a: string) => a.startsWith('ses:'))),
    );
    expect(ses).toHaveLength(2);
    for (const s of ses) {
      expect(s.Action).toBe('ses:SendRawEmail');
      expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'revwatch@ca.example' } });
      expect(strings(s.Resource).join('')).toMatch(/:ses:.*:identity\/ca\.example$/);
    }
    for (const word of ['plans a check run', 'fetches one CRL', 'plans a sweep'])
      expect(statementsOf(roleOf(word)).some((s) => list(s.Action).some((a) => a.startsWith('ses:')))).toBe(false);
  });

  it('schedules checks every 15 minutes, sweeps every 4 hours, notices after each run and hourly, and the digest weekly', () => {
    const target = (word: string) => ({ Arn: { 'Fn::GetAtt': [fnId(word), 'Arn'] }, Id: Match.anyValue() });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [target('plans a check run')],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(4 hours)', Targets: [target('plans a sweep')] });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)', Targets: [target('sends due notices')] });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 8 ? * MON *)', Targets: [target('forum digest')] });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.anyValue() },
      EventPattern: { source: ['revwatch'], 'detail-type': ['Check Completed'] },
      Targets: [target('sends due notices')],
    });
    // Each finished sweep: the notifier mails new CRL-health violations (src/notify/crl-health-notices.ts).
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.anyValue() },
      EventPattern: { source: ['revwatch'], 'detail-type': ['Sweep Completed'] },
      Targets: [target('sends due notices')],
    });
  });

  it('fans out through a queue with a dead-letter queue after three receives, consumed one job at a time', () => {
    const queues = byType('AWS::SQS::Queue');
    expect(queues).toHaveLength(2);
    const [dlqId] = queues.find(([, q]) => !q.Properties.RedrivePolicy)!;
    const [, jobs] = queues.find(([, q]) => q.Properties.RedrivePolicy)!;
    expect(jobs.Properties).toMatchObject({
      VisibilityTimeout: 1800,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId('fetches one CRL') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Both queues refuse plain HTTP.
    const policies = byType('AWS::SQS::QueuePolicy');
    expect(policies).toHaveLength(2);
    for (const [, p] of policies) expect(JSON.stringify(p.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    // Failed scheduled invocations also end up in the dead-letter queue.
    for (const word of ['plans a check run', 'sends due notices', 'forum digest', 'plans a sweep']) {
      expect(resources[fnId(word)]!.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });
    }
  });

  it('alarms to one topic on dead letters, function errors, an hour without a finished check, and stale CCADB disclosures', () => {
    const alarms = byType('AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(8);
    const [topicId] = byType('AWS::SNS::Topic')[0]!;
    for (const [, a] of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const word of ['plans a check run', 'fetches one CRL', 'sends due notices', 'forum digest', 'plans a sweep']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(word) } }],
        Threshold: 1,
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'revwatch',
      MetricName: 'ChecksCompleted',
      Dimensions: [{ Name: 'service', Value: 'revwatch' }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // The sweeper's 0/1 metric (functions/sweeper.ts): any 1 in an hour alarms; between two sweeps the state holds.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'revwatch',
      MetricName: 'CcadbDisclosureStale',
      Dimensions: [{ Name: 'service', Value: 'revwatch' }],
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@ca.example' });
  });

  it('keeps every function bundle under 2 MB', () => {
    const bundles = readdirSync(outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => statSync(join(outdir, d, 'index.mjs')).size);
    expect(bundles).toHaveLength(5);
    for (const size of bundles) expect(size).toBeLessThan(MAX_BUNDLE_BYTES);
  });

  it('takes schedules, concurrency and memory from context, and refuses bad values with one line', () => {
    const custom = synth(
      {
        sender: 'r@ca.example',
        checkSchedule: 'rate(5 minutes)',
        digestSchedule: 'cron(0 6 ? * FRI *)',
        sweepSchedule: 'rate(6 hours)',
        workerConcurrency: '12',
        workerMemory: '3008',
        logRetentionDays: '365',
        ocspPerHost: '8',
        ocspIntervalMs: '0',
      },
      false,
    );
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(0 6 ? * FRI *)' });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    custom.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 12, MemorySize: 3008 });
    custom.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REVWATCH_OCSP_PER_HOST: '8', REVWATCH_OCSP_INTERVAL_MS: '0' }) },
    });
    const read = (ctx: Record<string, string>) => () => readStackConfig((k) => ctx[k]);
    expect(read({})).toThrow('context "sender" is required: npx cdk deploy -c sender=revwatch@your-domain.example');
    expect(read({ sender: 'nope' })).toThrow('context "sender": "nope" is not an email address');
    expect(read({ sender: 'a@b.example', checkSchedule: 'rate(12 hours)' })).toThrow(/outside 5 minutes to 6 hours/);
    expect(read({ sender: 'a@b.example', checkSchedule: 'every 5 minutes' })).toThrow(/must be rate\(\.\.\.\) or cron\(\.\.\.\)/);
    expect(read({ sender: 'a@b.example', sweepSchedule: 'hourly' })).toThrow(
      'context "sweepSchedule" must be rate(...) or cron(...), not "hourly"',
    );
    expect(read({ sender: 'a@b.example', workerConcurrency: '0' })).toThrow(/integer from 1 to 100/);
    expect(read({ sender: 'a@b.example', logRetentionDays: '45' })).toThrow(/must be one of/);
  }, 120_000);

  it('synthesizes with `npx cdk synth` offline, and stops with one line without a sender', async () => {
    const out = mkdtempSync(join(tmpdir(), 'revwatch-cdk-cli-'));
    const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
    const ok = await exec('npx', ['cdk', 'synth', '-c', 'sender=revwatch@ca.example', '--quiet', '-o', out], { env, encoding: 'utf8' });
    expect(ok.stderr).not.toMatch(/AwsSolutions-/);
    const synthesized = JSON.parse(readFileSync(join(out, 'revwatch.template.json'), 'utf8')) as { Resources: Record<string, Resource> };
    expect(Object.values(synthesized.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(5);
    const bad = await exec('npx', ['cdk', 'synth', '--quiet', '-o', out], { env, encoding: 'utf8' }).then(
      () => null,
      (err: { stderr: string }) => err,
    );
    expect(bad?.stderr).toContain('revwatch: context "sender" is required');
  }, 180_000);
});
