/** AWS mode: the deployed table and SES, through the SDK's default credential and region chain. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { SesMailer } from '../adapters/aws/ses-mailer.js';
import type { Clock } from '../ports.js';
import { DynamoStore } from '../adapters/aws/dynamo-store.js';
import type { Runtime } from './runtime.js';

/** Synchronous, so a Lambda handler can build it at cold start. The SES client is made on first use. */
export function openAwsRuntime(options: { tableName: string; clock?: Clock }): Runtime {
  const client = new DynamoDBClient({});
  let ses: SesMailer | null = null;
  return {
    mode: 'aws',
    store: new DynamoStore(client, { tableName: options.tableName, clock: options.clock }),
    mailer: { send: (message) => (ses ??= new SesMailer(new SESClient({}))).send(message) },
    evidenceFiles: null,
    async close() {
      client.destroy();
    },
  };
}
