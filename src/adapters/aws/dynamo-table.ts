/**
 * The few table operations the DynamoDB adapter is built from: a paginated
 * query, batched puts and gets that retry what DynamoDB leaves unprocessed,
 * put-if-absent and conditional update/delete. Every failure comes out as a
 * StoreError naming what was being stored or read, with the SDK's error as
 * its cause; a failed condition is an answer (false / null), not an error.
 *
 * Counts every item read and written, so a run can report what it cost.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { SystemClock } from '../system-clock.js';
import type { Clock } from '../../ports/index.js';
import type { Item } from '../../store/layout.js';
import { StoreError } from '../../ports/store-error.js';
import { mapLimit } from '../../util/map-limit.js';
import { backoffMs, retry, type RetryOptions } from '../../util/retry.js';

export type { Item } from '../../store/layout.js';
export { StoreError } from '../../ports/store-error.js';

export type Key = { readonly pk: string; readonly sk: string };

export interface DynamoTableOptions {
  /** Backoff between retries of unprocessed batch items sleeps on this clock. */
  readonly clock?: Clock;
  /** BatchWriteItem requests in flight at once. */
  readonly writeConcurrency?: number;
  /** Requests per batch chunk before unprocessed items are given up on (the first try included). */
  readonly maxAttempts?: number;
  /** The first retry waits this long; each further retry twice as long, up to `backoffMaxMs`. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export interface QuerySpec {
  /** The partition key's value (`pk`, or `pk2` on an index). */
  readonly pk: string;
  /** Query this global secondary index (keys `pk2`/`sk2`) instead of the table. */
  readonly index?: string;
  /** Only sort keys that begin with this. */
  readonly prefix?: string;
  /** Only sort keys up to and including this. */
  readonly upTo?: string;
  /** Only these attributes (ProjectionExpression). */
  readonly projection?: readonly string[];
}

/** BatchWriteItem takes at most 25 requests; BatchGetItem at most 100 keys. */
const WRITE_CHUNK = 25;
const GET_CHUNK = 100;

const isConditionFailure = (err: unknown): boolean => (err as Error | null)?.name === 'ConditionalCheckFailedException';
const keyOf = (i: Item): string => `${String(i.pk)}\u0000${String(i.sk)}`;

export class DynamoTable {
  private readonly clock: Clock;
  private readonly writeConcurrency: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private written = 0;
  private read = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly name: string,
    options: DynamoTableOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
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

  /** Every item of one partition (or index partition) in sort-key order, page by page. */
  async queryAll(q: QuerySpec, what: string): Promise<Item[]>;
  /** Each page's items converted as it arrives, so a large partition's raw items never pile up. */
  async queryAll<T>(q: QuerySpec, what: string, convert: (item: Item) => T): Promise<T[]>;
  async queryAll<T>(q: QuerySpec, what: string, convert?: (item: Item) => T): Promise<(T | Item)[]> {
    const out: (T | Item)[] = [];
    await this.queryEach(q, what, (item) => void out.push(convert ? convert(item) : item));
    return out;
  }

  /** Hands each item of one partition to `visit` as its page arrives (sort-key order); keeps none of them. */
  async queryEach(q: QuerySpec, what: string, visit: (item: Item) => void | Promise<void>): Promise<void> {
    await this.queryPages(q, what, async (items) => {
      for (const item of items) {
        const wait = visit(item);
        if (wait) await wait;
      }
    });
  }

  /**
   * Hands each page of one partition to `onPage` in sort-key order. The next page is asked for before this one
   * is handed over, so the store and the caller work at the same time; a promise `onPage` returns is awaited
   * before the page after. When `onPage` fails, the page being read ahead is waited for and dropped.
   */
  async queryPages(q: QuerySpec, what: string, onPage: (items: Item[]) => void | Promise<void>): Promise<void> {
    const [pk, sk] = q.index ? ['pk2', 'sk2'] : ['pk', 'sk'];
    const condition =
      q.prefix !== undefined ? `${pk} = :p AND begins_with(${sk}, :s)` : q.upTo !== undefined ? `${pk} = :p AND ${sk} <= :u` : `${pk} = :p`;
    const values: Record<string, unknown> = { ':p': q.pk };
    if (q.prefix !== undefined) values[':s'] = q.prefix;
    else if (q.upTo !== undefined) values[':u'] = q.upTo;
    const page = async (start: Record<string, unknown> | undefined) => {
      const input: QueryCommandInput = {
        TableName: this.name,
        IndexName: q.index,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
        // Global secondary indexes are eventually consistent only.
        ConsistentRead: q.index ? undefined : true,
      };
      if (q.projection) {
        input.ProjectionExpression = q.projection.map((_, i) => `#p${i}`).join(',');
        input.ExpressionAttributeNames = Object.fromEntries(q.projection.map((n, i) => [`#p${i}`, n]));
      }
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

  /**
   * Writes the item unless one with its key exists, or, with `replaceIf`, unless the existing one fails that
   * condition. True when written.
   */
  async putIfAbsent(
    item: Item,
    what: string,
    replaceIf?: { condition: string; names?: Record<string, string>; values?: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.name,
          Item: item,
          ConditionExpression: replaceIf ? `attribute_not_exists(pk) OR ${replaceIf.condition}` : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: replaceIf?.names,
          ExpressionAttributeValues: replaceIf?.values,
        }),
      );
      this.written++;
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw this.error('storing', what, err);
    }
  }

  /**
   * An update under a condition. Returns the item as updated (with `returnNew`; otherwise an empty object),
   * or null when the condition failed.
   */
  async updateIf(
    key: Key,
    update: {
      expression: string;
      condition: string;
      names?: Record<string, string>;
      values?: Record<string, unknown>;
      returnNew?: boolean;
    },
    what: string,
  ): Promise<Item | null> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.name,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: update.expression,
          ConditionExpression: update.condition,
          ExpressionAttributeNames: update.names,
          ExpressionAttributeValues: update.values,
          ReturnValues: update.returnNew ? 'ALL_NEW' : undefined,
        }),
      );
      this.written++;
      return (r.Attributes as Item | undefined) ?? {};
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw this.error('updating', what, err);
    }
  }

  /** Deletes the item if the condition holds; false when it did not (or the item is gone). */
  async deleteIf(key: Key, condition: { expression: string; values?: Record<string, unknown> }, what: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.name,
          Key: { pk: key.pk, sk: key.sk },
          ConditionExpression: condition.expression,
          ExpressionAttributeValues: condition.values,
        }),
      );
      this.written++;
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw this.error('deleting', what, err);
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
          let r;
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
          let r;
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
