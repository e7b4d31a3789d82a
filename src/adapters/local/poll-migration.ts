/**
 * Opening a home whose table was made before the narrow polling index (issue 29): dynalite cannot add an index
 * to a table (its UpdateTable ignores GlobalSecondaryIndexUpdates), so the table is made again. Every item is
 * copied into a second table, each tracked certificate with its polling summary (store/layout.ts
 * withPollSummary), the old table is deleted and made again with the new index, and the items are copied back.
 * Nothing else changes: the same items, keys and records, plus `ps`.
 *
 * A copy cut short is finished on the next open: while the second table exists, the main one is either the old
 * one (the first copy was cut short: start over) or the new one (the copy back was: copy again; puts of the same
 * items change nothing).
 */
import { DeleteTableCommand, DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Case } from '../../domain.js';
import type { Clock } from '../../ports/index.js';
import { StoreError } from '../../ports/store-error.js';
import type { Item } from '../../ports/table.js';
import { caseIdOf, CASES, toCase, withPollSummary } from '../../store/layout.js';
import { POLL_DUE_INDEX } from '../../store/poll-index.js';
import { openDynamoTable } from '../aws/dynamo-table.js';
import { ensureDynamoTable } from '../aws/dynamo-table-setup.js';

/** Where the items wait while the main table is made again. */
export const migrationTable = (name: string): string => `${name}-poll-migration`;

/** The indexes of a table, or null when it does not exist. */
async function indexesOf(client: DynamoDBClient, name: string): Promise<string[] | null> {
  try {
    const t = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
    return (t?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? '');
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException') return null;
    throw new StoreError(`reading the description of table ${name} failed: ${(err as Error).message}`, { cause: err });
  }
}

async function dropTable(client: DynamoDBClient, name: string, clock: Clock): Promise<void> {
  try {
    await client.send(new DeleteTableCommand({ TableName: name }));
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException')
      throw new StoreError(`deleting table ${name} failed: ${(err as Error).message}`, { cause: err });
  }
  for (let attempt = 0; (await indexesOf(client, name)) !== null; attempt++) {
    if (attempt > 400) throw new StoreError(`table ${name} was not deleted`);
    await clock.sleep(25);
  }
}

/** Copies every item of `from` into `to`, page by page, each changed by `change`. Returns how many. */
async function copyItems(
  client: DynamoDBClient,
  from: string,
  to: string,
  clock: Clock,
  change: (i: Item) => Item = (i) => i,
): Promise<number> {
  const target = openDynamoTable(client, { tableName: to, clock });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  let copied = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: from, ExclusiveStartKey: start }));
    const items = (page.Items ?? []).map((i) => change(i as Item));
    await target.batchPut(items, `items copied into table ${to}`);
    copied += items.length;
    start = page.LastEvaluatedKey as Record<string, unknown> | undefined;
  } while (start);
  return copied;
}

/** The cases of the table (the summaries' verdicts need each certificate's case). */
async function casesOf(client: DynamoDBClient, name: string, clock: Clock): Promise<Map<string, Case>> {
  const table = openDynamoTable(client, { tableName: name, clock });
  const cases = new Map<string, Case>();
  await table.queryPages({ pk: CASES }, 'the cases', (items) => {
    for (const i of items) cases.set(caseIdOf(i.sk), toCase(i));
  });
  return cases;
}

/**
 * Brings table `name` to the narrow polling index when it lacks it. Returns the line to tell the user, or null
 * when there was nothing to do.
 */
export async function migratePollIndex(client: DynamoDBClient, name: string, clock: Clock): Promise<string | null> {
  const spare = migrationTable(name);
  const main = await indexesOf(client, name);
  if ((await indexesOf(client, spare)) !== null) {
    if (main?.includes(POLL_DUE_INDEX)) {
      // The copy back was cut short.
      const n = await copyItems(client, spare, name, clock);
      await dropTable(client, spare, clock);
      return `revwatch: finished moving the store to the narrow polling index (${n} items)`;
    }
    await dropTable(client, spare, clock); // the first copy was cut short: the main table is whole
  }
  if (main === null || main.includes(POLL_DUE_INDEX)) return null;
  const cases = await casesOf(client, name, clock);
  await ensureDynamoTable(client, spare, clock);
  let summarized = 0;
  const n = await copyItems(client, name, spare, clock, (i) => {
    const out = withPollSummary(i, cases);
    if (out !== i) summarized++;
    return out;
  });
  await dropTable(client, name, clock);
  await ensureDynamoTable(client, name, clock);
  await copyItems(client, spare, name, clock);
  await dropTable(client, spare, clock);
  return `revwatch: moved the store to the narrow polling index (issue 29): ${n} items copied, ${summarized} tracked certificates given their polling summaries`;
}
