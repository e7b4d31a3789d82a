/**
 * The single table's creation (local mode; in AWS the CDK stack owns the table): keys `pk`/`sk`, and the
 * sparse polling index `poll-due` on `pk2`/`pd`, projecting the polling summary only (store/poll-index.ts,
 * infra/revwatch-stack.ts). Tables made before it have `poll` (every attribute) instead: local mode copies
 * them into the new layout when a home is opened (adapters/local/poll-migration.ts).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../ports/index.js';
import { StoreError } from '../../ports/store-error.js';
import { POLL_DUE_INDEX, POLL_DUE_PROJECTION, POLL_INDEX } from '../../store/poll-index.js';

/**
 * Creates the table when it does not exist, and waits until it is ACTIVE: a table still CREATING answers
 * every request with ResourceNotFoundException. Returns the names of the table's global secondary indexes.
 */
export async function ensureDynamoTable(client: DynamoDBClient, name: string, clock: Clock): Promise<string[]> {
  let table: TableDescription | undefined;
  let indexes: string[];
  try {
    table = (await client.send(new DescribeTableCommand({ TableName: name }))).Table;
    indexes = (table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName ?? '');
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException) && (err as Error).name !== 'ResourceNotFoundException')
      throw new StoreError(`reading the description of table ${name} failed: ${(err as Error).message}`, { cause: err });
    await createTable(client, name);
    indexes = [POLL_DUE_INDEX];
  }
  let status = table?.TableStatus;
  for (let attempt = 0; status !== 'ACTIVE'; attempt++) {
    if (attempt > 200) throw new StoreError(`table ${name} did not become ACTIVE`);
    if (attempt > 0) await clock.sleep(25);
    status = (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus;
  }
  return indexes;
}

/**
 * Creates the table. `layout` 'poll' makes it as tables were made before the narrow polling index (the index
 * `poll` on `pk2`/`sk2`, every attribute): only tests build one, to test the migration.
 */
export async function createTable(client: DynamoDBClient, name: string, layout: 'poll-due' | 'poll' = 'poll-due'): Promise<void> {
  const legacy = layout === 'poll';
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'pk2', AttributeType: 'S' },
          legacy ? { AttributeName: 'sk2', AttributeType: 'S' } : { AttributeName: 'pd', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: legacy ? POLL_INDEX : POLL_DUE_INDEX,
            KeySchema: [
              { AttributeName: 'pk2', KeyType: 'HASH' },
              { AttributeName: legacy ? 'sk2' : 'pd', KeyType: 'RANGE' },
            ],
            Projection: legacy ? { ProjectionType: 'ALL' } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...POLL_DUE_PROJECTION] },
          },
        ],
      }),
    );
  } catch (err) {
    throw new StoreError(`creating table ${name} failed: ${(err as Error).message}`, { cause: err });
  }
}
