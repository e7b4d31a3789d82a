/**
 * The Table port: the few operations of a single table with string keys `pk`/`sk` (and one sparse global
 * secondary index on `pk2`/`sk2`) that the store's logic (store/table-store.ts) and the CCADB disclosures
 * (ccadb/store.ts) are written once over. Two tables implement it: adapters/aws/dynamo-table.ts (DynamoDB, and
 * the embedded dynalite) and adapters/memory/memory-table.ts (the same semantics in memory, for unit tests).
 *
 * Conditions and updates are small typed values, not DynamoDB expression strings, so both tables evaluate
 * the same thing. Their attribute names are plain identifiers that are not DynamoDB reserved words. A failed condition is an answer (false / null), never an error; anything else that fails
 * is a StoreError naming what was being stored or read.
 */

/** One table item, as the document client reads and writes it. */
export type Item = Record<string, unknown>;

export interface Key {
  readonly pk: string;
  readonly sk: string;
}

/**
 * A condition on the item a write would replace, evaluated as DynamoDB evaluates a ConditionExpression:
 * on a missing item every attribute is absent, and a comparison with an absent attribute (or one of another
 * type) is false.
 */
export type Condition =
  /** attribute_not_exists */
  | { readonly attr: string; readonly absent: true }
  /** attribute_exists */
  | { readonly attr: string; readonly present: true }
  | { readonly attr: string; readonly eq: string | number }
  | { readonly attr: string; readonly lt: string | number }
  | { readonly attr: string; readonly le: string | number }
  /** NOT contains(set, value): true also when the set is absent. */
  | { readonly attr: string; readonly lacks: string }
  | { readonly and: readonly Condition[] }
  | { readonly or: readonly Condition[] };

/** What an update does to the item: SET, REMOVE and ADD (a number added, or strings added to a string set). */
export interface Update {
  readonly set?: Readonly<Item>;
  readonly remove?: readonly string[];
  readonly add?: Readonly<Record<string, number | ReadonlySet<string>>>;
}

export interface QuerySpec {
  /** The partition key's value (`pk`, or `pk2` on an index). */
  readonly pk: string;
  /** Query this global secondary index (keys `pk2`/`sk2`) instead of the table. */
  readonly index?: string;
  /** Only sort keys that begin with this. */
  readonly prefix?: string;
  /** Only sort keys up to and including this (a number on an index whose sort key is one, `poll-due`). */
  readonly upTo?: string | number;
  /** Only these attributes (ProjectionExpression). */
  readonly projection?: readonly string[];
}

export interface Table {
  /** Where the items are, for messages: "table revwatch", "memory". */
  readonly label: string;
  /** Items written (puts, updates and deletes that took effect) since the table was opened. */
  readonly itemsWritten: number;
  /** Items returned by queries and gets since the table was opened. */
  readonly itemsRead: number;
  /** False when the table is known to lack this index (a home created before it existed). */
  hasIndex(name: string): boolean;

  /** One item, read consistently unless told otherwise. */
  get(key: Key, what: string, options?: { consistent?: boolean }): Promise<Item | null>;
  put(item: Item, what: string): Promise<void>;
  /** Puts the item if the condition holds on the item it would replace; true when written. */
  putIf(item: Item, condition: Condition, what: string): Promise<boolean>;
  /**
   * Updates the item (creating it when missing, as DynamoDB does) if the condition holds. Returns the item
   * as updated (with `returnNew`; otherwise an empty object), or null when the condition failed.
   */
  updateIf(key: Key, update: Update, condition: Condition, what: string, options?: { returnNew?: boolean }): Promise<Item | null>;
  /** Deletes the item if the condition holds; false when it did not. */
  deleteIf(key: Key, condition: Condition, what: string): Promise<boolean>;

  /**
   * Hands each page of one partition to `onPage` in sort-key order (DynamoDB's: UTF-8 bytes). A promise
   * `onPage` returns is awaited before the page after; nothing is left reading once this returns.
   */
  queryPages(q: QuerySpec, what: string, onPage: (items: Item[]) => void | Promise<void>): Promise<void>;
  /** The last `limit` items of a partition, newest (highest sort key) first: one page. */
  queryLatest(pk: string, limit: number, what: string): Promise<Item[]>;
  /** Puts items in batches (a key given twice is written once, with its last item). `noun` is plural. */
  batchPut(items: readonly Item[], noun: string): Promise<void>;
  /** Gets items by key in batches, read consistently; missing keys are left out. */
  batchGet(keys: readonly Key[], noun: string): Promise<Item[]>;
  /**
   * One page of one segment of a parallel Scan of the table (not an index): maintenance only (the polling
   * summaries' backfill, store/poll-backfill.ts), never a command's read. Absent where a table cannot scan.
   */
  scanPage?(scan: ScanSpec, what: string): Promise<ScanPage>;
}

export interface ScanSpec {
  /** This segment of `segments` (DynamoDB's Segment / TotalSegments): each item is in exactly one. */
  readonly segment: number;
  readonly segments: number;
  /** Where the segment's previous page ended (its `next`), or null for its first page. */
  readonly start: Key | null;
  /** Only the items this holds for are returned (a FilterExpression: every item examined is still read). */
  readonly filter?: Condition;
  /** At most this many items examined (DynamoDB's Limit): a page, and so a progress step, that small. */
  readonly limit?: number;
}

export interface ScanPage {
  /** The items of the page the filter kept. */
  readonly items: Item[];
  /** The items the page examined (ScannedCount): what the read was billed for. */
  readonly scanned: number;
  /** Where the segment goes on, or null when it is done. */
  readonly next: Key | null;
}

/** Every item of one partition (or index partition) in sort-key order, each page converted as it arrives. */
export async function queryAll(table: Table, q: QuerySpec, what: string): Promise<Item[]>;
export async function queryAll<T>(table: Table, q: QuerySpec, what: string, convert: (item: Item) => T): Promise<T[]>;
export async function queryAll<T>(table: Table, q: QuerySpec, what: string, convert?: (item: Item) => T): Promise<(T | Item)[]> {
  const out: (T | Item)[] = [];
  await table.queryPages(q, what, (items) => {
    for (const item of items) out.push(convert ? convert(item) : item);
  });
  return out;
}

/** The condition of a put that only creates: no item with this key exists. */
export const ABSENT: Condition = { attr: 'pk', absent: true };
/** The condition of an update or delete that only changes an existing item. */
export const PRESENT: Condition = { attr: 'pk', present: true };
