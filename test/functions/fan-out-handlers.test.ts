/**
 * The planner, worker and notifier Lambda handlers, run in-process with
 * realistic EventBridge and SQS events against:
 * - the real DynamoDB adapter on dynalite (the deployed table's stand-in),
 * - an `openssl ocsp` responder and `openssl ca` CRLs on 127.0.0.1,
 * - aws-ses-v2-local as the SES endpoint, through the real SES client.
 * The queue and the event bus are recording fakes at their ports; their SDK
 * adapters are tested at the SDK boundary in sqs-eventbridge-adapters.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, EventBridgeEvent, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { IssuerCache } from '../../src/check/execute.js';
import type { JobMessage, JobQueue, RunEvents } from '../../src/ports/index.js';
import { trackCertificates } from '../../src/track/track.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { SesMailer } from '../../src/adapters/aws/ses-mailer.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { TableStore } from '../../src/store/table-store.js';
import type { RunRecord } from '../../src/ports/store.js';
import { toObservation, unpackRecord } from '../../src/store/layout.js';
import { createPlannerHandler } from '../../functions/planner.js';
import { createWorkerHandler } from '../../functions/worker.js';
import { createNotifierHandler } from '../../functions/notifier.js';
import { createObservability } from '../../functions/shared/observability.js';
import { type DynaliteTable, startDynaliteTable } from '../helpers/dynalite-table.js';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { recipients, SesEmulator } from '../helpers/ses-emulator.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:revwatch-jobs`;
const TABLE = 'revwatch-test';

const run = opensslAvailable() ? describe : describe.skip;

const scheduled = (rule: string): ScheduledEvent => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: ACCOUNT,
  time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: REGION,
  resources: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/${rule}`],
  detail: {},
});

/** An SQS record as Lambda's event source mapping hands it over. */
const sqsRecord = (body: string, receiveCount = 1): SQSRecord => {
  const messageId = crypto.randomUUID();
  return {
    messageId,
    receiptHandle: `AQEB${createHash('sha256').update(messageId).digest('base64')}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AROAEXAMPLE:revwatch-planner',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: REGION,
  };
};

const lambdaContext = (name: string): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: name,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
  memoryLimitInMB: '1024',
  awsRequestId: crypto.randomUUID(),
  logGroupName: `/aws/lambda/${name}`,
  logStreamName: '2026/11/23/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 300_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

run('Lambda handlers: planner → SQS → worker → EventBridge → notifier → SES', () => {
  const http = new FaultServer();
  const ses = new SesEmulator();
  let db: DynaliteTable;
  let store: TableStore;
  let ca: OpensslCa;
  let fetcher: HttpFetcher;
  const clock = new SystemClock();
  const leaves: Record<string, IssuedLeaf> = {};
  const serial = (name: string): string => readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!.serial;
  const now = Date.now();
  const reportedAt = Math.floor((now - 3 * DAY) / 60_000) * 60_000;

  const queued: JobMessage[] = [];
  const queue: JobQueue = { enqueue: async (m) => void queued.push(...m) };
  const announced: RunRecord[] = [];
  const events: RunEvents = { checkCompleted: async (r) => void announced.push(r) };
  const stdout: string[] = [];

  const items = async (): Promise<Record<string, any>[]> => {
    const out: Record<string, any>[] = [];
    let start: Record<string, any> | undefined;
    do {
      const r = await db.client.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
      out.push(...(r.Items ?? []).map((i) => unmarshall(i)));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  };
  const emails = () => ses.emails();
  /** The sum of a metric over every EMF document written so far (one flush holds an array when a metric was added twice). */
  const emf = (metric: string): number =>
    stdout
      .filter((l) => l.includes('"CloudWatchMetrics"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((m) =>
        (m._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics.some(
          (d) => d.Namespace === 'revwatch' && d.Dimensions[0]?.[0] === 'service',
        ),
      )
      .flatMap((m) => [m[metric] ?? 0].flat() as number[])
      .reduce((n, v) => n + v, 0);

  let planner: ReturnType<typeof createPlannerHandler>;
  let worker: ReturnType<typeof createWorkerHandler>;
  let notifier: ReturnType<typeof createNotifierHandler>;

  beforeAll(async () => {
    db = await startDynaliteTable({ tableName: TABLE, region: REGION });
    const { table } = db;
    store = new TableStore(table);

    await ses.start();

    await http.start();
    ca = new OpensslCa(`http://127.0.0.1:${http.port}`).init('ec');
    for (const name of ['on-time', 'late', 'overdue', 'shared']) leaves[name] = ca.issue(name);
    ca.revoke(leaves['on-time']!, reportedAt + 2 * HOUR, 'keyCompromise');
    ca.revoke(leaves.late!, reportedAt + 30 * HOUR, 'keyCompromise');
    ca.serveOn(http);
    await ca.startResponder({ signer: 'delegated' });

    const issuer = readCertificates(readFileSync(ca.path('ca.pem')), 'ca.pem')[0]!;
    const entries = (names: string[]) =>
      names.map((n) => ({ certificate: readCertificates(readFileSync(leaves[n]!.pemPath), n)[0]!, bundle: [], source: n }));
    await trackCertificates(
      { store, clock },
      {
        id: 'kc',
        title: 'Key compromise at Test CA',
        reportedAt,
        reason: 'key-compromise',
        kind: 'tls-subscriber',
        notify: ['incident@reporter.example'],
      },
      entries(['on-time', 'late', 'overdue', 'shared']),
      [issuer],
    );
    // A second case tracks one of the same certificates: one request answers for both.
    await trackCertificates(
      { store, clock },
      { id: 'other', title: 'Another report', reportedAt: now - HOUR, reason: 'key-compromise', kind: 'tls-subscriber' },
      entries(['shared']),
      [issuer],
    );

    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const observability = createObservability();
    const mailer = new SesMailer(ses.client());
    // Two OCSP requests per message, and payloads over 512 bytes kept in the table, so both paths run.
    planner = createPlannerHandler(() => ({
      store,
      queue,
      events,
      clock,
      ...observability,
      options: { ocspBatchSize: 2, maxInlineBytes: 512 },
    }));
    worker = createWorkerHandler(() => ({ store, fetcher, clock, events, issuers: new IssuerCache(store), ...observability }));
    notifier = createNotifierHandler(() => ({
      store,
      disclosures: null,
      mailer,
      clock,
      mail: { sender: 'revwatch@ca.example', defaultRecipients: ['compliance@ca.example'], digestRecipients: [] },
      ...observability,
    }));

    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: any[]) => {
      stdout.push(...String(chunk).split('\n').filter(Boolean));
      return write(chunk, ...rest);
    });
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await fetcher?.close();
    await ca?.dispose();
    await http.stop();
    await db?.close();
    await ses.stop();
  });

  it('plans one message per CRL URL and per batch of OCSP requests, and holds the next run while one is open', async () => {
    const planned = await planner(scheduled('revwatch-check-schedule'));
    // 4 certificates share one CRL URL (one job with every serial); 4 OCSP requests in batches of 2.
    expect(planned).toMatchObject({ skipped: null, certificates: 5, crlJobs: 1, ocspBatches: 2, ocspRequests: 4, finished: false });
    expect(queued).toHaveLength(3);
    const crlMessage = queued.find((m) => m.job?.kind === 'crl' || !m.job)!;
    // The CRL job (4 certificates, over 512 bytes) waits in the table; the message only names it.
    expect(planned.payloadsInTable).toBeGreaterThanOrEqual(1);
    expect(crlMessage.job).toBeUndefined();
    const open = (await items()).filter((i) => i.pk === 'OPENRUNS');
    expect(open).toMatchObject([{ runId: planned.runId, jobs: 3, remaining: 3, certificates: 5 }]);
    expect((await items()).filter((i) => i.pk === `JOB#${planned.runId}`).length).toBeGreaterThanOrEqual(1);

    const again = await planner(scheduled('revwatch-check-schedule'));
    expect(again.runId).toBeNull();
    expect(again.skipped).toMatch(/still has 3 of 3 job\(s\) left/);
    expect(queued).toHaveLength(3);
  });

  it('runs every job, counts a redelivered one once, reports a poison message alone, and finishes the run once', async () => {
    const [first, ...rest] = queued;
    const one = await worker({ Records: [sqsRecord(JSON.stringify(first))] } satisfies SQSEvent, lambdaContext('revwatch-worker'));
    expect(one.batchItemFailures).toEqual([]);
    // The same message again (the queue delivers at least once): done again, counted once.
    expect((await worker({ Records: [sqsRecord(JSON.stringify(first), 2)] }, lambdaContext('revwatch-worker'))).batchItemFailures).toEqual(
      [],
    );

    const poison = sqsRecord('{"hello":"world"}');
    const batch = await worker(
      { Records: [sqsRecord(JSON.stringify(rest[0])), poison, sqsRecord(JSON.stringify(rest[1]))] },
      lambdaContext('revwatch-worker'),
    );
    // Only the poison message goes back to the queue (and, after three receives, to the dead-letter queue).
    expect(batch.batchItemFailures).toEqual([{ itemIdentifier: poison.messageId }]);

    expect(announced).toHaveLength(1);
    const all = await items();
    const runs = all.filter((i) => i.pk === 'RUNS');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ runId: announced[0]!.runId, certificates: 5, sourcesFailed: 0 });
    // 4 certificates x (CRL + OCSP), once each: the redelivered job was not run again.
    const observations = all
      .filter((i) => String(i.sk).startsWith('OBS#'))
      .map((i) => ({ ...toObservation(i), certificate: String(i.pk).slice('CERT#'.length) }));
    expect(observations.filter((o) => o.source.kind === 'crl')).toHaveLength(4);
    expect(observations.filter((o) => o.source.kind === 'ocsp')).toHaveLength(4);
    const revoked = observations.filter((o) => o.status === 'revoked').map((o) => o.certificate);
    expect(new Set(revoked).size).toBe(2);
    expect(runs[0]!.observationsWritten).toBe(8);
    // The evidence record of the shared certificate was updated in both cases that track it, from its CRL
    // and OCSP answers alike (two workers, one record: conditional writes on its revision).
    const sharedSha = readCertificates(readFileSync(leaves.shared!.pemPath), 'shared')[0]!.sha256;
    const shared = all.filter((i) => i.sk === `CERT#${sharedSha}`);
    expect(new Set(shared.map((i) => i.pk))).toEqual(new Set(['CASE#kc', 'CASE#other']));
    for (const item of shared) {
      expect(Object.keys(unpackRecord(String(item.ev)).sources).sort()).toEqual([
        expect.stringMatching(/^crl /),
        expect.stringMatching(/^ocsp /),
      ]);
      expect(item.rev).toBe(2);
    }
    // Both cases changed: the notifier will look at them.
    expect(
      all
        .filter((i) => i.pk === 'CHANGED')
        .map((i) => i.sk)
        .sort(),
    ).toEqual(['CASE#kc', 'CASE#other']);
    expect(all.find((i) => i.pk === 'OPENRUNS')).toMatchObject({ remaining: 0 });
    expect(all.find((i) => i.pk === 'OPENRUNS')!.finishedAt).toEqual(expect.any(Number));
    // The metric the "no successful check for an hour" alarm watches, in EMF on stdout.
    expect(emf('ChecksCompleted')).toBe(1);
    expect(emf('CheckJobsDone')).toBe(4);
  });

  it('sends the due notices through SES once per case after the "Check Completed" event, and nothing twice', async () => {
    const event: EventBridgeEvent<'Check Completed', RunRecord> = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Check Completed',
      source: 'revwatch',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: REGION,
      resources: [],
      detail: announced[0]!,
    };
    const result = await notifier(event);
    const inbox = await emails();
    // "other" was reported an hour ago and nothing in it is due yet: one email, for "kc".
    expect(result.emails).toBe(1);
    expect(inbox).toHaveLength(1);
    const kc = inbox.find((e) => e.subject.includes('Key compromise at Test CA'))!;
    expect(kc.from).toBe('revwatch@ca.example');
    expect(recipients(kc)).toEqual(['compliance@ca.example', 'incident@reporter.example']);
    expect(kc.subject).toMatch(/deadline missed/);
    expect(kc.subject).toMatch(/2 revoked/);
    expect(kc.body.text).toContain(serial('overdue'));
    expect(kc.attachments.map((a) => a.filename)).toEqual(['kc-certificates.csv']);
    expect((await items()).filter((i) => i.pk === 'CHANGED')).toEqual([]);

    // The hourly backstop finds nothing new to send.
    expect(await notifier(scheduled('revwatch-notices-hourly'))).toEqual({ emails: 0, notices: 0 });
    expect(await emails()).toHaveLength(1);
  });

  it('lets the CLI read the table the functions wrote (--aws with REVWATCH_TABLE)', async () => {
    const env = {
      ...process.env,
      REVWATCH_TABLE: TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const r = await exec('node', ['bin/revwatch.js', '--aws', '--json', 'status', '--case', 'kc'], { env, encoding: 'utf8' });
    const status = JSON.parse(r.stdout) as { cases: { id: string; certificates: { serial: string; verdict: string }[] }[] };
    const verdicts = Object.fromEntries(status.cases[0]!.certificates.map((c) => [c.serial, c.verdict]));
    expect(verdicts).toEqual({
      [serial('on-time')]: 'revoked_on_time',
      [serial('late')]: 'revoked_late',
      [serial('overdue')]: 'overdue',
      [serial('shared')]: 'overdue',
    });
  });
});
