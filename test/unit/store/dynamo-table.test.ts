/**
 * The table helper's own behaviour against a mocked DynamoDB client: what
 * dynalite never does (leave batch items unprocessed, throttle, fail), on a
 * fake clock, so the backoff is checked without waiting for it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { DynamoTable, StoreError, type Item } from '../../../src/adapters/aws/dynamo-table.js';
import { ABSENT, PRESENT, queryAll } from '../../../src/ports/table.js';

const TABLE = 'revwatch';
const ddb = mockClient(DynamoDBDocumentClient);
const items = (n: number, prefix = 'o'): Item[] =>
  Array.from({ length: n }, (_, i) => ({ pk: 'CERT#x', sk: `${prefix}${String(i).padStart(4, '0')}`, v: i }));
const awsError = (name: string, message: string): Error => Object.assign(new Error(message), { name });
type PutRequests = { PutRequest: { Item: Item } }[];

describe('DynamoTable', () => {
  let clock: FakeClock;
  let doc: DynamoDBDocumentClient;
  const table = (options: ConstructorParameters<typeof DynamoTable>[2] = {}): DynamoTable =>
    new DynamoTable(doc, TABLE, { clock, ...options });

  beforeEach(() => {
    ddb.reset();
    clock = new FakeClock('2026-05-01T00:00:00Z');
    doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  });
  afterEach(() => doc.destroy());

  describe('batchPut', () => {
    it('writes in chunks of 25, a repeated key once (its last item), and retries unprocessed items with backoff on the clock', async () => {
      const input = [...items(50), { pk: 'CERT#x', sk: 'o0003', v: 'last' }];
      let call = 0;
      ddb.on(BatchWriteCommand).callsFake((req: { RequestItems: Record<string, PutRequests> }) => {
        call++;
        const sent = req.RequestItems[TABLE]!;
        // The first request leaves 3 items over, their retry 1, the next one none.
        const leave = call === 1 ? 3 : call === 2 ? 1 : 0;
        return { UnprocessedItems: leave ? { [TABLE]: sent.slice(0, leave) } : {} };
      });
      const t = table({ writeConcurrency: 1 });
      await t.batchPut(input, 'observations');
      const calls = ddb
        .commandCalls(BatchWriteCommand)
        .map((c) => (c.args[0].input.RequestItems![TABLE] as PutRequests).map((r) => r.PutRequest.Item));
      expect(calls.map((c) => c.length)).toEqual([25, 3, 1, 25]);
      expect(calls.flat().find((i) => i.sk === 'o0003')).toEqual({ pk: 'CERT#x', sk: 'o0003', v: 'last' });
      expect(clock.sleeps).toEqual([100, 200]);
      expect(t.itemsWritten).toBe(50);
    });

    it('gives up after its attempts with a StoreError that names what was being stored, where', async () => {
      ddb.on(BatchWriteCommand).callsFake((req: { RequestItems: Record<string, PutRequests> }) => ({
        UnprocessedItems: { [TABLE]: req.RequestItems[TABLE]!.slice(0, 2) },
      }));
      const t = table({ writeConcurrency: 1, maxAttempts: 4 });
      const err = await t.batchPut(items(30), 'observations').catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({
        name: 'StoreError',
        message: 'storing 2 of 30 observations in table revwatch failed: DynamoDB left them unprocessed after 4 attempts',
      });
      expect((err as Error).cause).toBeInstanceOf(Error);
      expect(clock.sleeps).toEqual([100, 200, 400]);
      // The first chunk's other 23 items went through before it gave up; no further chunk was started.
      expect(t.itemsWritten).toBe(23);
      expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(4);
    });

    it('wraps an SDK failure with the SDK error as its cause, and starts no more chunks', async () => {
      const throttled = awsError('ProvisionedThroughputExceededException', 'Rate of requests exceeds the allowed throughput');
      ddb.on(BatchWriteCommand).rejects(throttled);
      const err = (await table({ writeConcurrency: 1 })
        .batchPut(items(100), 'evidence records')
        .catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(StoreError);
      expect(err.message).toBe(
        'storing 25 of 100 evidence records in table revwatch failed: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
      );
      expect(err.cause).toBe(throttled);
      expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(1);
    });

    it('keeps at most writeConcurrency requests in flight', async () => {
      let inFlight = 0;
      let most = 0;
      ddb.on(BatchWriteCommand).callsFake(async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return {};
      });
      const t = table({ writeConcurrency: 3 });
      await t.batchPut(items(250), 'observations');
      expect(ddb.commandCalls(BatchWriteCommand)).toHaveLength(10);
      expect(most).toBe(3);
      expect(t.itemsWritten).toBe(250);
    });

    it('caps the backoff', () => {
      const t = table({ backoffBaseMs: 100, backoffMaxMs: 1_000 });
      expect([1, 2, 3, 4, 5, 9].map((n) => t.backoffMs(n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    });
  });

  describe('batchGet', () => {
    it('retries unprocessed keys with backoff and counts the items read', async () => {
      ddb
        .on(BatchGetCommand)
        .resolvesOnce({ Responses: { [TABLE]: [{ pk: 'a', sk: '1' }] }, UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'a', sk: '2' }] } } })
        .resolvesOnce({ Responses: { [TABLE]: [{ pk: 'a', sk: '2' }] } });
      const t = table();
      const got = await t.batchGet(
        [
          { pk: 'a', sk: '1' },
          { pk: 'a', sk: '2' },
          { pk: 'a', sk: '3' },
        ],
        'records',
      );
      expect(got).toEqual([
        { pk: 'a', sk: '1' },
        { pk: 'a', sk: '2' },
      ]);
      expect(ddb.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems![TABLE]!.Keys).toEqual([{ pk: 'a', sk: '2' }]);
      expect(clock.sleeps).toEqual([100]);
      expect(t.itemsRead).toBe(2);
    });
  });

  describe('queryAll', () => {
    it('follows LastEvaluatedKey to the end, reads consistently, and counts every item read', async () => {
      ddb
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ sk: 'CERT#1' }, { sk: 'CERT#2' }], LastEvaluatedKey: { pk: 'CASE#c', sk: 'CERT#2' } })
        .resolvesOnce({ Items: [{ sk: 'CERT#3' }] });
      const t = table();
      const got = await queryAll(t, { pk: 'CASE#c', prefix: 'CERT#', projection: ['sk', 'certCount'] }, 'the certificates of case c');
      expect(got.map((i) => i.sk)).toEqual(['CERT#1', 'CERT#2', 'CERT#3']);
      const inputs = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
      expect(inputs[0]).toMatchObject({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
        ExpressionAttributeValues: { ':p': 'CASE#c', ':s': 'CERT#' },
        ProjectionExpression: '#p0,#p1',
        ExpressionAttributeNames: { '#p0': 'sk', '#p1': 'certCount' },
        ConsistentRead: true,
      });
      expect(inputs[0]!.ExclusiveStartKey).toBeUndefined();
      expect(inputs[1]!.ExclusiveStartKey).toEqual({ pk: 'CASE#c', sk: 'CERT#2' });
      expect(t.itemsRead).toBe(3);
    });

    it('queries an index on pk2/sk2 up to a bound, eventually consistent (all a GSI offers)', async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });
      await queryAll(table(), { pk: 'POLL#a', index: 'poll', upTo: '00000000000100#\uffff' }, 'the certificates due');
      const input = ddb.commandCalls(QueryCommand)[0]!.args[0].input;
      expect(input).toMatchObject({
        IndexName: 'poll',
        KeyConditionExpression: 'pk2 = :p AND sk2 <= :u',
        ExpressionAttributeValues: { ':p': 'POLL#a', ':u': '00000000000100#\uffff' },
      });
      expect(input.ConsistentRead).toBeUndefined();
    });

    it('wraps a failed page in a StoreError naming what was being read', async () => {
      ddb.on(QueryCommand).rejects(awsError('ResourceNotFoundException', 'Requested resource not found'));
      await expect(queryAll(table(), { pk: 'CASES' }, 'the cases')).rejects.toThrow(
        new StoreError('reading the cases from table revwatch failed: ResourceNotFoundException: Requested resource not found'),
      );
    });
  });

  describe('conditional writes', () => {
    it('putIfAbsent: true when written, false when the item exists, a StoreError for anything else', async () => {
      ddb
        .on(PutCommand)
        .resolvesOnce({})
        .rejectsOnce(awsError('ConditionalCheckFailedException', 'The conditional request failed'))
        .rejectsOnce(awsError('InternalServerError', 'boom'));
      const t = table();
      expect(await t.putIf({ pk: 'CASES', sk: 'CASE#a' }, ABSENT, 'case a')).toBe(true);
      expect(await t.putIf({ pk: 'CASES', sk: 'CASE#a' }, ABSENT, 'case a')).toBe(false);
      await expect(t.putIf({ pk: 'CASES', sk: 'CASE#a' }, ABSENT, 'case a')).rejects.toThrow(
        'storing case a in table revwatch failed: InternalServerError: boom',
      );
      expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.ConditionExpression).toBe('attribute_not_exists(pk)');
      expect(t.itemsWritten).toBe(1);
    });

    it('writes typed conditions and updates as the expressions a person would write', async () => {
      ddb.on(UpdateCommand).resolves({});
      ddb.on(PutCommand).resolves({});
      const t = table();
      await t.updateIf(
        { pk: 'CASE#c', sk: 'CERT#1' },
        { set: { ev: '{}', rev: 4 }, remove: ['pk2', 'sk2', 'pd'], add: { certCount: 1 } },
        { attr: 'rev', eq: 3 },
        'a record',
      );
      expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
        UpdateExpression: 'SET ev = :ev, rev = :rev1 REMOVE pk2, sk2, pd ADD certCount :certCount',
        ConditionExpression: 'rev = :rev',
        ExpressionAttributeValues: { ':rev': 3, ':ev': '{}', ':rev1': 4, ':certCount': 1 },
      });
      const claimable = {
        or: [
          ABSENT,
          { attr: 'st', eq: 'released' },
          {
            and: [
              { attr: 'st', eq: 'sending' },
              { attr: 'claimedAt', lt: 5 },
            ],
          },
        ],
      };
      await t.putIf({ pk: 'CASE#c', sk: 'NOTICE#k' }, claimable, 'a notice');
      expect(ddb.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({
        ConditionExpression: 'attribute_not_exists(pk) OR st = :st OR (st = :st1 AND claimedAt < :claimedAt)',
        ExpressionAttributeValues: { ':st': 'released', ':st1': 'sending', ':claimedAt': 5 },
      });
      await expect(t.updateIf({ pk: 'a', sk: 'b' }, { set: { 'a.b': 1 } }, PRESENT, 'x')).rejects.toThrow(/not a plain identifier/);
    });

    it('updateIf: the new item when applied, null when the condition failed', async () => {
      ddb
        .on(UpdateCommand)
        .resolvesOnce({ Attributes: { remaining: 0 } })
        .rejectsOnce(awsError('ConditionalCheckFailedException', 'The conditional request failed'));
      const t = table();
      const update = { add: { remaining: -1 } };
      expect(await t.updateIf({ pk: 'OPENRUNS', sk: 'RUN#r' }, update, PRESENT, 'run r', { returnNew: true })).toEqual({ remaining: 0 });
      expect(await t.updateIf({ pk: 'OPENRUNS', sk: 'RUN#r' }, update, PRESENT, 'run r', { returnNew: true })).toBeNull();
      expect(t.itemsWritten).toBe(1);
    });
  });
});
