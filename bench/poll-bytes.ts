/**
 * The bytes of item data an unchanged re-check's planning reads per due certificate (issue 29: <= 200): the
 * planner of the local check run once more over the bench's home, right after the unchanged re-check, through a
 * table that adds up the size DynamoDB counts for every item a query or get returns (store/layout.ts itemSize).
 */
import { LOCAL_TABLE, openEmbeddedStore } from '../src/adapters/local/embedded-store.js';
import { openDynamoTable } from '../src/adapters/aws/dynamo-table.js';
import { planCheck } from '../src/check/plan.js';
import { itemSize } from '../src/store/layout.js';
import { TableStore } from '../src/store/table-store.js';
import type { Item, Table } from '../src/ports/table.js';

function counting(table: Table, add: (items: readonly Item[]) => void): Table {
  return new Proxy(table, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name === 'queryPages')
        return (q: Parameters<Table['queryPages']>[0], what: string, onPage: (items: Item[]) => void | Promise<void>) =>
          target.queryPages(q, what, (items) => {
            add(items);
            return onPage(items);
          });
      if (name === 'batchGet' || name === 'queryLatest')
        return async (...args: unknown[]) => {
          const items = (await (value as (...a: unknown[]) => Promise<Item[]>).apply(target, args)) as Item[];
          add(items);
          return items;
        };
      if (name === 'get')
        return async (...args: unknown[]) => {
          const item = (await (value as (...a: unknown[]) => Promise<Item | null>).apply(target, args)) as Item | null;
          if (item) add([item]);
          return item;
        };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function pollBytesLine(home: string): Promise<string> {
  const open = await openEmbeddedStore(home);
  try {
    const raw = openDynamoTable(open.client!, { tableName: LOCAL_TABLE });
    await raw.ensureTable();
    let bytes = 0;
    let items = 0;
    const store = new TableStore(
      counting(raw, (list) => {
        items += list.length;
        for (const i of list) bytes += itemSize(i);
      }),
    );
    const plan = await planCheck(store, Date.now(), { settledPool: true });
    const due = plan.certificates;
    const per = due ? bytes / due : 0;
    return `  unchanged re-check planning read ${bytes} bytes of item data in ${items} items for ${due} due certificates: ${per.toFixed(0)} bytes per due certificate (target <= 200)\n`;
  } finally {
    await open.close();
  }
}
