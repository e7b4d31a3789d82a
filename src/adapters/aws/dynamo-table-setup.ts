/**
 * The single table's creation (local mode; in AWS the CDK stack owns the table): keys `pk`/`sk`, and the
 * sparse polling index on `pk2`/`sk2` (store/layout.ts, infra/revwatch-stack.ts).
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
import { POLL_INDEX } from '../../store/poll-index.js';

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
    indexes = [POLL_INDEX];
  }
  let status = table?.TableStatus;
  for (let attempt = 0; status !== 'ACTIVE'; attempt++) {
    if (attempt > 200) throw new StoreError(`table ${name} did not become ACTIVE`);
    if (attempt > 0) await clock.sleep(25);
    status = (await client.send(new DescribeTableCommand({ TableName: name }))).Table?.TableStatus;
  }
  return indexes;
}

async function createTable(client: DynamoDBClient, name: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'pk2', AttributeType: 'S' },
          { AttributeName: 'sk2', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: POLL_INDEX,
            KeySchema: [
              { AttributeName: 'pk2', KeyType: 'HASH' },
              { AttributeName: 'sk2', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    throw new StoreError(`creating table ${name} failed: ${(err as Error).message}`, { cause: err });
  }
}
