/** The RunEvents adapter over EventBridge: one "Check Completed" event per finished run, one "Sweep Completed" per finished sweep. */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { RunRecord } from '../../ports/store.js';
import type { RunEvents } from '../../ports/index.js';
import type { SweepRun } from '../../ports/revocation-index.js';
import type { SweepEvents } from '../../ports/sweep-runs.js';

export const EVENT_SOURCE = 'revwatch';
export const CHECK_COMPLETED = 'Check Completed';
export const SWEEP_COMPLETED = 'Sweep Completed';

export class EventBridgeRunEvents implements RunEvents, SweepEvents {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async checkCompleted(run: RunRecord): Promise<void> {
    await this.put(CHECK_COMPLETED, run);
  }

  async sweepCompleted(run: SweepRun): Promise<void> {
    await this.put(SWEEP_COMPLETED, run);
  }

  private async put(detailType: string, detail: unknown): Promise<void> {
    const r = await this.client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: this.busName, Source: EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );
    if ((r.FailedEntryCount ?? 0) > 0) {
      const e = r.Entries?.find((x) => x.ErrorCode);
      throw new Error(`EventBridge refused the "${detailType}" event: ${e?.ErrorCode ?? '?'} ${e?.ErrorMessage ?? ''}`.trim());
    }
  }
}
