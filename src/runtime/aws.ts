/**
 * AWS mode's core: the deployed table (through the SDK's default credential
 * and region chain), the disclosures kept in it, and the clock. Synchronous,
 * so a Lambda handler builds it at cold start and a missing variable fails
 * the start. The other AWS parts (SES, SQS, EventBridge, S3) are in their own
 * modules (aws-mail.ts, aws-fan-out.ts, aws-buckets.ts), which a handler
 * imports only when its function uses them: a bundle carries no part its
 * function never opens.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SystemClock } from '../adapters/system-clock.js';
import { openDynamoTable } from '../adapters/aws/dynamo-table.js';
import { TableStore } from '../store/table-store.js';
import { DisclosureStore } from '../ccadb/store.js';
import type { Clock, NoticeLedger, RunLedger, Store } from '../ports/index.js';
import type { Disclosures } from '../ports/disclosures.js';
import type { Table } from '../ports/table.js';
import { loadTableName, type Env } from './env.js';

/** The DynamoDB commands that change the table (low-level and document-client names alike). */
const WRITE_COMMAND = /^(Put|Update|Delete|BatchWrite|TransactWrite)(Item|Items)?Command$/;

export interface AwsCore {
  readonly store: Store & NoticeLedger & RunLedger;
  /** The table itself, for the stores written over it besides the Store (the sweep's index and state). */
  readonly table: Table;
  readonly disclosures: Disclosures;
  readonly clock: Clock;
  /** How many table writes succeeded so far, so a command cut off by the network can say it was partly done. */
  readonly writesDone: () => number;
  close(): Promise<void>;
}

/** The one place the table's store is made over a client (AWS mode, and nothing else). */
export function openDynamoStore(client: DynamoDBClient, tableName: string, clock: Clock): TableStore {
  return new TableStore(openDynamoTable(client, { tableName, clock }));
}

/** The table named by REVWATCH_TABLE (a ConfigError when unset), its disclosures, and the system clock unless given. */
export function openAwsRuntime(env: Env, options: { readonly clock?: Clock } = {}): AwsCore {
  const tableName = loadTableName(env);
  const clock = options.clock ?? new SystemClock();
  const client = new DynamoDBClient({});
  // Counts the writes that succeeded (the document client shares this middleware stack), for the CLI to
  // tell a command the network cut off before it wrote anything from one it cut off halfway.
  let writes = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (WRITE_COMMAND.test(context.commandName ?? '')) writes += 1;
      return result;
    },
    { step: 'initialize', name: 'revwatchCountWrites' },
  );
  const store = openDynamoStore(client, tableName, clock);
  return {
    store,
    table: store.table,
    disclosures: new DisclosureStore(store.table),
    clock,
    writesDone: () => writes,
    async close() {
      client.destroy();
    },
  };
}
