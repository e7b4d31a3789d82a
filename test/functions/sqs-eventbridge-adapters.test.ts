/**
 * The JobQueue (SQS) and RunEvents (EventBridge) adapters at the SDK
 * boundary: what they send, and what they do when the service refuses part
 * of it. (No local SQS or EventBridge emulator runs here; the handler tests
 * use recording fakes at these ports.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { SqsJobQueue } from '../../src/adapters/aws/sqs-job-queue.js';
import { EventBridgeRunEvents } from '../../src/adapters/aws/eventbridge-run-events.js';
import type { JobMessage } from '../../src/ports/index.js';
import type { RunRecord } from '../../src/ports/store.js';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/revwatch-jobs';
const message = (i: number, pad = 0): JobMessage => ({
  v: 1,
  runId: 'r1',
  jobId: `j${i}`,
  job: {
    kind: 'ocsp',
    ocsp: [
      {
        kind: 'ocsp',
        url: `http://ocsp.example/${'x'.repeat(pad)}`,
        issuerSha256: 'ab',
        certificate: {
          sha256: 'cd',
          serial: '01',
          notAfter: 0,
          caseIds: ['c'],
          previous: null,
          record: { sources: {} },
          cases: [],
          sources: 1,
        },
      },
    ],
  },
});

describe('SqsJobQueue', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());

  it('sends ten messages per request and keeps each request under 256 KiB', async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const small = Array.from({ length: 23 }, (_, i) => message(i));
    // Three messages of ~100 KB: two fit in one request beside the last small ones, the third does not.
    const big = [0, 1, 2].map((i) => message(100 + i, 100_000));
    await new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE).enqueue([...small, ...big]);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 5, 1]);
    for (const c of calls) {
      expect(c.QueueUrl).toBe(QUEUE);
      expect(c.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(256 * 1024);
    }
    const sent = calls.flatMap((c) => c.Entries!.map((e) => JSON.parse(e.MessageBody!) as JobMessage));
    expect(sent.map((m) => m.jobId)).toEqual([...small, ...big].map((m) => m.jobId));
  });

  it('sends again only the entries SQS failed, and gives up with the reason after three attempts', async () => {
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'j0', MessageId: 'm0', MD5OfMessageBody: '' }],
        Failed: [{ Id: 'j1', Code: 'InternalError', SenderFault: false }],
      })
      .resolvesOnce({ Successful: [{ Id: 'j1', MessageId: 'm1', MD5OfMessageBody: '' }], Failed: [] });
    await new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE).enqueue([message(0), message(1)]);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    expect(calls[1]!.args[0].input.Entries!.map((e) => e.Id)).toEqual(['j1']);

    sqs.reset();
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: 'j0', Code: 'InternalError', Message: 'try later', SenderFault: false }] });
    await expect(new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE).enqueue([message(0)])).rejects.toThrow(
      'SQS refused 1 job message(s): InternalError try later',
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it('backs off 200 ms, then 400 ms, on the clock it is given', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [], Failed: [{ Id: 'j0', Code: 'ThrottlingException', Message: 'slow down', SenderFault: false }] });
    await expect(
      new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE, { attempts: 3, clock }).enqueue([message(0)]),
    ).rejects.toThrow('SQS refused 1 job message(s): ThrottlingException slow down');
    expect(clock.sleeps).toEqual([200, 400]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it("does not retry what SQS calls the sender's fault", async () => {
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: 'j0', Code: 'InvalidMessageContents', SenderFault: true }] });
    await expect(new SqsJobQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE).enqueue([message(0)])).rejects.toThrow(
      /InvalidMessageContents/,
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });
});

describe('EventBridgeRunEvents', () => {
  const events = mockClient(EventBridgeClient);
  afterEach(() => events.reset());
  const run: RunRecord = {
    runId: 'r1',
    startedAt: 1,
    finishedAt: 2,
    certificates: 3,
    sourcesFailed: 0,
    observationsWritten: 4,
    itemsWritten: 5,
  };

  it('puts one "Check Completed" event from source revwatch on the configured bus', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await new EventBridgeRunEvents(new EventBridgeClient({ region: 'eu-west-1' }), 'revwatch-bus').checkCompleted(run);
    const [entry] = events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries!;
    expect(entry).toEqual({ EventBusName: 'revwatch-bus', Source: 'revwatch', DetailType: 'Check Completed', Detail: JSON.stringify(run) });
  });

  it('fails when EventBridge refuses the entry (PutEvents answers 200 with a failed entry)', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }] });
    await expect(new EventBridgeRunEvents(new EventBridgeClient({ region: 'eu-west-1' }), 'b').checkCompleted(run)).rejects.toThrow(
      'EventBridge refused the "Check Completed" event: InternalFailure oops',
    );
  });
});
