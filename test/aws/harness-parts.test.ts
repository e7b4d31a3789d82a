/**
 * The harness's own parts, without the network namespace: the IAM matcher the
 * policy check rests on (negative controls: a missing grant, a wrong prefix, a
 * wrong From address are refused), schedule expressions, event patterns, and
 * the SQS emulator's visibility timeout, redrive and size limit.
 */
import { describe, expect, it } from 'vitest';
import { matchesPattern, occurrences } from './harness.js';
import { SqsEmulator, MAX_MESSAGE_BYTES } from './sqs-emulator.js';
import { allows, type PolicyStatementDef } from './template.js';

const statements: PolicyStatementDef[] = [
  { effect: 'Allow', actions: ['dynamodb:GetItem', 'dynamodb:Query'], resources: ['arn:aws:dynamodb:r:a:table/T'], conditions: {} },
  { effect: 'Allow', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::b/crls/*'], conditions: {} },
  {
    effect: 'Allow',
    actions: ['ses:SendRawEmail'],
    resources: ['arn:aws:ses:r:a:identity/ca.example'],
    conditions: { StringEquals: { 'ses:FromAddress': 'revwatch@ca.example' } },
  },
];

describe('the policy check', () => {
  it('allows exactly the granted action on the granted resource', () => {
    expect(allows(statements, 'dynamodb:GetItem', 'arn:aws:dynamodb:r:a:table/T', {})).toBe(true);
    expect(allows(statements, 'DynamoDB:getitem', 'arn:aws:dynamodb:r:a:table/T', {})).toBe(true);
    expect(allows(statements, 'dynamodb:BatchGetItem', 'arn:aws:dynamodb:r:a:table/T', {})).toBe(false);
    expect(allows(statements, 'dynamodb:Query', 'arn:aws:dynamodb:r:a:table/T/index/poll', {})).toBe(false);
  });

  it('matches object wildcards within their prefix only', () => {
    expect(allows(statements, 's3:PutObject', 'arn:aws:s3:::b/crls/ab.crl', {})).toBe(true);
    expect(allows(statements, 's3:PutObject', 'arn:aws:s3:::b/site/index.html', {})).toBe(false);
    expect(allows(statements, 's3:GetObject', 'arn:aws:s3:::b/crls/ab.crl', {})).toBe(false);
  });

  it('holds SES to its ses:FromAddress condition', () => {
    const identity = 'arn:aws:ses:r:a:identity/ca.example';
    expect(allows(statements, 'ses:SendRawEmail', identity, { 'ses:FromAddress': 'revwatch@ca.example' })).toBe(true);
    expect(allows(statements, 'ses:SendRawEmail', identity, { 'ses:FromAddress': 'other@ca.example' })).toBe(false);
    expect(allows(statements, 'ses:SendRawEmail', identity, {})).toBe(false);
  });

  it('lets a Deny win over an Allow', () => {
    const denied = [...statements, { effect: 'Deny', actions: ['dynamodb:*'], resources: ['*'], conditions: {} }];
    expect(allows(denied, 'dynamodb:GetItem', 'arn:aws:dynamodb:r:a:table/T', {})).toBe(false);
  });
});

describe('schedules and patterns', () => {
  const t0 = Date.UTC(2026, 11, 7, 1, 2, 3);

  it('counts rate schedules from their start and finds cron occurrences in UTC', () => {
    expect(occurrences('rate(15 minutes)', t0, t0, t0 + 45 * 60_000)).toEqual([1, 2, 3].map((k) => t0 + k * 15 * 60_000));
    expect(occurrences('rate(1 hour)', t0, t0 + 10 * 60_000, t0 + 50 * 60_000)).toEqual([]);
    // 2026-12-07 is a Monday: the next Monday 08:00 after 01:02 is the same day.
    expect(occurrences('cron(0 8 ? * MON *)', t0, t0, t0 + 8 * 86_400_000).map((t) => new Date(t).toISOString())).toEqual([
      '2026-12-07T08:00:00.000Z',
      '2026-12-14T08:00:00.000Z',
    ]);
  });

  it('matches event patterns field by field, lists as alternatives', () => {
    const pattern = { source: ['revwatch'], 'detail-type': ['Check Completed'] };
    expect(matchesPattern(pattern, { source: 'revwatch', 'detail-type': 'Check Completed', detail: {} })).toBe(true);
    expect(matchesPattern(pattern, { source: 'revwatch', 'detail-type': 'Scheduled Event' })).toBe(false);
    expect(matchesPattern({ detail: { runId: [{ prefix: 'a' }] } }, { detail: { runId: 'abc' } })).toBe(true);
    expect(() => matchesPattern({ detail: { n: [{ numeric: ['>', 1] }] } }, { detail: { n: 2 } })).toThrow(/not emulated/);
  });
});

describe('the SQS emulator', () => {
  const queue = (name: string, redrive: { deadLetterArn: string; maxReceiveCount: number } | null) => ({
    logicalId: name,
    name,
    arn: `arn:aws:sqs:r:a:${name}`,
    url: `http://sqs/a/${name}`,
    visibilityTimeoutSeconds: 60,
    redrive,
  });
  const call = async (sqs: SqsEmulator, action: string, input: Record<string, unknown>) => {
    const reply = await sqs.backend({
      method: 'POST',
      path: '/',
      headers: { 'x-amz-target': `AmazonSQS.${action}` },
      body: Buffer.from(JSON.stringify(input)),
    });
    return { status: reply.status, body: JSON.parse(reply.body.toString('utf8')) as Record<string, any> };
  };

  it('hides a received message for the visibility timeout, then redrives it after maxReceiveCount receives', async () => {
    let now = 0;
    const sqs = new SqsEmulator(() => now);
    const dlq = queue('dlq', null);
    const jobs = queue('jobs', { deadLetterArn: dlq.arn, maxReceiveCount: 2 });
    sqs.createQueue(dlq);
    sqs.createQueue(jobs);
    await call(sqs, 'SendMessage', { QueueUrl: jobs.url, MessageBody: 'poison' });
    const receive = async () => (await call(sqs, 'ReceiveMessage', { QueueUrl: jobs.url, MaxNumberOfMessages: 1 })).body.Messages;
    const first = await receive();
    expect(first[0].Attributes.ApproximateReceiveCount).toBe('1');
    expect(await receive()).toEqual([]);
    now += 59_000;
    expect(await receive()).toEqual([]);
    now += 2_000;
    expect((await receive())[0].Attributes.ApproximateReceiveCount).toBe('2');
    now += 61_000;
    // The third receive would exceed maxReceiveCount: the message moves to the dead-letter queue instead.
    expect(await receive()).toEqual([]);
    expect(sqs.deadLettered.map((d) => [d.body, d.receives])).toEqual([['poison', 2]]);
    expect(sqs.depth(dlq.url)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('deletes by receipt handle and refuses a message over 256 KiB', async () => {
    const sqs = new SqsEmulator(() => 0);
    const q = queue('q', null);
    sqs.createQueue(q);
    await call(sqs, 'SendMessage', { QueueUrl: q.url, MessageBody: 'x' });
    const [m] = (await call(sqs, 'ReceiveMessage', { QueueUrl: q.url })).body.Messages;
    expect((await call(sqs, 'DeleteMessage', { QueueUrl: q.url, ReceiptHandle: m.ReceiptHandle })).status).toBe(200);
    expect(sqs.depth(q.url)).toEqual({ visible: 0, inFlight: 0 });
    const big = await call(sqs, 'SendMessage', { QueueUrl: q.url, MessageBody: 'x'.repeat(MAX_MESSAGE_BYTES + 1) });
    expect(big.status).toBe(400);
    expect(big.body.__type).toMatch(/InvalidParameterValue/);
  });
});
