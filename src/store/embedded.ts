/**
 * Local mode's store: the DynamoDB adapter talking to dynalite (DynamoDB on
 * LevelDB) started in this process on a loopback port, with its data in
 * <home>/db. LevelDB admits one process at a time, so commands take a lock on
 * the home directory first: a second `revwatch check` waits for the first
 * instead of failing, and neither loses nor duplicates anything.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import lockfile from 'proper-lockfile';
import { DynamoStore } from './dynamo-store.js';
import { announceLockWait } from './lock-wait.js';

export const LOCAL_TABLE = 'revwatch';

export interface OpenStore {
  readonly store: DynamoStore;
  close(): Promise<void>;
}

export async function openEmbeddedStore(home: string, options: { lockWaitMs?: number; onLockWait?: (message: string) => void } = {}): Promise<OpenStore> {
  mkdirSync(join(home, 'db'), { recursive: true });
  const waitMs = options.lockWaitMs ?? 10 * 60_000;
  await announceLockWait(home, join(home, 'db.lock'), 30_000, options.onLockWait);
  const release = await lockfile.lock(home, {
    lockfilePath: join(home, 'db.lock'),
    // A crashed holder's lock goes stale after 30 s (proper-lockfile refreshes it while held).
    stale: 30_000,
    retries: { retries: Math.ceil(waitMs / 250), factor: 1, minTimeout: 250, maxTimeout: 250 },
    realpath: false,
  });
  const server = dynalite({ path: join(home, 'db'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await release();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 5,
  });
  const store = new DynamoStore(client, { tableName: LOCAL_TABLE });
  await store.ensureTable();
  return {
    store,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
    },
  };
}

/** AWS mode: the deployed table, through the SDK's default credential and region chain. */
export function openAwsStore(tableName: string): OpenStore {
  const client = new DynamoDBClient({});
  return {
    store: new DynamoStore(client, { tableName }),
    async close() {
      client.destroy();
    },
  };
}
