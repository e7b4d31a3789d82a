/**
 * The local AWS account of the harness, each service behind its Gateway:
 * DynamoDB (dynalite, in memory), SQS and S3 (test/aws/sqs-emulator.ts and
 * s3-emulator.ts), SES (aws-ses-v2-local, which accepts SendRawEmail) and
 * EventBridge's PutEvents (answered here: the harness's bus delivers the
 * events to the template's rules). `endpointEnv()` is what a process needs to
 * reach them through the SDK's standard `AWS_ENDPOINT_URL_<SERVICE>`.
 */
import { randomUUID } from 'node:crypto';
import dynalite from 'dynalite';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { SesEmulator } from '../helpers/ses-emulator.js';
import { forwardTo, Gateway, jsonReply, type Describe } from './gateway.js';
import { S3Emulator } from './s3-emulator.js';
import { SqsEmulator } from './sqs-emulator.js';
import { ACCOUNT, REGION, type StackModel } from './template.js';

const HOST = '127.0.0.1';
const DUMMY_SECRET = 'harness-secret';

export interface BusEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: unknown;
  readonly busName: string;
  readonly caller: string;
}

/** `dynamodb:<Action>` on the table, or on `table/<name>/index/<index>` for a Query on an index. */
function describeDynamo(tableArn: (name: string) => string): Describe {
  return (req) => {
    const action = (req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    const input = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
    const names = new Set<string>();
    if (typeof input.TableName === 'string') names.add(input.TableName);
    for (const k of Object.keys((input.RequestItems as Record<string, unknown> | undefined) ?? {})) names.add(k);
    for (const t of (input.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? [])
      for (const op of Object.values(t)) if (op.TableName) names.add(op.TableName);
    const resources = [...names].map((n) =>
      typeof input.IndexName === 'string' ? `${tableArn(n)}/index/${input.IndexName}` : tableArn(n),
    );
    const key = input.Key as Record<string, { S?: string }> | undefined;
    const item = input.Item as Record<string, { S?: string }> | undefined;
    const pk = key?.pk?.S ?? item?.pk?.S;
    const sk = key?.sk?.S ?? item?.sk?.S;
    return {
      action: `dynamodb:${action}`,
      resources,
      context: {},
      input: { pk, sk, condition: input.ConditionExpression, index: input.IndexName },
    };
  };
}

/** SES v1 (awsQuery): `ses:<Action>` on the identity of the From address's domain, with ses:FromAddress. */
const describeSes: Describe = (req) => {
  const form = new URLSearchParams(req.body.toString('utf8'));
  const source = form.get('Source') ?? '';
  const raw = form.get('RawMessage.Data');
  // Without Source, SES takes the From header of the raw message.
  const from = source || (raw ? (/^From:\s*(?:.*<)?([^>\s]+)>?\s*$/im.exec(Buffer.from(raw, 'base64').toString('utf8'))?.[1] ?? '') : '');
  const domain = from.slice(from.indexOf('@') + 1);
  return {
    action: `ses:${form.get('Action') ?? '?'}`,
    resources: [`arn:aws:ses:${REGION}:${ACCOUNT}:identity/${domain}`],
    context: { 'ses:FromAddress': from },
    input: { from, to: [...form.entries()].filter(([k]) => k.startsWith('Destinations.member')).map(([, v]) => v) },
  };
};

/** `events:PutEvents` on each entry's bus (a name or an ARN; the default bus when absent). */
const describeEvents: Describe = (req) => {
  const input = JSON.parse(req.body.toString('utf8') || '{}') as { Entries?: { EventBusName?: string }[] };
  const buses = new Set((input.Entries ?? []).map((e) => e.EventBusName ?? 'default'));
  return {
    action: `events:${(req.headers['x-amz-target'] ?? '').replace(/^AWSEvents\./, '')}`,
    resources: [...buses].map((b) => (b.startsWith('arn:') ? b : `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${b}`)),
    context: {},
    input: { entries: input.Entries?.length ?? 0 },
  };
};

export class Services {
  readonly sqs: SqsEmulator;
  readonly s3: S3Emulator;
  readonly ses = new SesEmulator();
  private readonly db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  dynamoUrl = '';
  readonly gateways: Record<'dynamodb' | 'sqs' | 's3' | 'ses' | 'events', Gateway>;
  /** Events put on the bus, in order; the harness routes them. */
  onEvent: (e: BusEvent) => void = () => {};
  readonly events: BusEvent[] = [];

  constructor(now: () => number) {
    this.sqs = new SqsEmulator(now);
    this.s3 = new S3Emulator(now);
    const tableArn = (name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`;
    this.gateways = {
      dynamodb: new Gateway('dynamodb', (r) => forwardTo(this.dynamoUrl)(r), describeDynamo(tableArn)),
      sqs: new Gateway('sqs', this.sqs.backend, this.sqs.describe),
      s3: new Gateway('s3', this.s3.backend, this.s3.describe),
      ses: new Gateway('ses', (r) => forwardTo(this.ses.url)(r), describeSes),
      events: new Gateway(
        'events',
        async (req) => {
          const input = JSON.parse(req.body.toString('utf8')) as {
            Entries: { EventBusName?: string; Source: string; DetailType: string; Detail: string }[];
          };
          const caller = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '?';
          const entries = input.Entries.map((e) => {
            const event: BusEvent = {
              source: e.Source,
              'detail-type': e.DetailType,
              detail: JSON.parse(e.Detail),
              busName: (e.EventBusName ?? 'default').replace(/^arn:.*:event-bus\//, ''),
              caller,
            };
            this.events.push(event);
            // Delivered after the answer, as EventBridge does: PutEvents does not wait for targets.
            setImmediate(() => this.onEvent(event));
            return { EventId: randomUUID() };
          });
          return jsonReply({ FailedEntryCount: 0, Entries: entries });
        },
        describeEvents,
      ),
    };
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.db.listen(0, HOST, () => resolve()));
    this.dynamoUrl = `http://${HOST}:${(this.db.address() as { port: number }).port}`;
    await this.ses.start();
    for (const g of Object.values(this.gateways)) await g.start(HOST);
    return this;
  }

  /** Creates the table, queues and buckets the template describes. */
  async deploy(stack: StackModel): Promise<void> {
    const client = new DynamoDBClient({
      endpoint: this.dynamoUrl,
      region: REGION,
      credentials: { accessKeyId: 'harness', secretAccessKey: DUMMY_SECRET },
    });
    try {
      await client.send(new CreateTableCommand(stack.table.createInput as never));
      await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: stack.table.name });
    } finally {
      client.destroy();
    }
    for (const q of stack.queues) this.sqs.createQueue(q);
    for (const b of stack.buckets) this.s3.createBucket(b.name);
  }

  /** The variables that point a process's SDK clients at the gateways, with dummy credentials named `accessKeyId`. */
  endpointEnv(accessKeyId: string): Record<string, string> {
    return {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: DUMMY_SECRET,
      AWS_ENDPOINT_URL_DYNAMODB: this.gateways.dynamodb.url,
      AWS_ENDPOINT_URL_SQS: this.gateways.sqs.url,
      AWS_ENDPOINT_URL_S3: this.gateways.s3.url,
      AWS_ENDPOINT_URL_SES: this.gateways.ses.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: this.gateways.events.url,
      // No shared config or credential files, no instance metadata: only what is set here.
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }

  calls() {
    return Object.values(this.gateways)
      .flatMap((g) => g.calls)
      .sort((a, b) => a.seq - b.seq);
  }

  async stop(): Promise<void> {
    for (const g of Object.values(this.gateways)) await g.stop();
    await this.ses.stop();
    await new Promise<void>((resolve) => this.db.close(() => resolve()));
  }
}
