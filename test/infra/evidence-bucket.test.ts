/**
 * The evidence bucket in the synthesized template (cdk-nag AwsSolutions runs
 * on every synth here and throws on anything not acknowledged): versioned,
 * encrypted, never public, TLS only, retained, access-logged into its own
 * retained log bucket, old CRLs moved to Standard-IA, Object Lock in
 * governance mode only when the context asks; and the worker's grant is
 * s3:PutObject and s3:GetObject on the crls/ prefix of that bucket, nothing else of S3.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStackConfig } from '../../infra/config.js';
import { RevwatchStack } from '../../infra/revwatch-stack.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

function synth(context: Record<string, string>): Record<string, Resource> {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'revwatch-evidence-cdk-')),
    context: { sender: 'revwatch@ca.example', ...context },
  });
  const stack = new RevwatchStack(app, 'revwatch', { config: readStackConfig((k) => app.node.tryGetContext(k)) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return (
    JSON.parse(readFileSync(assembly.getStackArtifact(stack.artifactId).templateFullPath, 'utf8')) as {
      Resources: Record<string, Resource>;
    }
  ).Resources;
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(strings) : v && typeof v === 'object' ? Object.values(v).flatMap(strings) : [];

describe('evidence bucket', { timeout: 180_000 }, () => {
  const resources = synth({});
  const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
  const evidence = buckets.find(([, r]) => r.Properties.VersioningConfiguration)!;
  const logs = buckets.find(([id]) => id === evidence[1].Properties.LoggingConfiguration.DestinationBucketName.Ref)!;
  const goodAnswers = buckets.find(([id]) => id !== evidence[0] && id !== logs[0])!;

  it('is versioned, encrypted, private, retained, access-logged, and moves old CRLs to Standard-IA', () => {
    expect(buckets).toHaveLength(3); // the evidence, its access logs, and the good-answer log (good-answers-bucket.ts)
    const p = evidence[1].Properties;
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(evidence[1].DeletionPolicy).toBe('Retain');
    expect(evidence[1].UpdateReplacePolicy).toBe('Retain');
    expect(p.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logs[0] }, LogFilePrefix: 'evidence/' });
    expect(p.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ Prefix: 'crls/', Status: 'Enabled', Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }] }),
    ]);
    expect(p.ObjectLockEnabled).toBeUndefined();
    expect(logs[1].DeletionPolicy).toBe('Retain');
    expect(logs[1].Properties.PublicAccessBlockConfiguration.BlockPublicAcls).toBe(true);
  });

  it('refuses plain HTTP on every bucket', () => {
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::S3::BucketPolicy');
    for (const [id] of [evidence, logs, goodAnswers]) {
      const policy = policies.find((r) => r.Properties.Bucket.Ref === id)!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('grants the worker s3:PutObject and s3:GetObject on the crls/ prefix and the digest s3:PutObject on site/ of that bucket only, and no other function anything of S3', () => {
    const s3Statements = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([, r]) =>
        (r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).map((s) => ({
          roles: r.Properties.Roles,
          s,
        })),
      )
      .filter(({ s }) => [s.Action].flat().some((a) => a.startsWith('s3:')))
      // The good-answer bucket's grants are asserted below.
      .filter(({ s }) => !JSON.stringify(s.Resource).includes(goodAnswers[0]));
    expect(s3Statements).toHaveLength(2);
    const fn = (word: string) =>
      Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes(word))!;
    for (const [word, prefix, action] of [
      ['fetches one CRL', '/crls/*', ['s3:PutObject', 's3:GetObject']],
      ['forum digest', '/site/*', 's3:PutObject'],
    ] as const) {
      const f = fn(word);
      const mine = s3Statements.filter(
        ({ roles }) => JSON.stringify(roles) === JSON.stringify([{ Ref: f.Properties.Role['Fn::GetAtt'][0] }]),
      );
      expect(mine, word).toHaveLength(1);
      const { s } = mine[0] as unknown as { s: { Action: string; Resource: unknown; Effect: string } };
      expect(s).toEqual({
        Effect: 'Allow',
        Action: action,
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [evidence[0], 'Arn'] }, prefix]] },
      });
      expect(strings(s.Resource).filter((x) => x.includes('*'))).toEqual([prefix]);
      expect(f.Properties.Environment.Variables.REVWATCH_EVIDENCE_BUCKET).toEqual({ Ref: evidence[0] });
    }
  });

  it('keeps the good-answer log in a bucket of its own: unversioned, unlocked, expiring good-answers/ after four days', () => {
    const p = goodAnswers[1].Properties;
    expect(p.VersioningConfiguration).toBeUndefined();
    expect(p.ObjectLockEnabled).toBeUndefined();
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration).toEqual([{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    expect(p.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(p.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logs[0] }, LogFilePrefix: 'good-answers/' });
    expect(p.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Prefix: 'good-answers/',
        Status: 'Enabled',
        ExpirationInDays: 4,
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
    // Locking it even with the evidence lock on: the lock is the evidence bucket's alone.
    const locked = Object.values(synth({ evidenceObjectLockDays: '3650' })).filter(
      (r) => r.Type === 'AWS::S3::Bucket' && r.Properties.ObjectLockEnabled,
    );
    expect(locked).toHaveLength(1);
    expect(locked[0]!.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('grants the worker alone Put/Get on good-answers/ and ListBucket under that prefix, nothing else of that bucket', () => {
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument.Statement as Record<string, unknown>[]).map((s) => ({ roles: r.Properties.Roles, s })))
      .filter(({ s }) => JSON.stringify(s.Resource).includes(goodAnswers[0]));
    const worker = Object.values(resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('fetches one CRL'),
    )!;
    for (const { roles } of statements) expect(roles).toEqual([{ Ref: worker.Properties.Role['Fn::GetAtt'][0] }]);
    expect(statements.map(({ s }) => s)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [goodAnswers[0], 'Arn'] }, '/good-answers/*']] },
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: { 'Fn::GetAtt': [goodAnswers[0], 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['good-answers/*'] } },
      },
    ]);
    expect(worker.Properties.Environment.Variables.REVWATCH_GOOD_ANSWERS_BUCKET).toEqual({ Ref: goodAnswers[0] });
  });

  it('turns Object Lock on in governance mode when the context asks, and refuses a bad value with one line', () => {
    const locked = Object.values(synth({ evidenceObjectLockDays: '3650', evidenceInfrequentAccessDays: '30' })).find(
      (r) => r.Type === 'AWS::S3::Bucket' && r.Properties.VersioningConfiguration,
    )!;
    expect(locked.Properties.ObjectLockEnabled).toBe(true);
    expect(locked.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 3650 } },
    });
    expect(locked.Properties.LifecycleConfiguration.Rules[0].Transitions).toEqual([{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }]);
    expect(() => readStackConfig((k) => ({ sender: 'a@b.example', evidenceInfrequentAccessDays: '7' })[k])).toThrow(
      'context "evidenceInfrequentAccessDays" must be an integer from 30 to 3650, not "7"',
    );
  });
});

describe('daily CCADB refresh switch', { timeout: 180_000 }, () => {
  const functionOf = (resources: Record<string, Resource>, word: string) => {
    const [, fn] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes(word),
    )!;
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const actions = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === roleId))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
      .flatMap((s) => [s.Action].flat());
    return { env: fn.Properties.Environment.Variables as Record<string, unknown>, actions };
  };

  it('is off without a report URL, and with one gives the sweep planner (not the check planner) the URL and DeleteItem', () => {
    const off = functionOf(synth({}), 'plans a sweep');
    expect(off.env.REVWATCH_CCADB_REPORT_URL).toBeUndefined();
    expect(off.actions).not.toContain('dynamodb:DeleteItem');
    const url = 'https://ccadb.example/AllCertificateRecordsCSVFormatv4';
    const withUrl = synth({ ccadbReportUrl: url });
    const on = functionOf(withUrl, 'plans a sweep');
    expect(on.env.REVWATCH_CCADB_REPORT_URL).toBe(url);
    expect(on.actions).toContain('dynamodb:DeleteItem');
    // The check planner has no part in it: no URL, no delete (and no HTTP stack in its bundle).
    const planner = functionOf(withUrl, 'plans a check run');
    expect(planner.env.REVWATCH_CCADB_REPORT_URL).toBeUndefined();
    expect(planner.actions).not.toContain('dynamodb:DeleteItem');
    expect(() => readStackConfig((k) => ({ sender: 'a@b.example', ccadbReportUrl: 'http://plain.example/x.csv' })[k])).toThrow(
      'context "ccadbReportUrl" must be an https URL, not "http://plain.example/x.csv"',
    );
  });
});
