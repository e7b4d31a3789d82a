/** The JobQueue adapter over SQS: SendMessageBatch, ten messages and at most 256 KiB per request. */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { JobMessage, JobQueue } from '../../ports.js';

const MAX_BATCH_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly attempts = 3,
  ) {}

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
    for (let attempt = 1; ; attempt++) {
      const r = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      const failed = new Set((r.Failed ?? []).map((f) => f.Id));
      if (failed.size === 0) return;
      const first = r.Failed![0]!;
      if (attempt >= this.attempts || (r.Failed ?? []).some((f) => f.SenderFault)) {
        throw new Error(`SQS refused ${failed.size} job message(s): ${first.Code ?? '?'} ${first.Message ?? ''}`.trim());
      }
      pending = pending.filter((e) => failed.has(e.Id));
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}
