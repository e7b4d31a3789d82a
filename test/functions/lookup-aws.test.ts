/**
 * `revwatch --aws lookup` and `revwatch --aws crl-health` read what the deployed sweep keeps in the table
 * (issue 27 items 3-5): the sweeper and the worker handlers sweep real `openssl ca` CRLs served on 127.0.0.1
 * into a DynamoDB table (dynalite, through the real SDK client), and the CLI in AWS mode, reaching that table
 * through the SDK's default chain, answers from it: the revocation index's bracket and claim for a serial
 * (given in hex and as a certificate file), "not listed" for one never revoked, and the open CRL-health
 * finding of the URL that answers 404. The local home is empty, so nothing can come from local files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, ScheduledEvent, SQSEvent } from 'aws-lambda';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { DisclosureStore } from '../../src/ccadb/store.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { normalizeSerialHex } from '../../src/pki/crl.js';
import type { JobMessage } from '../../src/ports/index.js';
import type { EvidenceArchive } from '../../src/ports/evidence-archive.js';
import { TableRevocationIndex } from '../../src/store/table-revocation-index.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';
import type { LookupAnswer } from '../../src/sweep/lookup.js';
import type { HealthReport } from '../../src/sweep/health-report.js';
import { createSweeperHandler } from '../../functions/sweeper.js';
import { createWorkerHandler, type WorkerDeps } from '../../functions/worker.js';
import { createObservability } from '../../functions/shared/observability.js';
import { run } from '../../src/cli/main.js';
import { type DynaliteTable, startDynaliteTable } from '../helpers/dynalite-table.js';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';

const REGION = 'eu-west-1';
const TABLE = 'revwatch-lookup-aws-test';
const HOUR = 3_600_000;
const suite = opensslAvailable() ? describe : describe.skip;

const scheduled = (): ScheduledEvent => ({
  version: '0',
  id: crypto.randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region: REGION,
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/revwatch-sweep-schedule'],
  detail: {},
});
const sqsEvent = (m: JobMessage): SQSEvent => {
  const body = JSON.stringify(m);
  return {
    Records: [
      {
        messageId: crypto.randomUUID(),
        receiptHandle: 'AQEB',
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'AROAEXAMPLE:revwatch-sweeper',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:revwatch-jobs',
        awsRegion: REGION,
      },
    ],
  };
};

suite('--aws lookup and --aws crl-health read the sweep the workers wrote to the table', { timeout: 180_000 }, () => {
  const http = new FaultServer();
  const clock = new SystemClock();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-lookup-aws-home-'));
  let db: DynaliteTable;
  let fetcher: HttpFetcher;
  let ca: OpensslCa;
  let revoked: IssuedLeaf;
  let good: IssuedLeaf;

  /** The CLI in-process in AWS mode (REVWATCH_TABLE), its JSON answer parsed. */
  const cli = async <T>(...args: string[]): Promise<T> => {
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, '--aws', '--json', ...args], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: (s) => {
        stderr += s;
      },
      env: { REVWATCH_TABLE: TABLE },
      clock,
    });
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as T;
  };

  beforeAll(async () => {
    // The CLI's AWS mode reaches the table through the SDK's default chain: point it at dynalite.
    db = await startDynaliteTable({ tableName: TABLE, region: REGION, pointProcessEnv: true });
    const { table } = db;

    await http.start();
    ca = new OpensslCa(`http://127.0.0.1:${http.port}`, 'Lookup AWS CA').init('ec');
    ca.serveOn(http);
    revoked = ca.issue('leaf-revoked');
    good = ca.issue('leaf-good');
    const pem = readFileSync(ca.path('ca.pem'), 'latin1');
    const disclosures = new DisclosureStore(table);
    await disclosures.replace(
      [
        {
          sha256: readCertificates(Buffer.from(pem), 'ca')[0]!.sha256,
          name: 'Lookup AWS CA',
          owner: 'Lookup Owner',
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

    // Two sweeps through the deployed handlers over the table: the leaf is revoked between them.
    fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    const ledger = new TableSweepState(table);
    const index = new TableRevocationIndex(table);
    // The evidence bucket as a map: a changed CRL is diffed against the previous one read back from it.
    const archived = new Map<string, Uint8Array>();
    const archive: EvidenceArchive = {
      putCrl: async (sha256, der) => void archived.set(sha256, der),
      getCrl: async (sha256) => archived.get(sha256) ?? null,
    };
    const events = { sweepCompleted: async () => {}, checkCompleted: async () => {} };
    const queued: JobMessage[] = [];
    const sweeper = createSweeperHandler(() => ({
      clock,
      disclosures,
      ledger,
      queue: { enqueue: async (m) => void queued.push(...m) },
      events,
      ...createObservability(),
    }));
    const worker = createWorkerHandler(
      () =>
        ({
          sweep: { ledger, index, fetcher, clock, events, archive },
          ...createObservability(),
        }) as unknown as WorkerDeps,
    );
    const sweep = async (): Promise<void> => {
      queued.length = 0;
      await sweeper(scheduled());
      for (const m of queued)
        expect((await worker(sqsEvent(m), { functionName: 'revwatch-worker', awsRequestId: 'r' } as Context)).batchItemFailures).toEqual(
          [],
        );
    };
    await sweep();
    ca.revoke(revoked, Date.now() - HOUR, 'keyCompromise');
    await sweep();
  }, 180_000);

  afterAll(async () => {
    await fetcher?.close();
    await ca?.dispose();
    await http.stop();
    await db?.close();
  });

  it('lookup --aws answers from the table: bracket, claim and snapshot of the revoked serial, in hex and as a certificate file', async () => {
    const answers = await cli<LookupAnswer[]>('lookup', revoked.serialHex, revoked.pemPath, good.serialHex);
    expect(answers).toHaveLength(3);
    const [byHex, byFile, never] = answers as [LookupAnswer, LookupAnswer, LookupAnswer];
    expect(byHex).toMatchObject({ listed: true, known: true });
    expect(byHex.serial).toBe(normalizeSerialHex(revoked.serialHex));
    const listing = byHex.issuers[0]!.listings[0]!;
    expect(listing).toMatchObject({ url: http.url('/ca.crl'), listed: true, removed: null });
    // First seen by the second sweep, not listed at the first: the bracket.
    expect(listing.notListedBefore!.sweep).toBe(listing.firstSeen.sweep - 1);
    expect(listing.firstSeen.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(listing.firstSeen.crlNumber).not.toBeNull();
    expect(byHex.issuers[0]!.claims).toEqual([expect.objectContaining({ reason: 'keyCompromise', reasonCode: 1 })]);
    // The certificate file: the same answer, found under its issuer by its AKI.
    expect(byFile).toMatchObject({ input: revoked.pemPath, serial: byHex.serial, listed: true });
    expect(byFile.issuers).toEqual(byHex.issuers);
    expect(never).toMatchObject({ listed: false, known: false, issuers: [] });
  });

  it('crl-health --aws prints the open finding of the URL that answered 404, from the table', async () => {
    const report = await cli<HealthReport>('crl-health');
    expect(report.lastSweep).not.toBeNull();
    const owner = report.owners.find((o) => o.owner === 'Lookup Owner');
    expect(owner?.findings.map((f) => [f.code, f.url])).toContainEqual(['crl_unreachable', http.url('/gone.crl')]);
  });
});
