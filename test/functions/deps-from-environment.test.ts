/**
 * The handlers' real wiring: each `…DepsFromEnvironment` reads the variables
 * the stack sets (ENV, shared with infra/revwatch-stack.ts) and builds adapters
 * that talk to exactly those resources. The SDK clients are mocked at their
 * `send`, so nothing leaves the process; what is checked is which table,
 * queue, bus and identity each request names.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendRawEmailCommand, SESClient } from '@aws-sdk/client-ses';
import { plannerDepsFromEnvironment } from '../../functions/planner.js';
import { workerDepsFromEnvironment } from '../../functions/worker.js';
import { sweeperDepsFromEnvironment } from '../../functions/sweeper.js';
import { mailingDepsFromEnvironment } from '../../functions/shared/mailing.js';
import { ConfigError } from '../../src/runtime/errors.js';
import { ENV } from '../../src/runtime/env.js';
import type { RunRecord } from '../../src/ports/index.js';

const TABLE = 'revwatch-table-from-env';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-from-env';
const BUS = 'bus-from-env';
const RUN: RunRecord = {
  runId: 'r1',
  startedAt: 1,
  finishedAt: 2,
  certificates: 3,
  sourcesFailed: 0,
  observationsWritten: 4,
  itemsWritten: 5,
};

const doc = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const events = mockClient(EventBridgeClient);
const ses = mockClient(SESClient);

afterEach(() => {
  doc.reset();
  sqs.reset();
  events.reset();
  ses.reset();
});

/** Reads a case through the store the deps hold: the table the request names is the one the environment gave. */
async function tableOf(store: { getCase(id: string): Promise<unknown> }): Promise<string | undefined> {
  doc.on(GetCommand).resolves({});
  await store.getCase('c1');
  return doc.commandCalls(GetCommand)[0]?.args[0].input.TableName;
}

describe('plannerDepsFromEnvironment', () => {
  const env = { [ENV.table]: TABLE, [ENV.jobQueueUrl]: QUEUE, [ENV.eventBus]: BUS };

  it('reads from the table, queues on the queue and announces on the bus the environment names', async () => {
    const deps = plannerDepsFromEnvironment(env);
    expect(await tableOf(deps.store)).toBe(TABLE);
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await deps.queue.enqueue([{ v: 1, runId: 'r1', jobId: 'j1' }]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await deps.events.checkCompleted(RUN);
    expect(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.EventBusName).toBe(BUS);
  });

  it.each([ENV.table, ENV.jobQueueUrl, ENV.eventBus])('refuses to start without %s', (name) => {
    expect(() => plannerDepsFromEnvironment({ ...env, [name]: undefined })).toThrow(new ConfigError(`${name} is not set`));
  });
});

describe('sweeperDepsFromEnvironment', () => {
  const env = { [ENV.table]: TABLE, [ENV.jobQueueUrl]: QUEUE, [ENV.eventBus]: BUS };

  it('queues sweep jobs on the queue the environment names, and has no CCADB refresh without its URL', async () => {
    const deps = sweeperDepsFromEnvironment(env);
    expect(deps.ccadbRefresh).toBeUndefined();
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await deps.queue.enqueue([{ v: 1, runId: 'sweep-1', jobId: 's0' }]);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE);
    expect(sweeperDepsFromEnvironment({ ...env, [ENV.ccadbReportUrl]: 'https://ccadb.example/r.csv' }).ccadbRefresh).toBeTypeOf('function');
  });

  it.each([ENV.table, ENV.jobQueueUrl, ENV.eventBus])('refuses to start without %s', (name) => {
    expect(() => sweeperDepsFromEnvironment({ ...env, [name]: undefined })).toThrow(new ConfigError(`${name} is not set`));
  });
});

describe('workerDepsFromEnvironment', () => {
  const env = { [ENV.table]: TABLE, [ENV.eventBus]: BUS, [ENV.ocspPerHost]: '7', [ENV.ocspIntervalMs]: '25' };

  it('uses the table, the bus and the OCSP limits the environment gives', async () => {
    const deps = workerDepsFromEnvironment(env);
    expect(await tableOf(deps.store)).toBe(TABLE);
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await deps.events.checkCompleted(RUN);
    expect(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!.EventBusName).toBe(BUS);
    expect(deps.ocspLimits).toEqual({ ocspPerHost: 7, ocspMinIntervalMs: 25 });
  });

  it('refuses an OCSP limit out of range, naming the variable', () => {
    expect(() => workerDepsFromEnvironment({ ...env, [ENV.ocspPerHost]: '0' })).toThrow(ConfigError);
    expect(() => workerDepsFromEnvironment({ ...env, [ENV.ocspPerHost]: '0' })).toThrow(ENV.ocspPerHost);
  });
});

describe('mailingDepsFromEnvironment (notifier, digest)', () => {
  const env = {
    [ENV.table]: TABLE,
    [ENV.sender]: 'revwatch@ca.example',
    [ENV.defaultRecipients]: 'a@ca.example, b@ca.example',
    [ENV.digestRecipients]: 'forum@ca.example',
  };

  it('uses the table, sends through SES, and reads the sender and recipients', async () => {
    const deps = mailingDepsFromEnvironment(env);
    expect(await tableOf(deps.store)).toBe(TABLE);
    expect(deps.mail).toEqual({
      sender: 'revwatch@ca.example',
      defaultRecipients: ['a@ca.example', 'b@ca.example'],
      digestRecipients: ['forum@ca.example'],
    });
    ses.on(SendRawEmailCommand).resolves({ MessageId: 'm1' });
    await deps.mailer.send({
      from: deps.mail.sender,
      to: ['a@ca.example'],
      subject: 'revwatch: test',
      text: 'hello',
      date: new Date(0),
      attachments: [],
    });
    const raw = Buffer.from(ses.commandCalls(SendRawEmailCommand)[0]!.args[0].input.RawMessage!.Data!).toString('utf8');
    expect(raw).toContain('Subject: revwatch: test');
    expect(raw).toContain('From: revwatch@ca.example');
  });

  it.each([ENV.table, ENV.sender])('refuses to start without %s', (name) => {
    expect(() => mailingDepsFromEnvironment({ ...env, [name]: undefined })).toThrow(new ConfigError(`${name} is not set`));
  });

  it('refuses a recipient that is not an address, naming the variable', () => {
    expect(() => mailingDepsFromEnvironment({ ...env, [ENV.digestRecipients]: 'forum' })).toThrow(
      `${ENV.digestRecipients}: "forum" is not an email address`,
    );
  });
});
