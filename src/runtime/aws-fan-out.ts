/** AWS mode's fan-out: the SQS job queue (planner) and the EventBridge bus finished runs are announced on. */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeRunEvents } from '../adapters/aws/eventbridge-run-events.js';
import { SqsJobQueue } from '../adapters/aws/sqs-job-queue.js';
import type { Clock, JobQueue, RunEvents } from '../ports/index.js';
import type { SweepEvents } from '../ports/sweep-runs.js';
import { loadEventBusName, loadJobQueueUrl, type Env } from './env.js';

/** The queue REVWATCH_JOB_QUEUE_URL names; resends back off on `clock`. */
export const sqsJobQueue = (env: Env, clock: Clock): JobQueue => new SqsJobQueue(new SQSClient({}), loadJobQueueUrl(env), { clock });

/** The bus REVWATCH_EVENT_BUS names ("Check Completed", "Sweep Completed"). */
export const eventBridgeRunEvents = (env: Env): RunEvents & SweepEvents =>
  new EventBridgeRunEvents(new EventBridgeClient({}), loadEventBusName(env));
