/** AWS mode: the deployed table and SES, through the SDK's default credential and region chain. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { S3EvidenceArchive } from '../adapters/aws/s3-evidence-archive.js';
import { S3GoodAnswerLog } from '../adapters/aws/s3-good-answer-log.js';
import { DisclosureStore } from '../ccadb/store.js';
import { SesMailer } from '../adapters/aws/ses-mailer.js';
import type { Clock } from '../ports/index.js';
import { openDynamoTable } from '../adapters/aws/dynamo-table.js';
import { TableStore } from '../store/table-store.js';
import type { Runtime } from './runtime.js';

/** The DynamoDB commands that change the table (low-level and document-client names alike). */
const WRITE_COMMAND = /^(Put|Update|Delete|BatchWrite|TransactWrite)(Item|Items)?Command$/;

/** Synchronous, so a Lambda handler can build it at cold start. The SES client is made on first use. */
export function openAwsRuntime(options: {
  tableName: string;
  clock?: Clock;
  evidenceBucket?: string | null;
  goodAnswersBucket?: string | null;
}): Runtime {
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
  let ses: SesMailer | null = null;
  const store = new TableStore(openDynamoTable(client, { tableName: options.tableName, clock: options.clock }));
  return {
    mode: 'aws',
    store,
    mailer: { send: (message) => (ses ??= new SesMailer(new SESClient({}))).send(message) },
    evidenceFiles: null,
    // A CLI check in AWS mode is one run of one job: it logs and reads the deployed workers' good answers.
    goodAnswers: options.goodAnswersBucket
      ? new S3GoodAnswerLog(new S3Client({}), options.goodAnswersBucket, {
          runId: randomUUID(),
          runStartedAt: (options.clock?.now() ?? new Date()).getTime(),
          jobId: 'cli',
        })
      : null,
    disclosures: new DisclosureStore(store.table),
    evidenceArchive: options.evidenceBucket ? new S3EvidenceArchive(new S3Client({}), options.evidenceBucket) : null,
    writesDone: () => writes,
    async close() {
      client.destroy();
    },
  };
}
