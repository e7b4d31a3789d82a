/**
 * The Table port in memory, for fast tests of planning, execution, notices, status and reports. It keeps
 * DynamoDB's semantics as the store relies on them (test/integration/store-contract.test.ts runs the same
 * contract over this table and over DynamoDB): sort keys in UTF-8 byte order, the sparse polling index
 * holding only items that have both `pk2` and `sk2`, conditions evaluated on the item a write replaces (a
 * missing one has every attribute absent), an update creating a missing item, BatchWriteItem's last-wins
 * for a repeated key, and the same counts of items read and written. Deterministic: no timers, no I/O.
 */
import type { Condition, Item, Key, QuerySpec, Table, Update } from '../../ports/table.js';
import { compareKeys } from '../../store/layout.js';
import { POLL_DUE_INDEX, POLL_DUE_PROJECTION } from '../../store/poll-index.js';
import { TableStore } from '../../store/table-store.js';

/**
 * A copy as DynamoDB would store it: undefined attributes dropped (the DynamoDB adapter's
 * removeUndefinedValues), binary copied to a Uint8Array, sets and maps copied, so neither side can change
 * the other's data afterwards.
 */
function stored(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Set) return new Set([...v].map(stored));
  if (Array.isArray(v)) return v.map(stored);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stored(x);
  return out;
}

/** A comparison as DynamoDB makes one: numbers by value, strings by UTF-8 bytes, anything else false. */
function compare(a: unknown, b: string | number): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return compareKeys(a, b);
  return null;
}

export function holds(c: Condition, item: Item | undefined): boolean {
  if ('and' in c) return c.and.every((x) => holds(x, item));
  if ('or' in c) return c.or.some((x) => holds(x, item));
  const value = item?.[c.attr];
  if ('absent' in c) return value === undefined;
  if ('present' in c) return value !== undefined;
  if ('lacks' in c) return !(value instanceof Set && value.has(c.lacks));
  const order = compare(value, 'eq' in c ? c.eq : 'lt' in c ? c.lt : c.le);
  if (order === null) return false;
  return 'eq' in c ? order === 0 : 'lt' in c ? order < 0 : order <= 0;
}

function apply(item: Item, update: Update): void {
  for (const [k, v] of Object.entries(update.set ?? {})) if (v !== undefined) item[k] = stored(v);
  for (const k of update.remove ?? []) delete item[k];
  for (const [k, v] of Object.entries(update.add ?? {})) {
    if (typeof v === 'number') item[k] = Number(item[k] ?? 0) + v;
    else item[k] = new Set([...((item[k] as Set<string> | undefined) ?? []), ...v]);
  }
}

/**
 * One table with the polling indexes (store/poll-index.ts): `poll` on `pk2`/`sk2` and `poll-due` on `pk2`/`pd`
 * (sparse: only items that have the keys; the store writes all three together).
 */
export class MemoryTable implements Table {
  readonly label = 'memory';
  private readonly partitions = new Map<string, Map<string, Item>>();
  private readonly index = new Map<string, Map<string, Key>>();
  private written = 0;
  private read = 0;

  get itemsWritten(): number {
    return this.written;
  }

  get itemsRead(): number {
    return this.read;
  }

  hasIndex(_name: string): boolean {
    return true;
  }

  private current(key: Key): Item | undefined {
    return this.partitions.get(key.pk)?.get(key.sk);
  }

  private store(item: Item): void {
    const key = { pk: String(item.pk), sk: String(item.sk) };
    this.unindex(key);
    const copy = stored(item) as Item;
    let partition = this.partitions.get(key.pk);
    if (!partition) {
      partition = new Map();
      this.partitions.set(key.pk, partition);
    }
    partition.set(key.sk, copy);
    if (typeof copy.pk2 === 'string' && typeof copy.sk2 === 'string') {
      let shard = this.index.get(copy.pk2);
      if (!shard) {
        shard = new Map();
        this.index.set(copy.pk2, shard);
      }
      shard.set(copy.sk2, key);
    }
  }

  private unindex(key: Key): void {
    const old = this.current(key);
    if (old && typeof old.pk2 === 'string' && typeof old.sk2 === 'string') this.index.get(old.pk2)?.delete(old.sk2);
  }

  async queryPages(q: QuerySpec, _what: string, onPage: (items: Item[]) => void | Promise<void>): Promise<void> {
    if (q.index === POLL_DUE_INDEX) {
      await onPage(this.queryDue(q));
      return;
    }
    const rows: [string, Item][] = [];
    const upTo = q.upTo === undefined ? undefined : String(q.upTo);
    const wanted = (sk: string): boolean =>
      (q.prefix === undefined || sk.startsWith(q.prefix)) && (upTo === undefined || compareKeys(sk, upTo) <= 0);
    if (q.index) {
      for (const [sk2, key] of this.index.get(q.pk) ?? []) if (wanted(sk2)) rows.push([sk2, this.current(key)!]);
    } else {
      for (const [sk, item] of this.partitions.get(q.pk) ?? []) if (wanted(sk)) rows.push([sk, item]);
    }
    rows.sort(([a], [b]) => compareKeys(a, b));
    const out = rows.map(([, item]) =>
      q.projection
        ? (stored(Object.fromEntries(q.projection.filter((n) => n in item).map((n) => [n, item[n]]))) as Item)
        : (stored(item) as Item),
    );
    this.read += out.length;
    // One page: what a query returns is a copy taken now, as a DynamoDB page is.
    await onPage(out);
  }

  /**
   * The narrow polling index (keys `pk2`/`pd`): ordered by the due time, then by the table's keys, and holding only
   * what it projects (the table's keys, its own, and the polling summary), as DynamoDB's INCLUDE projection does.
   */
  private queryDue(q: QuerySpec): Item[] {
    const rows: Item[] = [];
    for (const key of this.index.get(q.pk)?.values() ?? []) {
      const item = this.current(key)!;
      if (typeof item.pd !== 'number' || (q.upTo !== undefined && item.pd > Number(q.upTo))) continue;
      const projected: Item = { pk: item.pk, sk: item.sk, pk2: item.pk2, pd: item.pd };
      for (const name of POLL_DUE_PROJECTION) if (item[name] !== undefined) projected[name] = item[name];
      rows.push(
        stored(
          q.projection ? Object.fromEntries(q.projection.filter((n) => n in projected).map((n) => [n, projected[n]])) : projected,
        ) as Item,
      );
    }
    rows.sort((a, b) => Number(a.pd) - Number(b.pd) || compareKeys(String(a.pk), String(b.pk)) || compareKeys(String(a.sk), String(b.sk)));
    this.read += rows.length;
    return rows;
  }

  async queryLatest(pk: string, limit: number, _what: string): Promise<Item[]> {
    const out = [...(this.partitions.get(pk) ?? new Map<string, Item>())]
      .sort(([a], [b]) => compareKeys(b, a))
      .slice(0, limit)
      .map(([, item]) => stored(item) as Item);
    this.read += out.length;
    return out;
  }

  async get(key: Key, _what?: string): Promise<Item | null> {
    return this.getNow(key);
  }

  private getNow(key: Key): Item | null {
    const item = this.current(key);
    if (!item) return null;
    this.read++;
    return stored(item) as Item;
  }

  async put(item: Item, _what?: string): Promise<void> {
    this.store(item);
    this.written++;
  }

  async putIf(item: Item, condition: Condition, _what?: string): Promise<boolean> {
    if (!holds(condition, this.current({ pk: String(item.pk), sk: String(item.sk) }))) return false;
    this.store(item);
    this.written++;
    return true;
  }

  async updateIf(
    key: Key,
    update: Update,
    condition: Condition,
    _what?: string,
    options: { returnNew?: boolean } = {},
  ): Promise<Item | null> {
    const existing = this.current(key);
    if (!holds(condition, existing)) return null;
    const copy = existing ? (stored(existing) as Item) : { pk: key.pk, sk: key.sk };
    apply(copy, update);
    this.store(copy);
    this.written++;
    return options.returnNew ? (stored(copy) as Item) : {};
  }

  async deleteIf(key: Key, condition: Condition, _what?: string): Promise<boolean> {
    const existing = this.current(key);
    if (!holds(condition, existing)) return false;
    this.unindex(key);
    this.partitions.get(key.pk)?.delete(key.sk);
    // DynamoDB's DeleteItem of a missing item whose condition held still consumes a write.
    this.written++;
    return true;
  }

  /** As BatchWriteItem: a key given twice is written once, with its last item. */
  async batchPut(items: readonly Item[], _noun?: string): Promise<void> {
    const unique = new Map(items.map((i) => [`${String(i.pk)}\u0000${String(i.sk)}`, i]));
    for (const item of unique.values()) {
      this.store(item);
      this.written++;
    }
  }

  async batchGet(keys: readonly Key[], _noun?: string): Promise<Item[]> {
    const out: Item[] = [];
    for (const key of keys) {
      const item = this.getNow(key);
      if (item) out.push(item);
    }
    return out;
  }
}

/** The store (every Store, NoticeLedger and RunLedger method) over a fresh table in memory. */
export const memoryStore = (): TableStore => new TableStore(new MemoryTable());
