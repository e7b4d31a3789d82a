/** The core's services over real AWS clients, built once per cold start. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SystemClock } from '../../src/clock.js';
import { DynamoStore } from '../../src/store/dynamo-store.js';
import { SesMailer } from '../../src/notify/ses-mailer.js';
import type { Mailer } from '../../src/notify/notices.js';
import type { Clock } from '../../src/ports.js';
import { loadConfig, type FunctionConfig } from './config.js';

export interface FunctionDeps {
  readonly config: FunctionConfig;
  readonly store: DynamoStore;
  readonly mailer: Mailer;
  readonly clock: Clock;
}

export function depsFromEnvironment(env: Readonly<Record<string, string | undefined>>): FunctionDeps {
  const config = loadConfig(env);
  return {
    config,
    store: new DynamoStore(new DynamoDBClient({}), { tableName: config.tableName }),
    mailer: new SesMailer(new SESClient({})),
    clock: new SystemClock(),
  };
}
