/**
 * The synthesized CloudFormation template (cdk.out), read as the harness's
 * only source of truth: the table and its indexes, the queues with their
 * visibility timeout and redrive policy, the buckets, the bus, each function
 * (its bundle, handler export, environment, timeout, reserved concurrency,
 * role and the role's policy statements), the SQS event source mappings and
 * the EventBridge rules with their schedules, patterns and targets.
 *
 * Intrinsics are resolved against the names the harness gives each resource
 * locally (`Names`): a Ref to the table is its table name, a Fn::GetAtt Arn
 * is the ARN the emulated account would give it, and so on. Anything the
 * resolver does not know is an error, so a template change the harness does
 * not understand fails loudly instead of being skipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}

export interface TableDef {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The CreateTable input the template describes (keys, attribute definitions, global secondary indexes). */
  readonly createInput: Record<string, Json>;
}

export interface QueueDef {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive: { readonly deadLetterArn: string; readonly maxReceiveCount: number } | null;
}

export interface PolicyStatementDef {
  readonly effect: string;
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface FunctionDef {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  /** cdk.out/asset.<hash>/ holding the bundle `cdk synth` wrote. */
  readonly assetDir: string;
  /** `index.handler`: the file (index.mjs) and its export. */
  readonly handler: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly reservedConcurrency: number | null;
  readonly roleLogicalId: string;
  readonly statements: readonly PolicyStatementDef[];
  /** Asynchronous invocations (schedules, events): retries after the first failure (EventInvokeConfig; Lambda's default is 2). */
  readonly maximumRetryAttempts: number;
  /** Where an asynchronous event goes after its last failed attempt (DeadLetterConfig), or null. */
  readonly deadLetterArn: string | null;
}

export interface EventSourceMappingDef {
  readonly logicalId: string;
  readonly queueArn: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
}

export interface RuleDef {
  readonly logicalId: string;
  readonly arn: string;
  readonly description: string;
  readonly schedule: string | null;
  readonly eventBusName: string | null;
  readonly pattern: Readonly<Record<string, Json>> | null;
  /** Function logical ids. */
  readonly targets: readonly string[];
}

export interface AlarmDef {
  readonly logicalId: string;
  readonly metricName: string;
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly threshold: number;
  readonly comparison: string;
}

export interface StackModel {
  readonly table: TableDef;
  readonly queues: readonly QueueDef[];
  readonly buckets: readonly { readonly logicalId: string; readonly name: string }[];
  readonly busName: string;
  readonly busArn: string;
  readonly functions: readonly FunctionDef[];
  readonly mappings: readonly EventSourceMappingDef[];
  readonly rules: readonly RuleDef[];
  readonly alarms: readonly AlarmDef[];
  readonly outputs: Readonly<Record<string, string>>;
}

const list = <T>(v: T | readonly T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? [...(v as T[])] : [v as T]);

/** Reads `<cdkOut>/<stack>.template.json` and resolves it for a local account whose SQS endpoint is `sqsEndpoint`. */
export function loadStack(cdkOut: string, stackName: string, sqsEndpoint: string): StackModel {
  const template = JSON.parse(readFileSync(join(cdkOut, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, Resource>;
    Outputs?: Record<string, { Value: Json }>;
  };
  const resources = template.Resources;
  const ofType = (type: string): [string, Resource][] => Object.entries(resources).filter(([, r]) => r.Type === type);
  const props = (id: string): Record<string, Json> => resources[id]?.Properties ?? {};

  // The local names of each resource: what a deployment would have generated.
  const busLogical = ofType('AWS::Events::EventBus');
  if (busLogical.length !== 1) throw new Error(`expected one event bus, found ${busLogical.length}`);
  const busId = busLogical[0]![0];
  const busName = String(props(busId).Name ?? busId);
  const ref = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`Ref to unknown resource ${id}`);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return id;
      case 'AWS::SQS::Queue':
        return `${sqsEndpoint}/${ACCOUNT}/${id}`;
      case 'AWS::S3::Bucket':
        return id.toLowerCase();
      case 'AWS::Events::EventBus':
        return busName;
      case 'AWS::Lambda::Function':
        return id;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`;
      default:
        throw new Error(`Ref to a ${r.Type} (${id}) is not emulated`);
    }
  };
  const arn = (id: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`Fn::GetAtt of unknown resource ${id}`);
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${id.toLowerCase()}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${busName}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${REGION}:${ACCOUNT}:rule/${id}`;
      default:
        throw new Error(`Fn::GetAtt Arn of a ${r.Type} (${id}) is not emulated`);
    }
  };
  const pseudo: Record<string, string> = {
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolve = (v: Json): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    if (v && typeof v === 'object') {
      const o = v as Record<string, Json>;
      if ('Ref' in o) return pseudo[o.Ref as string] ?? ref(o.Ref as string);
      if ('Fn::GetAtt' in o) {
        const [id, attr] = o['Fn::GetAtt'] as [string, string];
        if (attr === 'Arn') return arn(id);
        if (attr === 'QueueName' && resources[id]?.Type === 'AWS::SQS::Queue') return id;
        if (attr === 'QueueUrl' && resources[id]?.Type === 'AWS::SQS::Queue') return ref(id);
        throw new Error(`Fn::GetAtt ${id}.${attr} is not emulated`);
      }
      if ('Fn::Join' in o) {
        const [sep, parts] = o['Fn::Join'] as [string, Json[]];
        return parts.map(resolve).join(sep);
      }
    }
    throw new Error(`cannot resolve ${JSON.stringify(v)}`);
  };

  const tables = ofType('AWS::DynamoDB::Table');
  if (tables.length !== 1) throw new Error(`expected one table, found ${tables.length}`);
  const [tableId, tableRes] = tables[0]!;
  const tp = tableRes.Properties ?? {};
  const table: TableDef = {
    logicalId: tableId,
    name: ref(tableId),
    arn: arn(tableId),
    createInput: {
      TableName: ref(tableId),
      AttributeDefinitions: tp.AttributeDefinitions,
      KeySchema: tp.KeySchema,
      BillingMode: tp.BillingMode,
      ...(tp.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: tp.GlobalSecondaryIndexes } : {}),
    },
  };

  const queues: QueueDef[] = ofType('AWS::SQS::Queue').map(([id, r]) => {
    const p = r.Properties ?? {};
    const redrive = p.RedrivePolicy as { deadLetterTargetArn: Json; maxReceiveCount: number } | undefined;
    return {
      logicalId: id,
      name: id,
      arn: arn(id),
      url: ref(id),
      // SQS's default when the template sets none.
      visibilityTimeoutSeconds: Number(p.VisibilityTimeout ?? 30),
      redrive: redrive ? { deadLetterArn: resolve(redrive.deadLetterTargetArn), maxReceiveCount: Number(redrive.maxReceiveCount) } : null,
    };
  });

  const buckets = ofType('AWS::S3::Bucket').map(([id]) => ({ logicalId: id, name: ref(id) }));

  // Each role's statements, from every AWS::IAM::Policy attached to it.
  const statementsOf = (roleId: string): PolicyStatementDef[] =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => list(p.Properties?.Roles as Json[]).some((r) => (r as { Ref?: string }).Ref === roleId))
      .flatMap(([, p]) =>
        list((p.Properties?.PolicyDocument as { Statement?: Json } | undefined)?.Statement).map((s) => {
          const st = s as { Effect: string; Action: string | string[]; Resource: Json; Condition?: Record<string, Record<string, Json>> };
          const conditions: Record<string, Record<string, string | string[]>> = {};
          for (const [op, kv] of Object.entries(st.Condition ?? {})) {
            conditions[op] = Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, Array.isArray(v) ? v.map(resolve) : resolve(v)]));
          }
          return { effect: st.Effect, actions: list(st.Action), resources: list(st.Resource as Json[]).map(resolve), conditions };
        }),
      );

  const functions: FunctionDef[] = ofType('AWS::Lambda::Function').map(([id, r]) => {
    const p = r.Properties ?? {};
    const code = p.Code as { S3Key?: string };
    const hash = /^([0-9a-f]{64})\.zip$/.exec(code.S3Key ?? '')?.[1];
    if (!hash) throw new Error(`${id}: its code is not a cdk.out asset (${JSON.stringify(code)})`);
    const vars = ((p.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {}) as Record<string, Json>;
    const roleId = (p.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return {
      logicalId: id,
      name: ref(id),
      arn: arn(id),
      description: String(p.Description ?? ''),
      assetDir: join(cdkOut, `asset.${hash}`),
      handler: String(p.Handler),
      environment: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, resolve(v)])),
      // Lambda's defaults when the template sets none.
      timeoutSeconds: Number(p.Timeout ?? 3),
      memoryMb: Number(p.MemorySize ?? 128),
      reservedConcurrency: p.ReservedConcurrentExecutions === undefined ? null : Number(p.ReservedConcurrentExecutions),
      roleLogicalId: roleId,
      statements: statementsOf(roleId),
      maximumRetryAttempts: Number(
        ofType('AWS::Lambda::EventInvokeConfig').find(
          ([, c]) => (c.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === id,
        )?.[1].Properties?.MaximumRetryAttempts ?? 2,
      ),
      deadLetterArn: p.DeadLetterConfig ? resolve((p.DeadLetterConfig as { TargetArn: Json }).TargetArn) : null,
    };
  });

  const mappings: EventSourceMappingDef[] = ofType('AWS::Lambda::EventSourceMapping').map(([id, r]) => {
    const p = r.Properties ?? {};
    return {
      logicalId: id,
      queueArn: resolve(p.EventSourceArn),
      functionName: resolve(p.FunctionName),
      // Lambda's default batch size for SQS.
      batchSize: Number(p.BatchSize ?? 10),
      reportBatchItemFailures: list(p.FunctionResponseTypes as string[]).includes('ReportBatchItemFailures'),
    };
  });

  const fnIdByArn = new Map(functions.map((f) => [f.arn, f.logicalId]));
  const rules: RuleDef[] = ofType('AWS::Events::Rule').map(([id, r]) => {
    const p = r.Properties ?? {};
    if (p.State !== undefined && p.State !== 'ENABLED') throw new Error(`${id}: rule state ${String(p.State)} is not emulated`);
    return {
      logicalId: id,
      arn: arn(id),
      description: String(p.Description ?? ''),
      schedule: p.ScheduleExpression === undefined ? null : String(p.ScheduleExpression),
      eventBusName: p.EventBusName === undefined ? null : resolve(p.EventBusName),
      pattern: (p.EventPattern as Record<string, Json> | undefined) ?? null,
      targets: list(p.Targets as { Arn: Json }[]).map((t) => {
        const fn = fnIdByArn.get(resolve(t.Arn));
        if (!fn) throw new Error(`${id}: a target that is not one of the stack's functions (${JSON.stringify(t.Arn)})`);
        return fn;
      }),
    };
  });

  const alarms: AlarmDef[] = ofType('AWS::CloudWatch::Alarm').flatMap(([id, r]) => {
    const p = r.Properties ?? {};
    if (typeof p.MetricName !== 'string') return [];
    return [
      {
        logicalId: id,
        metricName: p.MetricName,
        namespace: String(p.Namespace),
        dimensions: Object.fromEntries(list(p.Dimensions as { Name: string; Value: Json }[]).map((d) => [d.Name, resolve(d.Value)])),
        threshold: Number(p.Threshold),
        comparison: String(p.ComparisonOperator),
      },
    ];
  });

  const outputs = Object.fromEntries(Object.entries(template.Outputs ?? {}).map(([k, o]) => [k, resolve(o.Value)]));

  return { table, queues, buckets, busName, busArn: arn(busId), functions, mappings, rules, alarms, outputs };
}

/** IAM's wildcard match: `*` any run of characters, `?` one; actions compare case-insensitively. */
export function iamMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  );
  return re.test(value);
}

/**
 * Whether a role's statements allow `action` on `resource` given the request's condition context.
 * Only Allow statements and the StringEquals and StringLike (s3:prefix) operators occur in the stack; any
 * other operator is treated as unmet, so a new kind of condition fails the check until the harness learns it.
 */
export function allows(
  statements: readonly PolicyStatementDef[],
  action: string,
  resource: string,
  context: Readonly<Record<string, string>>,
): boolean {
  const denied = statements.some(
    (s) => s.effect === 'Deny' && s.actions.some((a) => iamMatch(a, action, true)) && s.resources.some((r) => iamMatch(r, resource)),
  );
  if (denied) return false;
  return statements.some((s) => {
    if (s.effect !== 'Allow') return false;
    if (!s.actions.some((a) => iamMatch(a, action, true))) return false;
    if (!s.resources.some((r) => iamMatch(r, resource))) return false;
    return Object.entries(s.conditions).every(([op, kv]) =>
      Object.entries(kv).every(([key, want]) => {
        const value = context[key];
        if (value === undefined) return false;
        if (op === 'StringEquals') return list(want as string[]).includes(value);
        if (op === 'StringLike') return list(want as string[]).some((pattern) => iamMatch(pattern, value));
        return false;
      }),
    );
  });
}
