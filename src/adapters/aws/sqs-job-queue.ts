/** The JobQueue adapter over SQS: SendMessageBatch, ten messages and at most 256 KiB per request. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SystemClock } from '../system-clock.js';
import type { Clock, JobMessage, JobQueue } from '../../ports/index.js';
import { retry } from '../../util/retry.js';

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface SqsJobQueueOptions {
  /** Sends of a batch's failed entries, the first included (3 unless given). */
  readonly attempts?: number;
  /** Backoff between resends of failed entries (200 ms, then 400 ms, …) sleeps on this clock. */
  readonly clock?: Clock;
}

export class SqsJobQueue implements JobQueue {
  private readonly attempts: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    options: SqsJobQueueOptions = {},
  ) {
    this.attempts = options.attempts ?? 3;
    this.clock = options.clock ?? new SystemClock();
  }

  async enqueue(messages: readonly JobMessage[]): Promise<void> {
    const batches: { Id: string; MessageBody: string }[][] = [];
    let batch: { Id: string; MessageBody: string }[] = [];
    let bytes = 0;
    for (const m of messages) {
      const body = JSON.stringify(m);
      const size = Buffer.byteLength(body);
      if (batch.length === MAX_BATCH_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push({ Id: m.jobId, MessageBody: body });
      bytes += size;
    }
    if (batch.length > 0) batches.push(batch);
    for (const entries of batches) await this.sendBatch(entries);
  }

  /** A batch can partly fail (throttling, a transient service fault): the failed entries are sent again. */
  private async sendBatch(entries: { Id: string; MessageBody: string }[]): Promise<void> {
    let pending = entries;
    let refused = '';
    await retry(
      { attempts: this.attempts, baseMs: 200, clock: this.clock },
      async () => {
        const r = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((r.Failed ?? []).map((f) => f.Id));
        if (failed.size === 0) return { done: true, value: undefined };
        const first = r.Failed![0]!;
        refused = `SQS refused ${failed.size} job message(s): ${first.Code ?? '?'} ${first.Message ?? ''}`.trim();
        // A sender fault (a malformed entry) fails the same way every time: no point sending it again.
        if ((r.Failed ?? []).some((f) => f.SenderFault)) throw new Error(refused);
        pending = pending.filter((e) => failed.has(e.Id));
        return { done: false };
      },
      () => new Error(refused),
    );
  }
}
