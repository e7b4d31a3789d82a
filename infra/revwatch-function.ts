/**
 * A revwatch Lambda: one handler file of functions/ bundled with esbuild,
 * Node.js 24 on ARM64, its own log group with a retention, and its own role
 * that starts with nothing but writing to that log group. Access to the
 * table, the queue, the bus and SES is bound per function: each bind* method
 * sets the variable the handler reads (ENV) and grants exactly the actions it
 * needs, so a name and its permission are given together or not at all.
 */
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { ENV } from '../src/runtime/env.js';
import { ESM_REQUIRE_BANNER, MAIN_FIELDS } from './bundling.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..');

/** The DynamoDB actions the DynamoDB table adapter (src/adapters/aws/dynamo-table.ts) issues; each function gets only those it uses. */
export type TableAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem';

export interface RevwatchFunctionProps {
  /** The handler file under functions/, without extension. */
  readonly handler: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** Variables besides those the bind* methods set. */
  readonly environment?: Record<string, string>;
  readonly reservedConcurrentExecutions?: number;
  /** Async invocations (schedules, events) that fail twice more land here. */
  readonly deadLetterQueue?: IQueue;
}

export class RevwatchFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: RevwatchFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `revwatch ${props.handler}: least privilege`,
    });
    // In place of AWSLambdaBasicExecutionRole, which allows writing to every log group.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, 'functions', `${props.handler}.ts`),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.deadLetterQueue ? 2 : undefined,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: false,
        mainFields: MAIN_FIELDS,
        // Bundled, not taken from the runtime: the SDK version is the one the tests ran with.
        externalModules: [],
        banner: ESM_REQUIRE_BANNER,
      },
    });
  }

  /** The table: ENV.table, and exactly these actions on it (Query on the named indexes only, not `index/*`). */
  bindTable(table: ITable, actions: readonly TableAction[], options: { queryIndexes?: readonly string[] } = {}): this {
    this.fn.addEnvironment(ENV.table, table.tableName);
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }));
    const indexes = options.queryIndexes ?? [];
    if (indexes.length > 0) {
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes.map((name) => `${table.tableArn}/index/${name}`) }),
      );
    }
    return this;
  }

  /** The job queue, to send to: ENV.jobQueueUrl, and the send actions (the worker receives through its event source). */
  bindQueue(queue: IQueue): this {
    this.fn.addEnvironment(ENV.jobQueueUrl, queue.queueUrl);
    queue.grantSendMessages(this.fn);
    return this;
  }

  /** The event bus, to announce finished runs on: ENV.eventBus, and events:PutEvents on that bus only. */
  bindBus(bus: IEventBus): this {
    this.fn.addEnvironment(ENV.eventBus, bus.eventBusName);
    bus.grantPutEventsTo(this.fn);
    return this;
  }

  /** SES: the sender and recipients, and ses:SendRawEmail on the one identity, only as that From address. */
  bindMailer(mail: {
    identityArn: string;
    sender: string;
    defaultRecipients: readonly string[];
    digestRecipients: readonly string[];
  }): this {
    this.fn.addEnvironment(ENV.sender, mail.sender);
    this.fn.addEnvironment(ENV.defaultRecipients, mail.defaultRecipients.join(','));
    this.fn.addEnvironment(ENV.digestRecipients, mail.digestRecipients.join(','));
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [mail.identityArn],
        conditions: { StringEquals: { 'ses:FromAddress': mail.sender } },
      }),
    );
    return this;
  }
}
