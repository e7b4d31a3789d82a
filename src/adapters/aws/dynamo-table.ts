/**
 * The Table port (ports/table.ts) over DynamoDB: the deployed table in AWS and the embedded dynalite
 * locally, through the same document client. It turns the port's typed conditions and updates into
 * DynamoDB expressions, follows pagination (reading a page ahead), chunks batches (BatchWriteItem 25,
 * BatchGetItem 100) and retries what DynamoDB leaves unprocessed with backoff on the Clock. Every failure
 * comes out as a StoreError naming what was being stored or read, with the SDK's error as its cause; a
 * failed condition (ConditionalCheckFailedException) is an answer (false / null), not an error.
 *
 * Counts every item read and written, so a run can report what it cost.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { SystemClock } from '../system-clock.js';
import type { Clock } from '../../ports/index.js';
import type { Condition, Item, Key, QuerySpec, ScanPage, ScanSpec, Table, Update } from '../../ports/table.js';
import { StoreError } from '../../ports/store-error.js';
import { conditionExpression, Expression, queryInput } from './dynamo-expressions.js';
import { ensureDynamoTable } from './dynamo-table-setup.js';
import { POLL_DUE_INDEX, POLL_INDEX } from '../../store/poll-index.js';
import { mapLimit } from '../../util/map-limit.js';
import { backoffMs, retry, type RetryOptions } from '../../util/retry.js';

export type { Item, Key, QuerySpec } from '../../ports/table.js';
export { StoreError } from '../../ports/store-error.js';

export interface DynamoTableOptions {
  /** Backoff between retries of unprocessed batch items (and waiting for a table being created) sleeps on this clock. */
  readonly clock?: Clock;
  /** BatchWriteItem requests in flight at once. */
  readonly writeConcurrency?: number;
  /** Requests per batch chunk before unprocessed items are given up on (the first try included). */
  readonly maxAttempts?: number;
  /** The first retry waits this long; each further retry twice as long, up to `backoffMaxMs`. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** The low-level client, for ensureTable (describe and create). */
  readonly client?: DynamoDBClient;
}

/**
 * The table `tableName` through `client`. The SDK's logger middleware builds a redacted copy of every
 * response for a logger that, here, drops it: at 100,000 items a status or a plan that was half a second of
 * CPU. Nothing of ours logs through it, so it is removed.
 */
export function openDynamoTable(client: DynamoDBClient, options: DynamoTableOptions & { readonly tableName: string }): DynamoTable {
  client.middlewareStack.remove('loggerMiddleware');
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  return new DynamoTable(doc, options.tableName, { ...options, client });
}

/** BatchWriteItem takes at most 25 requests; BatchGetItem at most 100 keys. */
const WRITE_CHUNK = 25;
const GET_CHUNK = 100;

const isConditionFailure = (err: unknown): boolean => (err as Error | null)?.name === 'ConditionalCheckFailedException';
const keyOf = (i: Item): string => `${String(i.pk)}\u0000${String(i.sk)}`;

export class DynamoTable implements Table {
  readonly label: string;
  private readonly clock: Clock;
  private readonly client: DynamoDBClient | undefined;
  private readonly writeConcurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private written = 0;
  private read = 0;
  /** Learned by ensureTable: the indexes the table was created without. */
  private readonly missingIndexes = new Set<string>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly name: string,
    options: DynamoTableOptions = {},
  ) {
    this.label = `table ${name}`;
    this.clock = options.clock ?? new SystemClock();
    this.client = options.client;
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? 8);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 9);
    this.backoffBaseMs = options.backoffBaseMs ?? 100;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
  }

  /** Items written (puts, updates and deletes that took effect) since the table was opened. */
  get itemsWritten(): number {
    return this.written;
  }

  /** Items returned by queries and gets since the table was opened. */
  get itemsRead(): number {
    return this.read;
  }

  hasIndex(name: string): boolean {
    return !this.missingIndexes.has(name);
  }

  /** Creates the table when it does not exist (local mode), waits until it is ACTIVE, and learns which indexes it lacks. */
  async ensureTable(): Promise<void> {
    if (!this.client) throw new StoreError(`table ${this.name} was opened without a client that can describe it`);
    const indexes = await ensureDynamoTable(this.client, this.name, this.clock);
    this.missingIndexes.clear();
    for (const index of [POLL_INDEX, POLL_DUE_INDEX]) if (!indexes.includes(index)) this.missingIndexes.add(index);
  }

  /** The wait before retry number `retry` (1-based): exponential, capped. */
  backoffMs(retry: number): number {
    return backoffMs(retry, this.retryOptions);
  }

  /** Unprocessed batch items: `maxAttempts` requests per chunk, backing off on the clock. */
  private get retryOptions(): RetryOptions {
    return { attempts: this.maxAttempts, baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs, clock: this.clock };
  }

  private error(action: 'reading' | 'storing' | 'updating' | 'deleting', what: string, cause: unknown): StoreError {
    const where = action === 'reading' || action === 'deleting' ? 'from' : 'in';
    const detail = cause instanceof Error ? `${cause.name === 'Error' ? '' : `${cause.name}: `}${cause.message}` : String(cause);
    return new StoreError(`${action} ${what} ${where} table ${this.name} failed: ${detail}`, { cause });
  }

  /**
   * Hands each page of one partition to `onPage` in sort-key order. The next page is asked for before this one
   * is handed over, so the store and the caller work at the same time; a promise `onPage` returns is awaited
   * before the page after. When `onPage` fails, the page being read ahead is waited for and dropped.
   */
  async queryPages(q: QuerySpec, what: string, onPage: (items: Item[]) => void | Promise<void>): Promise<void> {
    const page = async (start: Record<string, unknown> | undefined) => {
      const input: QueryCommandInput = { ...queryInput(this.name, q), ExclusiveStartKey: start };
      try {
        return await this.doc.send(new QueryCommand(input));
      } catch (err) {
        throw this.error('reading', what, err);
      }
    };
    let next: ReturnType<typeof page> | null = page(undefined);
    while (next) {
      const r: Awaited<ReturnType<typeof page>> = await next;
      // Read ahead; a failure of that read surfaces when it is awaited, not as an unhandled rejection meanwhile.
      next = r.LastEvaluatedKey ? page(r.LastEvaluatedKey) : null;
      next?.catch(() => undefined);
      const items = (r.Items ?? []) as Item[];
      this.read += items.length;
      try {
        const wait = onPage(items);
        if (wait) await wait;
      } catch (err) {
        // Nothing is left reading once this returns.
        await next?.catch(() => undefined);
        throw err;
      }
    }
  }

  /** One page of one segment of a parallel Scan of the table (ports/table.ts). */
  async scanPage(scan: ScanSpec, what: string): Promise<ScanPage> {
    const filter = scan.filter ? conditionExpression(scan.filter) : null;
    try {
      const r = await this.doc.send(
        new ScanCommand({
          TableName: this.name,
          Segment: scan.segment,
          TotalSegments: scan.segments,
          ExclusiveStartKey: scan.start ? { pk: scan.start.pk, sk: scan.start.sk } : undefined,
          Limit: scan.limit,
          // Eventually consistent (half the read units of a consistent Scan): a stale copy is an older version of
          // the item, and the backfill's write is conditional on the item as it is now.
          ...(filter ? { FilterExpression: filter.text, ...filter.refs() } : {}),
        }),
      );
      const items = (r.Items ?? []) as Item[];
      this.read += items.length;
      const last = r.LastEvaluatedKey;
      return { items, scanned: r.ScannedCount ?? items.length, next: last ? { pk: String(last.pk), sk: String(last.sk) } : null };
    } catch (err) {
      throw this.error('reading', what, err);
    }
  }

  /** The last `limit` items of a partition, newest (highest sort key) first: one page. */
  async queryLatest(pk: string, limit: number, what: string): Promise<Item[]> {
    try {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': pk },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      const items = (r.Items ?? []) as Item[];
      this.read += items.length;
      return items;
    } catch (err) {
      throw this.error('reading', what, err);
    }
  }

  /** One item, read consistently unless told otherwise. */
  async get(key: Key, what: string, options: { consistent?: boolean } = {}): Promise<Item | null> {
    try {
      const r = await this.doc.send(
        new GetCommand({ TableName: this.name, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: options.consistent ?? true }),
      );
      if (!r.Item) return null;
      this.read++;
      return r.Item as Item;
    } catch (err) {
      throw this.error('reading', what, err);
    }
  }

  async put(item: Item, what: string): Promise<void> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.name, Item: item }));
      this.written++;
    } catch (err) {
      throw this.error('storing', what, err);
    }
  }

  async putIf(item: Item, condition: Condition, what: string): Promise<boolean> {
    const expr = conditionExpression(condition);
    const put = new PutCommand({ TableName: this.name, Item: item, ConditionExpression: expr.text, ...expr.refs() });
    return (await this.whenHeld('storing', what, () => this.doc.send(put))) !== null;
  }

  async updateIf(
    key: Key,
    update: Update,
    condition: Condition,
    what: string,
    options: { returnNew?: boolean } = {},
  ): Promise<Item | null> {
    const expr = new Expression();
    // The condition first, so its values take the plain placeholders (`rev = :rev`).
    const conditionText = expr.condition(condition);
    const updateText = expr.update(update);
    const command = new UpdateCommand({
      TableName: this.name,
      Key: { pk: key.pk, sk: key.sk },
      UpdateExpression: updateText,
      ConditionExpression: conditionText,
      ...expr.refs(),
      ReturnValues: options.returnNew ? 'ALL_NEW' : undefined,
    });
    const r = await this.whenHeld('updating', what, () => this.doc.send(command));
    return r && ((r.Attributes as Item | undefined) ?? {});
  }

  async deleteIf(key: Key, condition: Condition, what: string): Promise<boolean> {
    const expr = conditionExpression(condition);
    const command = new DeleteCommand({
      TableName: this.name,
      Key: { pk: key.pk, sk: key.sk },
      ConditionExpression: expr.text,
      ...expr.refs(),
    });
    return (await this.whenHeld('deleting', what, () => this.doc.send(command))) !== null;
  }

  /** A conditional write: its response, counted as one item written; null when the condition failed. */
  private async whenHeld<T>(action: 'storing' | 'updating' | 'deleting', what: string, send: () => Promise<T>): Promise<T | null> {
    try {
      const r = await send();
      this.written++;
      return r;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw this.error(action, what, err);
    }
  }

  /**
   * Puts items with BatchWriteItem: chunks of 25, up to `writeConcurrency` in flight, unprocessed items
   * retried with exponential backoff on the clock, up to `maxAttempts` requests per chunk. A key given twice
   * is written once, with its last item (BatchWriteItem refuses duplicates; one by one the last would win).
   * `noun` names the items, plural ("observations").
   */
  async batchPut(items: readonly Item[], noun: string): Promise<void> {
    const unique = [...new Map(items.map((i) => [keyOf(i), i])).values()];
    const chunks: Item[][] = [];
    for (let i = 0; i < unique.length; i += WRITE_CHUNK) chunks.push(unique.slice(i, i + WRITE_CHUNK));
    const describe = (n: number): string => (n === unique.length ? `${n} ${noun}` : `${n} of ${unique.length} ${noun}`);
    // A failed chunk stops the others from starting (mapLimit): the caller sees one error.
    await mapLimit(chunks, this.writeConcurrency, async (chunk) => {
      let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
      await retry(
        this.retryOptions,
        async () => {
          let r: BatchWriteCommandOutput;
          try {
            r = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.name]: pending } }));
          } catch (err) {
            throw this.error('storing', describe(pending.length), err);
          }
          const left = (r.UnprocessedItems?.[this.name] ?? []) as typeof pending;
          this.written += pending.length - left.length;
          pending = left;
          return pending.length === 0 ? { done: true, value: undefined } : { done: false };
        },
        () =>
          this.error('storing', describe(pending.length), new Error(`DynamoDB left them unprocessed after ${this.maxAttempts} attempts`)),
      );
    });
  }

  /** Gets items by key with BatchGetItem (consistent reads, chunks of 100, unprocessed keys retried). Missing keys are left out. */
  async batchGet(keys: readonly Key[], noun: string): Promise<Item[]> {
    const out: Item[] = [];
    for (let i = 0; i < keys.length; i += GET_CHUNK) {
      let pending: Item[] = keys.slice(i, i + GET_CHUNK).map((k) => ({ pk: k.pk, sk: k.sk }));
      await retry(
        this.retryOptions,
        async () => {
          let r: BatchGetCommandOutput;
          try {
            r = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true } } }));
          } catch (err) {
            throw this.error('reading', `${pending.length} ${noun}`, err);
          }
          const items = (r.Responses?.[this.name] ?? []) as Item[];
          for (const item of items) out.push(item);
          this.read += items.length;
          pending = (r.UnprocessedKeys?.[this.name]?.Keys ?? []) as Item[];
          return pending.length === 0 ? { done: true, value: undefined } : { done: false };
        },
        () =>
          this.error(
            'reading',
            `${pending.length} ${noun}`,
            new Error(`DynamoDB left them unprocessed after ${this.maxAttempts} attempts`),
          ),
      );
    }
    return out;
  }
}
