/**
 * The deployed system on one machine: what no emulator does, driven by the
 * synthesized template (test/aws/template.ts).
 *
 * - Lambda: each function runs from its cdk.out bundle in processes of its
 *   own (test/aws/lambda-runtime.mjs), with the template's environment, its
 *   handler export and memory, and is killed at its timeout. Reserved
 *   concurrency bounds how many run at once. A process stays warm between
 *   invocations and is replaced after it dies, as an execution environment.
 * - Asynchronous invocation (schedules and events): a failed invocation is
 *   retried MaximumRetryAttempts times (AWS::Lambda::EventInvokeConfig), then
 *   the event goes to the function's DeadLetterConfig queue, sent with the
 *   function's role as Lambda does.
 * - SQS event source mappings: poll with the function's role, the template's
 *   batch size, as many batches as the reserved concurrency leaves room for;
 *   delete what succeeded; with ReportBatchItemFailures, keep exactly the
 *   reported records (a malformed report fails the whole batch); a failed
 *   invocation keeps the whole batch, which comes back after the queue's
 *   visibility timeout (the SQS emulator counts receives and redrives).
 * - EventBridge: events put on the bus go to the rules of that bus whose
 *   pattern matches, and on to their targets.
 * - Schedules: ScheduleExpressions as ticks of a fake clock. `advance(ms)`
 *   moves the clock and fires each schedule rule that had an occurrence in
 *   the interval, once (occurrences a long step skips are coalesced).
 *
 * The fake clock is the emulated services' time (visibility timeouts, event
 * times); the functions keep the machine's clock, as they would in AWS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import type { Services } from './services.js';
import { ACCOUNT, allows, REGION, type FunctionDef, type RuleDef, type StackModel } from './template.js';
import { MAX_MESSAGE_BYTES } from './sqs-emulator.js';

const RUNTIME = join(import.meta.dirname, 'lambda-runtime.mjs');
/** Lambda's unreserved concurrency is the account's pool; a small number is plenty here. */
const UNRESERVED_CONCURRENCY = 10;

export interface Invocation {
  readonly fn: string;
  readonly trigger: string;
  readonly instance: string;
  readonly startedAt: number;
  readonly attempt: number;
  ok: boolean;
  value?: unknown;
  error?: { errorType: string; errorMessage: string; stack?: string[] };
}

export interface TimelineEntry {
  /** Fake-clock milliseconds since the harness started. */
  readonly at: number;
  readonly text: string;
}

interface Instance {
  readonly key: string;
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  busy: boolean;
  dead: boolean;
  onResult: ((msg: { ok: boolean; value?: unknown; error?: Invocation['error']; envReads?: string[] }) => void) | null;
  onExit: ((why: string) => void) | null;
}

export class LambdaFunction {
  private readonly instances: Instance[] = [];
  private readonly waiting: (() => void)[] = [];
  private started = 0;
  readonly envReads = new Set<string>();
  readonly limit: number;
  /** The most invocations this function had in flight at once. */
  maxInFlight = 0;
  /** Log lines (stdout and stderr) of every instance, in order. */
  readonly logs: string[] = [];

  constructor(
    readonly def: FunctionDef,
    private readonly harness: Harness,
  ) {
    this.limit = def.reservedConcurrency ?? UNRESERVED_CONCURRENCY;
  }

  get short(): string {
    return this.def.logicalId.replace(/Function[0-9A-F]{8}$/, '');
  }

  busyCount(): number {
    return this.instances.filter((i) => i.busy).length;
  }

  freeSlots(): number {
    return this.limit - this.busyCount() - this.waiting.length;
  }

  instanceByKey(key: string): Instance | undefined {
    return this.instances.find((i) => i.key === key);
  }

  private spawn(): Instance {
    const key = `${this.def.roleLogicalId}.${++this.started}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_LAMBDA_FUNCTION_NAME: this.def.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.def.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.def.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: key,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
      LAMBDA_TASK_ROOT: this.def.assetDir,
      _HANDLER: this.def.handler,
      ...this.harness.services.endpointEnv(key),
      ...this.def.environment,
    };
    const proc = fork(RUNTIME, [this.def.assetDir, this.def.handler], {
      cwd: this.def.assetDir,
      env,
      execArgv: [`--max-old-space-size=${this.def.memoryMb}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const inst: Instance = {
      key,
      proc,
      ready: new Promise<void>((res, rej) => {
        readyResolve = res;
        readyReject = rej;
      }),
      busy: false,
      dead: false,
      onResult: null,
      onExit: null,
    };
    inst.ready.catch(() => {});
    const capture = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logs.push(`${key} ${line}`);
    };
    proc.stdout?.on('data', capture);
    proc.stderr?.on('data', capture);
    proc.on('message', (msg: { type: string; ok: boolean; value?: unknown; error?: Invocation['error']; envReads?: string[] }) => {
      for (const r of msg.envReads ?? []) this.envReads.add(r);
      if (msg.type === 'ready') readyResolve();
      else if (msg.type === 'init-error') readyReject(new Error(`init: ${msg.error?.errorMessage}`));
      else if (msg.type === 'result') inst.onResult?.(msg);
    });
    proc.on('exit', (code, signal) => {
      inst.dead = true;
      const why = signal ? `killed by ${signal}` : `exited with ${code}`;
      readyReject(new Error(why));
      inst.onExit?.(why);
      this.instances.splice(this.instances.indexOf(inst), 1);
      this.release();
    });
    this.instances.push(inst);
    return inst;
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
  }

  private async acquire(): Promise<Instance> {
    for (;;) {
      const idle = this.instances.find((i) => !i.busy && !i.dead);
      if (idle) {
        idle.busy = true;
        this.maxInFlight = Math.max(this.maxInFlight, this.busyCount());
        return idle;
      }
      if (this.instances.length < this.limit) {
        const inst = this.spawn();
        inst.busy = true;
        this.maxInFlight = Math.max(this.maxInFlight, this.busyCount());
        return inst;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** One synchronous invocation: the handler's value, or the error Lambda would report. */
  async invoke(event: unknown, trigger: string, attempt = 1): Promise<Invocation> {
    const inst = await this.acquire();
    const inv: Invocation = { fn: this.short, trigger, instance: inst.key, startedAt: this.harness.time.now(), attempt, ok: false };
    this.harness.invocations.push(inv);
    try {
      await inst.ready;
    } catch (err) {
      inv.error = { errorType: 'Runtime.InitError', errorMessage: (err as Error).message };
      return inv;
    }
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        inv.error = { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.def.timeoutSeconds} seconds` };
        // Dead from now on: the next invocation must not be handed this process before its exit is seen.
        inst.dead = true;
        inst.proc.kill('SIGKILL');
        resolve();
      }, this.def.timeoutSeconds * 1000);
      inst.onResult = (msg) => {
        clearTimeout(timer);
        inv.ok = msg.ok;
        if (msg.ok) inv.value = msg.value;
        else inv.error = msg.error;
        resolve();
      };
      inst.onExit = (why) => {
        clearTimeout(timer);
        inv.error ??= { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${inv.instance} Error: Runtime exited (${why})` };
        resolve();
      };
    });
    inst.proc.send({
      type: 'invoke',
      id: randomUUID(),
      requestId: randomUUID(),
      event,
      functionName: this.def.name,
      functionArn: this.def.arn,
      memoryMb: this.def.memoryMb,
      deadline: Date.now() + this.def.timeoutSeconds * 1000,
    });
    await done;
    inst.onResult = null;
    inst.onExit = null;
    if (!inst.dead) {
      inst.busy = false;
      this.release();
    }
    return inv;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.instances.map(
        (i) =>
          new Promise<void>((resolve) => {
            if (i.dead) return resolve();
            i.proc.once('exit', () => resolve());
            i.proc.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** EventBridge event patterns: each key of the pattern must match; a list matches any of its values. */
export function matchesPattern(pattern: Readonly<Record<string, unknown>>, event: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(pattern).every(([k, want]) => {
    const have = event[k];
    if (Array.isArray(want)) {
      return want.some((w) => {
        if (w !== null && typeof w === 'object') {
          const m = w as Record<string, unknown>;
          if ('prefix' in m) return typeof have === 'string' && have.startsWith(String(m.prefix));
          if ('exists' in m) return (have !== undefined) === Boolean(m.exists);
          throw new Error(`event pattern matcher ${JSON.stringify(w)} is not emulated`);
        }
        return Array.isArray(have) ? have.includes(w) : have === w;
      });
    }
    if (want !== null && typeof want === 'object')
      return have !== null && typeof have === 'object' && matchesPattern(want as Record<string, unknown>, have as Record<string, unknown>);
    throw new Error(`event pattern value ${JSON.stringify(want)} for "${k}" is not a list or an object`);
  });
}

const MINUTE = 60_000;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** One field of an EventBridge cron expression: `*`, `?`, numbers, names, lists, ranges and steps. */
function cronField(field: string, min: number, max: number, names: readonly string[] = []): Set<number> {
  const out = new Set<number>();
  const value = (s: string): number => {
    const i = names.indexOf(s.toUpperCase());
    // EventBridge numbers days of the week 1 (SUN) to 7 (SAT).
    if (i >= 0) return names === DAYS ? i + 1 : i;
    const n = Number(s);
    if (!Number.isInteger(n)) throw new Error(`cron field "${field}" is not emulated`);
    return n;
  };
  for (const part of field.split(',')) {
    if (part === '*' || part === '?') {
      for (let v = min; v <= max; v++) out.add(v);
      continue;
    }
    const [range, step = '1'] = part.split('/');
    const [lo, hi] = range!.includes('-') ? range!.split('-').map(value) : [value(range!), range === part ? value(range!) : max];
    for (let v = lo!; v <= hi!; v += Number(step)) out.add(v);
  }
  return out;
}

/** Occurrences of a schedule expression in (from, to]; `origin` is when a rate schedule started counting. */
export function occurrences(expression: string, origin: number, from: number, to: number): number[] {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const period = Number(rate[1]) * (rate[2]!.startsWith('minute') ? MINUTE : rate[2]!.startsWith('hour') ? 60 * MINUTE : 1440 * MINUTE);
    const out: number[] = [];
    for (let t = origin + Math.max(1, Math.ceil((from - origin + 1) / period)) * period; t <= to; t += period) out.push(t);
    return out;
  }
  const cron = /^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$/.exec(expression);
  if (!cron) throw new Error(`schedule expression ${expression} is not emulated`);
  const [minutes, hours, dom, months, dow, years] = [
    cronField(cron[1]!, 0, 59),
    cronField(cron[2]!, 0, 23),
    cronField(cron[3]!, 1, 31),
    cronField(cron[4]!, 1, 12),
    cronField(cron[5]!, 1, 7, DAYS),
    cronField(cron[6]!, 1970, 2199),
  ];
  const out: number[] = [];
  for (let t = Math.floor(from / MINUTE) * MINUTE + MINUTE; t <= to; t += MINUTE) {
    const d = new Date(t);
    if (
      minutes.has(d.getUTCMinutes()) &&
      hours.has(d.getUTCHours()) &&
      dom.has(d.getUTCDate()) &&
      months.has(d.getUTCMonth() + 1) &&
      dow.has(d.getUTCDay() + 1) &&
      years.has(d.getUTCFullYear())
    )
      out.push(t);
  }
  return out;
}

export class FakeTime {
  constructor(public t: number) {}
  readonly now = (): number => this.t;
}

export interface PolicyViolation {
  readonly fn: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

export class Harness {
  readonly functions = new Map<string, LambdaFunction>();
  readonly invocations: Invocation[] = [];
  readonly timeline: TimelineEntry[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  private readonly origin: number;
  /** Largest EventBridge entry (PutEvents takes 256 KiB per request). */
  largestEvent = 0;

  constructor(
    readonly stack: StackModel,
    readonly services: Services,
    readonly time: FakeTime,
  ) {
    this.origin = time.now();
    for (const def of stack.functions) this.functions.set(def.logicalId, new LambdaFunction(def, this));
    services.onEvent = (e) => {
      this.largestEvent = Math.max(this.largestEvent, Buffer.byteLength(JSON.stringify(e.detail)));
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': e['detail-type'],
        source: e.source,
        account: ACCOUNT,
        time: new Date(this.time.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: REGION,
        resources: [],
        detail: e.detail,
      };
      this.note(`bus ${e.busName}: "${e['detail-type']}" from ${e.caller}`);
      for (const rule of stack.rules) {
        if (rule.pattern === null || rule.eventBusName !== e.busName || !matchesPattern(rule.pattern, event)) continue;
        for (const target of rule.targets) this.track(this.invokeAsync(target, event, `${short(rule.logicalId)} rule`));
      }
    };
  }

  fn(word: string): LambdaFunction {
    const f = [...this.functions.values()].find((x) => x.short.toLowerCase() === word.toLowerCase());
    if (!f) throw new Error(`no function ${word}`);
    return f;
  }

  note(text: string): void {
    this.timeline.push({ at: this.time.now() - this.origin, text });
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Lambda's asynchronous invocation: retries, then the dead-letter queue. */
  private async invokeAsync(fnId: string, event: unknown, trigger: string): Promise<void> {
    const f = this.functions.get(fnId)!;
    const retries = f.def.maximumRetryAttempts ?? 2;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const inv = await f.invoke(event, trigger, attempt);
      this.note(`${trigger} → ${f.short} (${inv.instance}, attempt ${attempt}): ${summary(inv)}`);
      if (inv.ok) return;
    }
    if (f.def.deadLetterArn) {
      const queue = this.services.sqs.queueByArn(f.def.deadLetterArn);
      const client = this.sqsClientAs(`${f.def.roleLogicalId}.lambda`);
      try {
        await client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event) }));
      } finally {
        client.destroy();
      }
      this.note(`${f.short}: the event failed ${retries + 1} times; sent to ${queue.name}`);
    }
  }

  private sqsClientAs(accessKeyId: string): SQSClient {
    const env = this.services.endpointEnv(accessKeyId);
    return new SQSClient({
      region: REGION,
      endpoint: env.AWS_ENDPOINT_URL_SQS,
      credentials: { accessKeyId, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
  }

  /** Fires one schedule rule now, as EventBridge's scheduler would. */
  fire(rule: RuleDef, at: number): void {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [rule.arn],
      detail: {},
    };
    this.note(`schedule ${short(rule.logicalId)} (${rule.schedule})`);
    for (const target of rule.targets) this.track(this.invokeAsync(target, event, `${short(rule.logicalId)}`));
  }

  /** Moves the fake clock and fires each schedule rule with an occurrence in the step once; then settles. */
  async advance(ms: number): Promise<void> {
    const from = this.time.now();
    this.time.t += ms;
    const due = this.stack.rules
      .filter((r) => r.schedule !== null)
      .map((r) => ({ r, at: occurrences(r.schedule!, this.origin, from, this.time.now()).at(-1) }))
      .filter((x) => x.at !== undefined)
      .sort((a, b) => a.at! - b.at!);
    for (const { r, at } of due) this.fire(r, at!);
    await this.settle();
  }

  /** Moves the fake clock to just after the next occurrence of the rule whose logical id starts with `name`. */
  async tick(name: string): Promise<void> {
    const rule = this.stack.rules.find((r) => r.logicalId.startsWith(name) && r.schedule !== null);
    if (!rule) throw new Error(`no schedule rule ${name}`);
    const next = occurrences(rule.schedule!, this.origin, this.time.now(), this.time.now() + 8 * 1440 * MINUTE)[0];
    if (next === undefined) throw new Error(`${rule.schedule} has no occurrence within 8 days`);
    await this.advance(next - this.time.now());
  }

  /** Polls each event source mapping while its function has room, and waits until nothing is in flight. */
  async settle(): Promise<void> {
    for (;;) {
      await this.pump();
      if (this.pending.size === 0) {
        // Events put during the last invocation are delivered on the next turn of the loop.
        await new Promise((r) => setImmediate(r));
        if (this.pending.size === 0) return;
      }
      await Promise.race(this.pending);
    }
  }

  private async pump(): Promise<void> {
    for (const m of this.stack.mappings) {
      const f = this.functions.get(m.functionName)!;
      const queue = this.services.sqs.queueByArn(m.queueArn);
      while (f.freeSlots() > 0) {
        // The mapping polls with the function's execution role.
        const client = this.sqsClientAs(`${f.def.roleLogicalId}.poller`);
        let messages: Message[];
        try {
          messages =
            (
              await client.send(
                new ReceiveMessageCommand({
                  QueueUrl: queue.url,
                  MaxNumberOfMessages: m.batchSize,
                  MessageSystemAttributeNames: ['All'],
                  MessageAttributeNames: ['All'],
                }),
              )
            ).Messages ?? [];
        } finally {
          client.destroy();
        }
        if (messages.length === 0) break;
        const event = {
          Records: messages.map((msg) => ({
            messageId: msg.MessageId!,
            receiptHandle: msg.ReceiptHandle!,
            body: msg.Body!,
            attributes: msg.Attributes ?? {},
            messageAttributes: {},
            md5OfBody: msg.MD5OfBody!,
            eventSource: 'aws:sqs',
            eventSourceARN: queue.arn,
            awsRegion: REGION,
          })),
        };
        const receives = messages.map((x) => x.Attributes?.ApproximateReceiveCount).join(',');
        this.track(
          (async () => {
            const inv = await f.invoke(event, `${queue.name} (receive ${receives})`);
            const ids = new Set(messages.map((x) => x.MessageId!));
            let keep = new Set(ids);
            if (inv.ok) {
              keep = new Set();
              const failures = (inv.value as { batchItemFailures?: { itemIdentifier?: string }[] } | null)?.batchItemFailures;
              if (m.reportBatchItemFailures && failures) {
                // Lambda: a failure naming no message of the batch fails the whole batch.
                keep = failures.every((x) => x.itemIdentifier && ids.has(x.itemIdentifier))
                  ? new Set(failures.map((x) => x.itemIdentifier!))
                  : ids;
              }
            }
            this.note(
              `${queue.name} → ${f.short} (${inv.instance}), receive ${receives}: ${summary(inv)}${keep.size ? `; ${keep.size} message(s) back to the queue` : ''}`,
            );
            const deleter = this.sqsClientAs(`${f.def.roleLogicalId}.poller`);
            try {
              for (const msg of messages)
                if (!keep.has(msg.MessageId!))
                  await deleter.send(new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: msg.ReceiptHandle! }));
            } finally {
              deleter.destroy();
            }
          })(),
        );
      }
    }
  }

  /** The fake-clock time at which the next in-flight message of a queue becomes visible again. */
  nextRedelivery(queueUrl: string): number | null {
    return this.services.sqs.nextVisibleAt(queueUrl);
  }

  /** Kills the process whose access key made a call (a worker dying mid-job). */
  killCaller(accessKeyId: string): boolean {
    for (const f of this.functions.values()) {
      const inst = f.instanceByKey(accessKeyId);
      if (inst && !inst.dead) {
        inst.proc.kill('SIGKILL');
        this.note(`killed ${accessKeyId} (${f.short}) mid-invocation`);
        return true;
      }
    }
    return false;
  }

  /** Environment variables each function's code read vs. those its template sets (REVWATCH_* only: the rest is the runtime's and the SDK's). */
  environmentMismatches(): { fn: string; invoked: boolean; setButUnread: string[]; readButUnset: string[] }[] {
    return [...this.functions.values()].map((f) => {
      const invoked = this.invocations.some((i) => i.fn === f.short && i.ok);
      const set = Object.keys(f.def.environment);
      const read = [...f.envReads].filter((k) => k.startsWith('REVWATCH_'));
      return {
        fn: f.short,
        invoked,
        setButUnread: set.filter((k) => !f.envReads.has(k)),
        readButUnset: read.filter((k) => !(k in f.def.environment)),
      };
    });
  }

  /** Every SDK call a function made, checked against its role's statements (action and each resource). */
  policyViolations(): { checked: number; violations: PolicyViolation[] } {
    const byRole = new Map([...this.functions.values()].map((f) => [f.def.roleLogicalId, f]));
    let checked = 0;
    const violations: PolicyViolation[] = [];
    for (const call of this.services.calls()) {
      const f = byRole.get(call.caller.split('.')[0]!);
      if (!f) continue;
      for (const resource of call.resources) {
        checked++;
        if (!allows(f.def.statements, call.action, resource, call.context))
          violations.push({ fn: f.short, action: call.action, resource, context: call.context });
      }
    }
    return { checked, violations };
  }

  messageLimits(): { largestSqsMessage: number; largestEvent: number; limit: number } {
    return { largestSqsMessage: this.services.sqs.largestMessage, largestEvent: this.largestEvent, limit: MAX_MESSAGE_BYTES };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.pending);
    for (const f of this.functions.values()) await f.stop();
  }
}

const short = (logicalId: string): string => logicalId.replace(/[0-9A-F]{8}$/, '');

function summary(inv: Invocation): string {
  if (!inv.ok) return `FAILED ${inv.error?.errorType}: ${inv.error?.errorMessage}`;
  const v = inv.value as Record<string, unknown> | null;
  if (v && Array.isArray(v.batchItemFailures)) return v.batchItemFailures.length ? `${v.batchItemFailures.length} record(s) failed` : 'ok';
  return v ? JSON.stringify(v) : 'ok';
}
