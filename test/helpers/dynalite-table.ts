/**
 * The deployed table's stand-in for tests of the functions and of the CLI's AWS mode: dynalite (in memory) on
 * 127.0.0.1, reached through the real SDK client and the real DynamoDB adapter, with the table created as the
 * stack creates it (`ensureTable`).
 */
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type DynamoTable, openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';

export interface DynaliteTable {
  /** `http://127.0.0.1:<port>`: what a spawned CLI gets as AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly table: DynamoTable;
  /** Destroys the client, closes dynalite and, when `pointProcessEnv` set them, restores the AWS variables. */
  close(): Promise<void>;
}

export interface DynaliteTableOptions {
  readonly tableName: string;
  readonly region?: string;
  /**
   * Point the SDK's default chain in this process at dynalite (AWS_ENDPOINT_URL_DYNAMODB, region, test credentials),
   * as an in-process `run(['--aws', …])` reads it; `close` puts the variables back as they were.
   */
  readonly pointProcessEnv?: boolean;
}

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

export async function startDynaliteTable(options: DynaliteTableOptions): Promise<DynaliteTable> {
  const region = options.region ?? 'eu-west-1';
  const db = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => db.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(db.address() as AddressInfo).port}`;
  const names = ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
  const saved = names.map((name) => [name, process.env[name]] as const);
  if (options.pointProcessEnv)
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    });
  const client = new DynamoDBClient({ endpoint, region, credentials: TEST_CREDENTIALS });
  const table = openDynamoTable(client, { tableName: options.tableName });
  await table.ensureTable();
  return {
    endpoint,
    client,
    table,
    close: async () => {
      if (options.pointProcessEnv)
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      client.destroy();
      await new Promise<void>((resolve) => db.close(() => resolve()));
    },
  };
}
