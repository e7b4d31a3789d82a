/**
 * The sweep in AWS at the level of its handlers (issue 27 item 5): the sweeper plans a sweep over every
 * disclosed CRL URL (small CRLs batched into one message), and the worker handler runs each queued job with
 * the local sweep's own reading of a URL: real `openssl ca` CRLs served on 127.0.0.1, verified against the
 * disclosing CA certificate, kept in an evidence archive by hash, folded into the revocation index and the
 * sweep state over the table (store/table-*.ts over the memory table). A redelivered job is counted once and
 * the sweep is recorded and announced once; a second sweep brackets a new revocation by the first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Context, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { MemoryTable } from '../../src/adapters/memory/memory-table.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { DisclosureStore } from '../../src/ccadb/store.js';
import { readCertificates } from '../../src/pki/certificate.js';
import type { JobMessage } from '../../src/ports/index.js';
import type { EvidenceArchive } from '../../src/ports/evidence-archive.js';
import type { SweepRun } from '../../src/ports/revocation-index.js';
import { TableRevocationIndex } from '../../src/store/table-revocation-index.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';
import type { SweepJobMessage } from '../../src/sweep/fan-out.js';
import { createSweeperHandler } from '../../functions/sweeper.js';
import { createWorkerHandler, type WorkerDeps } from '../../functions/worker.js';
import { createObservability } from '../../functions/shared/observability.js';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';

const HOUR = 3_600_000;
const run = opensslAvailable() ? describe : describe.skip;

const scheduled = (): ScheduledEvent => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/revwatch-sweep-schedule'],
  detail: {},
});
const sqsRecord = (body: string, receives = 1): SQSRecord => ({
  messageId: crypto.randomUUID(),
  receiptHandle: 'AQEB',
  body,
  attributes: {
    ApproximateReceiveCount: String(receives),
    SentTimestamp: String(Date.now()),
    SenderId: 'AROAEXAMPLE:revwatch-sweeper',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: createHash('md5').update(body).digest('hex'),
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:revwatch-jobs',
  awsRegion: 'eu-west-1',
});
const context = { functionName: 'revwatch-worker', awsRequestId: 'r' } as Context;

run('sweep fan-out: sweeper → queue → worker sweep jobs → "Sweep Completed"', () => {
  const http = new FaultServer();
  let ca: OpensslCa;
  let leaf: IssuedLeaf;
  const table = new MemoryTable();
  const disclosures = new DisclosureStore(table);
  const ledger = new TableSweepState(table);
  const index = new TableRevocationIndex(table);
  const archived = new Map<string, Uint8Array>();
  const archive: EvidenceArchive = {
    putCrl: async (sha256, der) => void archived.set(sha256, der),
    getCrl: async (sha256) => archived.get(sha256) ?? null,
  };
  const queued: JobMessage[] = [];
  const completed: SweepRun[] = [];
  const clock = new SystemClock();
  let fetcher: HttpFetcher;
  let sweeper: ReturnType<typeof createSweeperHandler>;
  let worker: ReturnType<typeof createWorkerHandler>;

  beforeAll(async () => {
    await http.start();
    ca = new OpensslCa(`http://127.0.0.1:${http.port}`, 'Sweep Fan-out CA').init('ec');
    ca.serveOn(http);
    leaf = ca.issue('leaf-1');
    const pem = readFileSync(ca.path('ca.pem'), 'latin1');
    const sha256 = readCertificates(Buffer.from(pem), 'ca')[0]!.sha256;
    await disclosures.replace(
      [
        {
          sha256,
          name: 'Sweep Fan-out CA',
          owner: 'Fan-out Owner',
          subjectKeyId: null,
          fullCrl: http.url('/ca.crl'),
          fullCrls: [http.url('/ca.crl'), http.url('/gone.crl')],
          partitionedCrls: [],
          pem,
          subjectNameHash: null,
        },
      ],
      Date.now(),
      'test',
    );
    // Loopback CRLs: the test's fetcher allows the private network the deployed one refuses.
    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const events = { sweepCompleted: async (r: SweepRun) => void completed.push(r), checkCompleted: async () => {} };
    sweeper = createSweeperHandler(() => ({
      clock,
      disclosures,
      ledger,
      queue: { enqueue: async (m) => void queued.push(...m) },
      events,
      ...createObservability(),
    }));
    worker = createWorkerHandler(
      () =>
        ({
          sweep: { ledger, index, fetcher, clock, events, archive },
          ...createObservability(),
        }) as unknown as WorkerDeps,
    );
  });

  afterAll(async () => {
    await fetcher?.close();
    await ca?.dispose();
    await http.stop();
  });

  const work = async (m: JobMessage) =>
    worker({ Records: [sqsRecord(JSON.stringify(m))] } satisfies SQSEvent, context).then((r) => r.batchItemFailures);

  it('plans one message for the two small (never read) URLs, runs it, records the sweep and announces it once', async () => {
    const planned = await sweeper(scheduled());
    expect(planned.sweep).toMatchObject({ sweep: 1, skipped: null, urls: 2, jobs: 1, finished: false });
    expect(queued).toHaveLength(1);
    const message = queued[0] as SweepJobMessage;
    expect(message.sweepJob.targets.map((t) => t.url).sort()).toEqual([http.url('/ca.crl'), http.url('/gone.crl')]);
    // The next tick while the sweep runs: held, not planned twice.
    expect((await sweeper(scheduled())).sweep.skipped).toMatch(/sweep 1 started .* still has 1 of 1 job\(s\) left/);

    expect(await work(message)).toEqual([]);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ sweep: 1, urls: 2, changed: 1, faults: 1 });
    // Delivered again (at least once): counted once, not announced again.
    expect(await work(message)).toEqual([]);
    expect(completed).toHaveLength(1);

    const state = await ledger.load();
    expect(state.sweeps.map((s) => s.sweep)).toEqual([1]);
    const good = state.urls[http.url('/ca.crl')]!;
    expect(good).toMatchObject({ lastRead: { sweep: 1 }, fault: null });
    expect(archived.has(good.sha256!)).toBe(true);
    expect(state.urls[http.url('/gone.crl')]!.fault).toMatchObject({ sinceSweep: 1 });
    expect(Object.values(state.health).map((f) => [f.code, f.url])).toContainEqual(['crl_unreachable', http.url('/gone.crl')]);
    expect((await index.snapshots(http.url('/ca.crl'))).map((s) => s.sweep)).toEqual([1]);
  });

  it('a second sweep indexes a new revocation, bracketed by the first sweep', async () => {
    ca.revoke(leaf, Date.now() - HOUR, 'keyCompromise');
    queued.length = 0;
    const planned = await sweeper(scheduled());
    expect(planned.sweep).toMatchObject({ sweep: 2, urls: 2, jobs: 1 });
    expect(await work(queued[0]!)).toEqual([]);
    expect(completed.map((r) => r.sweep)).toEqual([1, 2]);
    const [segment] = (await index.segments(http.url('/ca.crl'))).filter((s) => s.sweep === 2);
    expect(segment!.added.map(([serial]) => serial.toLowerCase())).toEqual([leaf.serialHex.toLowerCase()]);
    const issuerKey = segment!.issuerKey;
    const record = (await index.records(issuerKey, [segment!.added[0]![0]])).get(segment!.added[0]![0])!;
    expect(record.listings).toEqual([{ url: http.url('/ca.crl'), firstSeen: 2, notListedAt: 1, removed: null }]);
    expect(record.claims[0]).toMatchObject({ sweep: 2, reasonCode: 1 });
  });

  it('reports a sweep job of an unknown sweep as failed, alone', async () => {
    const bogus: SweepJobMessage = { v: 1, runId: 'sweep-99', jobId: 's0', sweepJob: { sweep: 99, targets: [] } };
    const bad = sqsRecord(JSON.stringify(bogus));
    // Beside it, sweep 2's job delivered once more: a duplicate, which succeeds.
    const failures = await worker({ Records: [bad, sqsRecord(JSON.stringify(queued[0]!))] } satisfies SQSEvent, context);
    expect(failures.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    expect(completed.map((r) => r.sweep)).toEqual([1, 2]);
  });
});
