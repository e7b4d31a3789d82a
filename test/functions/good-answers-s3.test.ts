/**
 * The exact backdating bound in AWS mode: the planner's runs go through the
 * worker handler (functions/worker.ts) with the S3 good-answer log on the
 * real S3 client, against the repo's S3 emulator (test/aws/s3-emulator.ts)
 * behind a loopback endpoint, the real DynamoDB adapter on dynalite, and an
 * `openssl ocsp` responder on 127.0.0.1, on the real clock, runs a second or
 * more apart. Unchanged good answers are written to S3 only (one object per
 * job and source, never per certificate in the table); when the revocation
 * arrives, the worker takes the last good answer of the previous run from
 * S3 into the record: `revwatch --aws status` shows lastSeenGoodAt in that
 * run, the effective revocation time it vouched, and the backdating.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSEvent } from 'aws-lambda';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { IssuerCache } from '../../src/check/execute.js';
import { planRun } from '../../src/check/fan-out.js';
import type { JobMessage, RunEvents } from '../../src/ports/index.js';
import type { RunRecord } from '../../src/ports/store.js';
import { trackCertificates } from '../../src/track/track.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { TableStore } from '../../src/store/table-store.js';
import { GOOD_ANSWERS_PREFIX, S3GoodAnswerLog } from '../../src/adapters/aws/s3-good-answer-log.js';
import { createWorkerHandler, workerDepsFromEnvironment } from '../../functions/worker.js';
import { createObservability } from '../../functions/shared/observability.js';
import { run } from '../../src/cli/main.js';
import { Gateway } from '../aws/gateway.js';
import { S3Emulator } from '../aws/s3-emulator.js';
import { type DynaliteTable, startDynaliteTable } from '../helpers/dynalite-table.js';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';

const DAY = 86_400_000;
const REGION = 'eu-west-1';
const TABLE = 'revwatch-good-answers-s3';
const BUCKET = 'revwatch-good-answers';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

const lambdaContext = (): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'revwatch-worker',
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${REGION}:123456789012:function:revwatch-worker`,
  memoryLimitInMB: '1024',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/revwatch-worker',
  logStreamName: '2026/12/07/[$LATEST]0123456789abcdef',
  getRemainingTimeInMillis: () => 300_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

const sqsEvent = (message: JobMessage): SQSEvent => ({
  Records: [
    {
      messageId: randomUUID(),
      receiptHandle: 'AQEB',
      body: JSON.stringify(message),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'AROAEXAMPLE:revwatch-planner',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(JSON.stringify(message)).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:revwatch-jobs`,
      awsRegion: REGION,
    },
  ],
});

const suite = opensslAvailable() ? describe : describe.skip;

suite('AWS mode: the good-answer log in S3 bounds a backdated revocation to the run', { timeout: 240_000 }, () => {
  const http = new FaultServer();
  const emulator = new S3Emulator(() => Date.now());
  const gateway = new Gateway('s3', emulator.backend, emulator.describe);
  const clock = new SystemClock();
  const started = Date.now();
  // misissuance: MUST by reported + 5 days, a second after the test starts; the claimed time is a minute before it.
  const reportedAt = Math.floor(started / 1000) * 1000 - 5 * DAY + 1000;
  const claimed = Math.floor(started / 1000) * 1000 - 60_000;
  let ca: OpensslCa;
  let leaf: IssuedLeaf;
  let store: TableStore;
  let db: DynaliteTable;
  let s3: S3Client;
  let fetcher: HttpFetcher;
  let worker: ReturnType<typeof createWorkerHandler>;
  const announced: RunRecord[] = [];
  const events: RunEvents = { checkCompleted: async (r) => void announced.push(r) };

  /** One scheduled run: planned, each queued job through the worker handler, then the run's record. */
  const checkRun = async (): Promise<{ startedAt: number; finishedAt: number }> => {
    const queued: JobMessage[] = [];
    const plan = await planRun({ store, queue: { enqueue: async (m) => void queued.push(...m) }, events, clock }, {});
    expect(plan.skipped).toBeNull();
    for (const message of queued) {
      const r = await worker(sqsEvent(message), lambdaContext());
      expect(r.batchItemFailures).toEqual([]);
    }
    const record = announced.find((a) => a.runId === plan.runId)!;
    expect(record).toBeDefined();
    return { startedAt: record.startedAt, finishedAt: record.finishedAt };
  };

  const statusOfLeaf = async (): Promise<Record<string, any>> => {
    let out = '';
    let err = '';
    const code = await run(['--aws', '--json', 'status'], {
      stdout: (s) => (out += s),
      stderr: (s) => (err += s),
      env: { REVWATCH_TABLE: TABLE },
      clock,
    });
    expect(code, err).toBe(0);
    const sha = readCertificates(readFileSync(leaf.pemPath), leaf.name)[0]!.sha256;
    const all = (JSON.parse(out) as { cases: { certificates: Record<string, any>[] }[] }).cases.flatMap((c) => c.certificates);
    return all.find((c) => c.sha256 === sha)!;
  };

  beforeAll(async () => {
    // The CLI's AWS mode (statusOfLeaf) reaches the table through the SDK's default chain: point it at dynalite.
    db = await startDynaliteTable({ tableName: TABLE, region: REGION, pointProcessEnv: true });
    store = new TableStore(db.table);

    emulator.createBucket(BUCKET);
    await gateway.start('127.0.0.1');
    s3 = new S3Client({
      endpoint: gateway.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });

    await http.start();
    const base = `http://127.0.0.1:${http.port}`;
    ca = new OpensslCa(base, 'S3 Good Answers CA').init('ec');
    ca.appendConfig(
      [
        '[ocsp_only_ext]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        `authorityInfoAccess = OCSP;URI:${base}/ocsp`,
      ].join('\n'),
    );
    leaf = ca.issue('leaf-ocsp', 'ocsp_only_ext');
    ca.serveOn(http);
    await ca.startResponder({ signer: 'delegated' });
    const issuer = readCertificates(readFileSync(ca.path('ca.pem')), 'ca.pem')[0]!;
    await trackCertificates(
      { store, clock },
      { id: 'late-ocsp', title: 'Misissued at S3 Good Answers CA', reportedAt, reason: 'misissuance', kind: 'tls-subscriber' },
      [{ certificate: readCertificates(readFileSync(leaf.pemPath), leaf.name)[0]!, bundle: [], source: 'test' }],
      [issuer],
    );

    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const observability = createObservability();
    // The worker's deps as functions/worker.ts builds them, with loopback fetching allowed for the test CA.
    worker = createWorkerHandler(() => ({
      store,
      fetcher,
      clock,
      events,
      issuers: new IssuerCache(store),
      goodAnswers: (job) => new S3GoodAnswerLog(s3, BUCKET, job),
      ...observability,
    }));
  });

  afterAll(async () => {
    await fetcher?.close();
    await ca?.dispose();
    await http.stop();
    await gateway.stop();
    s3?.destroy();
    await db?.close();
  });

  it('the deployed worker gets the S3 log when REVWATCH_GOOD_ANSWERS_BUCKET names its bucket', () => {
    const env = { REVWATCH_TABLE: TABLE, REVWATCH_EVENT_BUS: 'revwatch-bus' };
    expect(workerDepsFromEnvironment(env).goodAnswers).toBeUndefined();
    const deps = workerDepsFromEnvironment({ ...env, REVWATCH_GOOD_ANSWERS_BUCKET: BUCKET });
    expect(deps.goodAnswers?.({ runId: 'r', runStartedAt: started, jobId: 'j0' })).toBeInstanceOf(S3GoodAnswerLog);
  });

  const goodRuns: { startedAt: number; finishedAt: number }[] = [];
  let revokedRun: { startedAt: number; finishedAt: number };

  it('good answers go to S3 once per run and job, not to the table; the revocation takes the last of them', async () => {
    for (let i = 0; i < 4; i++) {
      await sleep(1100); // each good answer in its own second
      goodRuns.push(await checkRun());
    }
    // Only the first run wrote an observation; every run wrote one S3 object (one job, one source).
    const runsAfterGood = announced.slice();
    expect(runsAfterGood.map((r) => r.observationsWritten)).toEqual([1, 0, 0, 0]);
    const keys = [...emulator.objects(BUCKET).keys()].sort();
    expect(keys).toHaveLength(4);
    for (const key of keys)
      expect(key).toMatch(/^good-answers\/[0-9T.Z-]+_[0-9a-f-]{36}\/[0-9a-f]{16}\/[0-9a-f]{16}-[0-9a-f]{16}_j0\.jsonl\.gz$/);
    const lines = gunzipSync(emulator.objects(BUCKET).get(keys[3]!)!.body).toString('utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).o.status).toBe('good');

    ca.revoke(leaf, claimed, 'keyCompromise');
    await ca.startResponder({ signer: 'delegated' }); // `openssl ocsp` reads index.txt when it starts
    await sleep(1100);
    const before = gateway.calls.length;
    revokedRun = await checkRun();
    // The revoked answer and the previous run's good answer taken from S3.
    expect(announced[announced.length - 1]!.observationsWritten).toBe(2);
    const reads = gateway.calls.slice(before).map((c) => c.action);
    expect(reads.filter((a) => a === 's3:GetObject')).toHaveLength(1);
    expect(keys.every((k) => k.startsWith(GOOD_ANSWERS_PREFIX))).toBe(true);
  });

  it('revoked late from the last good answer of the previous run, backdated, lastSeenGoodAt to the second', async () => {
    const cert = await statusOfLeaf();
    const lastGood = goodRuns[goodRuns.length - 1]!;
    const beforeLast = goodRuns[goodRuns.length - 2]!;
    const seen = Date.parse(cert.lastSeenGoodAt);
    // Without the log the record's last good is the first run's (the only one written): this is the last run's.
    expect(seen).toBeGreaterThanOrEqual(Math.floor(lastGood.startedAt / 1000) * 1000);
    expect(seen).toBeLessThanOrEqual(lastGood.finishedAt);
    expect(seen).toBeGreaterThan(beforeLast.finishedAt);
    expect(Date.parse(cert.firstSeenRevokedAt)).toBeGreaterThanOrEqual(Math.floor(revokedRun.startedAt / 1000) * 1000);
    expect(cert.revocationTime).toBe(iso(claimed));
    // The effective time is the producedAt of the last good answer, within the previous run.
    const effective = Date.parse(cert.effectiveRevocationTime);
    expect(effective).toBeGreaterThanOrEqual(Math.floor(lastGood.startedAt / 1000) * 1000);
    expect(effective).toBeLessThanOrEqual(lastGood.finishedAt);
    expect(effective).toBeGreaterThan(reportedAt + 5 * DAY);
    expect(cert.verdict).toBe('revoked_late');
    const backdated = (cert.findings as { code: string; message: string }[]).find((f) => f.code === 'revocation_backdated');
    expect(backdated?.message).toContain(`earlier than a signed "good" answer of ${iso(effective)}`);
  });
});

describe('S3GoodAnswerLog on the real S3 client', () => {
  const emulator = new S3Emulator(() => Date.now());
  const gateway = new Gateway('s3', emulator.backend, emulator.describe);
  let s3: S3Client;
  const T0 = Date.parse('2026-12-07T00:00:00Z');
  const source = { kind: 'ocsp' as const, url: 'http://ocsp.ca.example/' };
  const answer = (sha256Cert: string, observedAt: number) => ({
    sha256Cert,
    observedAt,
    source,
    status: 'good' as const,
    revocationTime: null,
    reasonCode: null,
    thisUpdate: observedAt,
    nextUpdate: observedAt + DAY,
    producedAt: observedAt,
    raw: Buffer.from(`signed ${sha256Cert.slice(0, 4)} ${observedAt}`),
  });
  const sha = (first: string) => first.repeat(64).slice(0, 64);

  beforeAll(async () => {
    emulator.createBucket(BUCKET);
    await gateway.start('127.0.0.1');
    s3 = new S3Client({
      endpoint: gateway.url,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    s3?.destroy();
    await gateway.stop();
  });

  it('two jobs of a run write their own objects; a later run reads only the object covering the certificate, and walks back past a run without it', async () => {
    const run1 = { runId: randomUUID(), runStartedAt: T0 };
    const a = new S3GoodAnswerLog(s3, BUCKET, { ...run1, jobId: 'j0' });
    const b = new S3GoodAnswerLog(s3, BUCKET, { ...run1, jobId: 'j1' });
    a.add(answer(sha('1'), T0 + 1000));
    a.add(answer(sha('2'), T0 + 1000));
    b.add(answer(sha('8'), T0 + 2000));
    b.add(answer(sha('9'), T0 + 2000));
    await Promise.all([a.commit(T0 + 3000), b.commit(T0 + 3000)]);
    expect([...emulator.objects(BUCKET).keys()].map((k) => k.split('/').pop()).sort()).toEqual([
      `${sha('1').slice(0, 16)}-${sha('2').slice(0, 16)}_j0.jsonl.gz`,
      `${sha('8').slice(0, 16)}-${sha('9').slice(0, 16)}_j1.jsonl.gz`,
    ]);
    // Run 2 logs certificate 8 again, not 2 (its source failed for it, say).
    const run2 = { runId: randomUUID(), runStartedAt: T0 + 15 * 60_000 };
    const c = new S3GoodAnswerLog(s3, BUCKET, { ...run2, jobId: 'j0' });
    c.add(answer(sha('8'), run2.runStartedAt + 1000));
    await c.commit(run2.runStartedAt + 2000);

    const run3 = { runId: randomUUID(), runStartedAt: T0 + 30 * 60_000 };
    const reader = new S3GoodAnswerLog(s3, BUCKET, { ...run3, jobId: 'j0' });
    const before = gateway.calls.length;
    const found = await reader.latest([sha('2'), sha('8')], () => [source]);
    expect(found.get(sha('8'))!.map((o) => o.observedAt)).toEqual([run2.runStartedAt + 1000]);
    expect(found.get(sha('2'))!.map((o) => o.observedAt)).toEqual([T0 + 1000]);
    expect(Buffer.from(found.get(sha('2'))![0]!.raw!).toString()).toBe(`signed 2222 ${T0 + 1000}`);
    const gets = gateway.calls.slice(before).filter((x) => x.action === 's3:GetObject');
    // Run 2's one object (has 8, not 2), then run 1's j0 (has 2); run 1's j1 does not cover 2 and is not read.
    expect(gets.map((x) => String(x.input.key).split('_').pop())).toEqual(['j0.jsonl.gz', 'j0.jsonl.gz']);
    expect(gets).toHaveLength(2);
    // Without sources nothing is looked up in S3; a certificate never logged is absent.
    expect((await reader.latest([sha('2')])).size).toBe(0);
    expect((await reader.latest([sha('c')], () => [source])).size).toBe(0);
  });
});
