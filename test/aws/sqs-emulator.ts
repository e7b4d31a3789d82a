/**
 * A minimal SQS that speaks the AWS JSON 1.0 protocol of @aws-sdk/client-sqs
 * v3 (`X-Amz-Target: AmazonSQS.<Action>`), written for the harness because
 * fauxqs, the emulator the issue suggests, needs Node.js 22.5 and revwatch
 * runs on 20. It keeps what the stack relies on:
 *
 * - a received message is invisible for the queue's visibility timeout and
 *   comes back after it unless deleted (or its visibility is changed);
 * - every receive counts (ApproximateReceiveCount), and a message about to be
 *   received more than the redrive policy's maxReceiveCount times moves to the
 *   dead-letter queue instead;
 * - a message or a batch over 256 KiB is refused, as SQS does;
 * - MD5OfMessageBody / MD5OfBody, which the SDK checks.
 *
 * Time is the harness's fake clock, so a 30-minute visibility timeout passes
 * in one step.
 */
import { createHash, randomUUID } from 'node:crypto';
import { jsonError, jsonReply, type Backend, type Describe, type RawRequest, type Reply } from './gateway.js';
import type { QueueDef } from './template.js';

/** SQS's limit on one message and on the sum of a batch's messages (256 KiB). */
export const MAX_MESSAGE_BYTES = 262_144;

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt: number | null;
  visibleAt: number;
  receiptHandle: string | null;
}

interface Queue {
  readonly def: QueueDef;
  readonly messages: Message[];
}

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
const target = (req: RawRequest): string => (req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');

export class SqsEmulator {
  private readonly queues = new Map<string, Queue>();
  /** The largest message body sent, in bytes. */
  largestMessage = 0;
  /** Every message moved to a dead-letter queue: [from queue, message id, body]. */
  readonly deadLettered: { queue: string; messageId: string; body: string; receives: number }[] = [];

  constructor(private readonly now: () => number) {}

  createQueue(def: QueueDef): void {
    this.queues.set(def.url, { def, messages: [] });
  }

  private byUrl(url: unknown): Queue | null {
    return this.queues.get(String(url)) ?? null;
  }

  private byArn(arn: string): Queue | null {
    for (const q of this.queues.values()) if (q.def.arn === arn) return q;
    return null;
  }

  queueByArn(arn: string): QueueDef {
    const q = this.byArn(arn);
    if (!q) throw new Error(`no queue ${arn}`);
    return q.def;
  }

  /** Messages not yet deleted, visible or in flight. */
  depth(url: string): { visible: number; inFlight: number } {
    const q = this.queues.get(url);
    if (!q) throw new Error(`no queue ${url}`);
    const now = this.now();
    const visible = q.messages.filter((m) => m.visibleAt <= now).length;
    return { visible, inFlight: q.messages.length - visible };
  }

  /** The earliest time an invisible message becomes visible again, or null. */
  nextVisibleAt(url: string): number | null {
    const q = this.queues.get(url)!;
    const now = this.now();
    const times = q.messages.filter((m) => m.visibleAt > now).map((m) => m.visibleAt);
    return times.length ? Math.min(...times) : null;
  }

  bodies(url: string): string[] {
    return (this.queues.get(url)?.messages ?? []).map((m) => m.body);
  }

  private put(q: Queue, body: string): Message {
    const m: Message = {
      id: randomUUID(),
      body,
      md5: md5(body),
      sentAt: this.now(),
      receiveCount: 0,
      firstReceiveAt: null,
      visibleAt: this.now(),
      receiptHandle: null,
    };
    q.messages.push(m);
    this.largestMessage = Math.max(this.largestMessage, Buffer.byteLength(body));
    return m;
  }

  private receive(q: Queue, max: number, visibilityTimeout: number): Message[] {
    const now = this.now();
    const out: Message[] = [];
    for (const m of [...q.messages]) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      // Redrive (SQS developer guide, "Using dead-letter queues"): a message whose receive count has
      // reached maxReceiveCount is moved to the dead-letter queue instead of being received again.
      const redrive = q.def.redrive;
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        const dlq = this.byArn(redrive.deadLetterArn);
        if (!dlq) throw new Error(`dead-letter queue ${redrive.deadLetterArn} does not exist`);
        q.messages.splice(q.messages.indexOf(m), 1);
        dlq.messages.push({ ...m, receiveCount: 0, firstReceiveAt: null, visibleAt: now, receiptHandle: null });
        this.deadLettered.push({ queue: q.def.name, messageId: m.id, body: m.body, receives: m.receiveCount });
        continue;
      }
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      m.visibleAt = now + visibilityTimeout * 1000;
      m.receiptHandle = randomUUID();
      out.push(m);
    }
    return out;
  }

  readonly backend: Backend = async (req) => this.handle(target(req), JSON.parse(req.body.toString('utf8') || '{}'));

  private handle(action: string, input: Record<string, unknown>): Reply {
    const q = this.byUrl(input.QueueUrl);
    const needQueue = (): Reply =>
      jsonError(
        400,
        'com.amazonaws.sqs#QueueDoesNotExist',
        'The specified queue does not exist.',
        'AWS.SimpleQueueService.NonExistentQueue;Sender',
      );
    switch (action) {
      case 'GetQueueUrl': {
        const found = [...this.queues.values()].find((x) => x.def.name === input.QueueName);
        return found ? jsonReply({ QueueUrl: found.def.url }) : needQueue();
      }
      case 'GetQueueAttributes': {
        if (!q) return needQueue();
        const d = this.depth(q.def.url);
        return jsonReply({
          Attributes: {
            QueueArn: q.def.arn,
            VisibilityTimeout: String(q.def.visibilityTimeoutSeconds),
            ApproximateNumberOfMessages: String(d.visible),
            ApproximateNumberOfMessagesNotVisible: String(d.inFlight),
            ...(q.def.redrive
              ? {
                  RedrivePolicy: JSON.stringify({
                    deadLetterTargetArn: q.def.redrive.deadLetterArn,
                    maxReceiveCount: q.def.redrive.maxReceiveCount,
                  }),
                }
              : {}),
          },
        });
      }
      case 'SendMessage': {
        if (!q) return needQueue();
        const body = String(input.MessageBody ?? '');
        if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES)
          return jsonError(400, 'com.amazonaws.sqs#InvalidParameterValue', `message of ${Buffer.byteLength(body)} bytes exceeds 262144`);
        const m = this.put(q, body);
        return jsonReply({ MessageId: m.id, MD5OfMessageBody: m.md5 });
      }
      case 'SendMessageBatch': {
        if (!q) return needQueue();
        const entries = (input.Entries ?? []) as { Id: string; MessageBody: string }[];
        if (entries.length === 0 || entries.length > 10)
          return jsonError(400, 'com.amazonaws.sqs#TooManyEntriesInBatchRequest', `${entries.length} entries`);
        const total = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0);
        if (total > MAX_MESSAGE_BYTES)
          return jsonError(400, 'com.amazonaws.sqs#BatchRequestTooLong', `batch of ${total} bytes exceeds 262144`);
        const Successful = entries.map((e) => {
          const m = this.put(q, e.MessageBody);
          return { Id: e.Id, MessageId: m.id, MD5OfMessageBody: m.md5 };
        });
        return jsonReply({ Successful, Failed: [] });
      }
      case 'ReceiveMessage': {
        if (!q) return needQueue();
        const max = Number(input.MaxNumberOfMessages ?? 1);
        const vt = input.VisibilityTimeout === undefined ? q.def.visibilityTimeoutSeconds : Number(input.VisibilityTimeout);
        const messages = this.receive(q, max, vt);
        return jsonReply({
          Messages: messages.map((m) => ({
            MessageId: m.id,
            ReceiptHandle: m.receiptHandle,
            MD5OfBody: m.md5,
            Body: m.body,
            Attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              SentTimestamp: String(m.sentAt),
              ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
              SenderId: 'AIDAHARNESS',
            },
          })),
        });
      }
      case 'DeleteMessage': {
        if (!q) return needQueue();
        const i = q.messages.findIndex((m) => m.receiptHandle === input.ReceiptHandle);
        if (i < 0) return jsonError(400, 'com.amazonaws.sqs#ReceiptHandleIsInvalid', 'unknown receipt handle');
        q.messages.splice(i, 1);
        return jsonReply({});
      }
      case 'ChangeMessageVisibility': {
        if (!q) return needQueue();
        const m = q.messages.find((x) => x.receiptHandle === input.ReceiptHandle);
        if (!m) return jsonError(400, 'com.amazonaws.sqs#ReceiptHandleIsInvalid', 'unknown receipt handle');
        m.visibleAt = this.now() + Number(input.VisibilityTimeout) * 1000;
        return jsonReply({});
      }
      default:
        return jsonError(400, 'com.amazonaws.sqs#UnsupportedOperation', `${action} is not emulated`);
    }
  }

  /** What IAM would authorize: `sqs:<Action>` on the queue's ARN. */
  readonly describe: Describe = (req) => {
    const input = JSON.parse(req.body.toString('utf8') || '{}') as Record<string, unknown>;
    const action = target(req);
    const q = input.QueueUrl ? this.byUrl(input.QueueUrl) : [...this.queues.values()].find((x) => x.def.name === input.QueueName);
    return {
      // IAM authorizes the batch actions by their single-message permission (SQS API reference, "Permissions").
      action: `sqs:${action.replace(/^(SendMessage|DeleteMessage|ChangeMessageVisibility)Batch$/, '$1')}`,
      resources: [q?.def.arn ?? `arn:aws:sqs:?:?:${String(input.QueueUrl ?? input.QueueName)}`],
      context: {},
      input: { QueueUrl: input.QueueUrl, entries: Array.isArray(input.Entries) ? input.Entries.length : undefined },
    };
  };
}
