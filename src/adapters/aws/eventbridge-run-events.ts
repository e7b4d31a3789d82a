/** The RunEvents adapter over EventBridge: one "Check Completed" event per finished run. */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RunRecord } from '../../ports/store.js';
import type { RunEvents } from '../../ports/index.js';

export const EVENT_SOURCE = 'revwatch';
export const CHECK_COMPLETED = 'Check Completed';

export class EventBridgeRunEvents implements RunEvents {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async checkCompleted(run: RunRecord): Promise<void> {
    const r = await this.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: CHECK_COMPLETED, Detail: JSON.stringify(run) }],
      }),
    );
    if ((r.FailedEntryCount ?? 0) > 0) {
      const e = r.Entries?.find((x) => x.ErrorCode);
      throw new Error(`EventBridge refused the "${CHECK_COMPLETED}" event: ${e?.ErrorCode ?? '?'} ${e?.ErrorMessage ?? ''}`.trim());
    }
  }
}
