/**
 * The upgrade of a deployed table to the narrow polling index (issue 29), on the harness's DynamoDB (dynalite):
 * the table as `cdk deploy -c legacyPollIndex=true` makes it (both polling indexes, from the synthesized
 * template), written in the layout before the upgrade (certificate items without `ps`). The planner then reads
 * those items whole; `revwatch --aws migrate poll-index` gives them their summaries, after which the planner
 * reads none whole and plans the same jobs and verdicts, verify-evidence finds no difference, and the items
 * equal what today's record writes make. Running it again changes nothing; a check's write between the
 * backfill's read and its write is kept; a backfill cut short goes on from where it stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { readStackConfig } from '../../infra/config.js';
import { RevwatchStack } from '../../infra/revwatch-stack.js';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { run } from '../../src/cli/main.js';
import { planCheck } from '../../src/check/plan.js';
import { pollDue } from '../../src/check/poll.js';
import type { Case } from '../../src/domain.js';
import type { StoredObservation } from '../../src/ports/store.js';
import { answer, cert, CRL, DAY, HOUR, ISSUER, jobsOf, OCSP, T0, verdictsOf } from '../helpers/poll-upgrade-world.js';
import type { Item, Table } from '../../src/ports/table.js';
import { EMPTY_RECORD, mergeEvidence } from '../../src/rules/evidence.js';
import { verifyEvidence } from '../../src/status/verify-evidence.js';
import { migrationKey } from '../../src/store/layout.js';
import { backfillPollSummaries, POLL_SUMMARY_BACKFILL } from '../../src/store/poll-backfill.js';
import { POLL_DUE_INDEX, POLL_INDEX } from '../../src/store/poll-index.js';
import { TableStore } from '../../src/store/table-store.js';

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const CERTIFICATES = 16;

const kase: Case = { id: 'backfill-1', title: 'Backfill', reportedAt: T0 - 2 * DAY, reason: 'key-compromise', kind: 'tls-subscriber' };
const other: Case = { id: 'backfill-2', title: 'Backfill, too', reportedAt: T0 - 30 * HOUR, reason: 'misissuance', kind: 'tls-subscriber' };

function upgradingTableInput(name: string): Record<string, unknown> {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'revwatch-backfill-cdk-')),
    context: { sender: 'revwatch@ca.example', recipients: 'compliance@ca.example', legacyPollIndex: 'true', 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new RevwatchStack(app, 'revwatch', { config: readStackConfig((k) => app.node.tryGetContext(k)) });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const tables = Object.values(template.Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  expect(tables).toHaveLength(1);
  const p = tables[0]!.Properties;
  return {
    TableName: name,
    BillingMode: p.BillingMode,
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes,
  };
}

/** The table, with `meanwhile` run once just before the first conditional update of `target` (another writer's race). */
function raceOnce(table: Table, target: Item, meanwhile: () => Promise<void>): Table & { raced(): boolean } {
  let raced = false;
  return new Proxy(table, {
    get(t, prop) {
      if (prop === 'raced') return () => raced;
      if (prop === 'updateIf')
        return async (...args: Parameters<Table['updateIf']>) => {
          if (!raced && args[0].sk === target.sk && args[0].pk === target.pk) {
            raced = true;
            await meanwhile();
          }
          return t.updateIf(...args);
        };
      const value = Reflect.get(t, prop, t) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  }) as Table & { raced(): boolean };
}

/** The table with its whole-item reads of tracked certificates counted (the planner's reads of entries without a summary). */
function countingWholeReads(table: Table): { table: Table; whole: () => number } {
  let whole = 0;
  const counted = (items: Item[]) => (whole += items.filter((i) => typeof i.c === 'string').length);
  const proxy = new Proxy(table, {
    get(target, prop) {
      if (prop === 'batchGet')
        return async (...args: Parameters<Table['batchGet']>) => {
          const items = await target.batchGet(...args);
          counted(items);
          return items;
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { table: proxy, whole: () => whole };
}

describe('the polling summaries backfill in AWS (migrate poll-index)', () => {
  const db = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const clock = new SystemClock();
  const TABLE = 'revwatch-backfill';
  let client: DynamoDBClient;
  let doc: DynamoDBDocumentClient;
  let table: ReturnType<typeof openDynamoTable>;
  let store: TableStore;
  /** Every tracked certificate's item as today's record writes made it (with `ps`), by sort key and case. */
  const written = new Map<string, Item>();
  const savedEnv = { ...process.env };

  const scanAll = async (): Promise<Item[]> => {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start, ConsistentRead: true }));
      out.push(...((page.Items ?? []) as Item[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  };
  const certificateItems = async (): Promise<Item[]> => (await scanAll()).filter((i) => typeof i.c === 'string');
  const keyOf = (i: Item): string => `${String(i.pk)} ${String(i.sk)}`;
  /** Takes `ps` off every certificate item: the layout before the narrow polling index. */
  const strip = async (): Promise<number> => {
    let n = 0;
    for (const item of await certificateItems()) {
      if (item.ps === undefined) continue;
      const { ps: _ps, ...before } = item;
      await doc.send(new PutCommand({ TableName: TABLE, Item: before }));
      n++;
    }
    return n;
  };
  /** `revwatch --aws <args>` in this process, against the harness's table. */
  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const code = await run(['--aws', ...args], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: process.env,
      clock,
    });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => db.listen(0, HOST, () => resolve()));
    const endpoint = `http://${HOST}:${(db.address() as { port: number }).port}`;
    // What the CLI's AWS mode reads: the SDK's standard variables, here pointing at dynalite on loopback.
    Object.assign(process.env, {
      REVWATCH_TABLE: TABLE,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'harness-secret',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    client = new DynamoDBClient({ endpoint, region: REGION, credentials: { accessKeyId: 'operator', secretAccessKey: 'harness-secret' } });
    doc = DynamoDBDocumentClient.from(client);
    const input = upgradingTableInput(TABLE);
    expect((input.GlobalSecondaryIndexes as { IndexName: string }[]).map((i) => i.IndexName).sort()).toEqual(
      [POLL_INDEX, POLL_DUE_INDEX].sort(),
    );
    await client.send(new CreateTableCommand(input as never));
    await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: TABLE });
    table = openDynamoTable(client, { tableName: TABLE, clock });
    store = new TableStore(table);

    await store.createCase(kase, T0 - 3 * DAY);
    await store.createCase(other, T0 - 3 * DAY);
    const certs = [
      ...Array.from({ length: 12 }, (_, i) => cert(i + 1, kase.id)),
      cert(13, kase.id, { notAfter: T0 - DAY }),
      cert(14, kase.id, { givenCrlUrls: ['http://127.0.0.1:9/given.crl'] }),
    ];
    await store.addCertificates(certs);
    await store.addCertificates([cert(2, other.id), cert(5, other.id)]);
    const histories = new Map<string, StoredObservation[]>();
    for (const c of certs) {
      const h: StoredObservation[] = [answer(c, 'crl', T0 - 2 * DAY, 'good'), answer(c, 'crl', T0 - HOUR, 'good')];
      const n = Number.parseInt(c.sha256.slice(0, 2), 16);
      if (n % 4 === 0) h.push(answer(c, 'crl', T0 - 30 * 60_000, 'revoked', T0 - 40 * HOUR));
      if (n % 5 === 0) h.push(answer(c, 'crl', T0 - 20 * 60_000, 'error'));
      if (c.ocspUrls.length) h.push(answer(c, 'ocsp', T0 - 3 * HOUR, n === 6 ? 'unknown' : 'good'));
      if (c.givenCrlUrls) h.push({ ...answer(c, 'crl', T0 - 2 * HOUR, 'good'), source: { kind: 'crl', url: c.givenCrlUrls[0]! } });
      histories.set(c.sha256, h);
    }
    await store.recordObservations([...histories.values()].flat());
    const writes = [];
    for (const cc of [...(await store.loadCase(kase.id)), ...(await store.loadCase(other.id))]) {
      const record = mergeEvidence(EMPTY_RECORD, histories.get(cc.cert.sha256)!, cc.cert.notAfter);
      writes.push({ cert: cc.cert, record, rev: cc.rev, pollDue: pollDue(cc.cert, record, T0), soleWriter: true });
    }
    await store.writeRecords(writes);
    await store.putSourceStates(
      [CRL, OCSP, 'http://127.0.0.1:9/given.crl'].map((url) => ({
        kind: url === OCSP ? ('ocsp' as const) : ('crl' as const),
        url,
        lastCheckedAt: T0 - HOUR,
        ok: true,
        error: null,
        issuerSha256: ISSUER,
      })),
    );
    for (const i of await certificateItems()) written.set(keyOf(i), i);
    expect(written.size).toBe(CERTIFICATES);
    expect(await strip()).toBe(CERTIFICATES);
  }, 600_000);

  afterAll(async () => {
    client?.destroy();
    await new Promise<void>((resolve) => db.close(() => resolve()));
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  });

  it('gives every certificate its summary: the planner then reads none whole, and plans and judges the same', {
    timeout: 300_000,
  }, async () => {
    const now = T0 + 10 * 60_000;
    const before = countingWholeReads(table);
    const planBefore = await planCheck(new TableStore(before.table), now, { settledPool: true });
    expect(planBefore.certificates).toBeGreaterThan(10);
    // Before the backfill every due certificate is read whole (its poll-due entry has no summary).
    expect(before.whole()).toBeGreaterThanOrEqual(planBefore.certificates);

    const r = await cli('--json', 'migrate', 'poll-index', '--segments', '3', '--page-items', '7');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { outcome: string; resumed: boolean; run: Record<string, number>; total: Record<string, number> };
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    const schemas = join(import.meta.dirname, '../../docs/schemas');
    for (const f of readdirSync(schemas).filter((x) => x.endsWith('.schema.json')))
      ajv.addSchema(JSON.parse(readFileSync(join(schemas, f), 'utf8')) as object);
    const validate = ajv.getSchema('https://revwatch.example/schemas/migrate-poll-index.schema.json')!;
    expect(validate(json) ? [] : validate.errors).toEqual([]);
    expect(json).toMatchObject({ outcome: 'done', resumed: false, segments: 3 });
    expect(json.run).toMatchObject({
      withoutSummary: CERTIFICATES,
      summariesWritten: CERTIFICATES,
      rewrittenMeanwhile: 0,
      notSummarized: 0,
    });
    expect(json.run.itemsScanned).toBeGreaterThan(CERTIFICATES);
    expect(json.total).toEqual(json.run);

    // Every item is what today's record writes make: the same attributes and summary, nothing else changed.
    const items = await certificateItems();
    expect(items).toHaveLength(CERTIFICATES);
    for (const i of items) expect(i, keyOf(i)).toEqual(written.get(keyOf(i)));

    const after = countingWholeReads(table);
    const planAfter = await planCheck(new TableStore(after.table), now, { settledPool: true });
    expect(after.whole()).toBe(0);
    console.log(
      `planning ${planBefore.certificates} due certificates read ${before.whole()} whole items before the backfill, ${after.whole()} after`,
    );
    expect([...planAfter.refs.values()].every((ref) => ref.verdicts !== undefined)).toBe(true);
    expect(jobsOf(planAfter)).toEqual(jobsOf(planBefore));
    for (const at of [now, T0 + 3 * DAY, T0 + 300 * DAY]) expect(verdictsOf(planAfter, at)).toEqual(verdictsOf(planBefore, at));

    const verified = await verifyEvidence(store);
    expect(verified.differences).toEqual([]);
    expect(verified.certificates).toBe(CERTIFICATES);

    // Again: a finished backfill reads its progress item and writes nothing.
    const table0 = await scanAll();
    const again = await cli('migrate', 'poll-index');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^The polling summaries' backfill finished at .*; nothing to do/);
    console.log(`migrate poll-index, run again:\n${again.stdout}`);
    expect(await scanAll()).toEqual(table0);
  });

  it('keeps a check’s write that lands between the backfill’s read and its write', { timeout: 300_000 }, async () => {
    expect(await strip()).toBe(CERTIFICATES);
    const target = [...written.values()][3]!;
    const caseId = String(target.pk).slice('CASE#'.length);
    const sha256 = String(target.sk).slice('CERT#'.length);
    // The check's write comes in just before the backfill's conditional write of the same item.
    const racing = raceOnce(table, target, async () => {
      const cc = (await store.getCaseCertificate(caseId, sha256))!;
      const revoked = answer(cc.cert, 'crl', T0 + 5 * 60_000, 'revoked', T0 - 10 * HOUR);
      await store.recordObservations([revoked]);
      const record = mergeEvidence(cc.record, [revoked], cc.cert.notAfter);
      expect(await store.writeRecords([{ cert: cc.cert, record, rev: cc.rev, pollDue: T0 + DAY, soleWriter: false }])).toEqual([]);
    });
    const checkerItem = async () => (await table.get({ pk: String(target.pk), sk: String(target.sk) }, 'the raced item'))!;
    const result = await backfillPollSummaries(racing, { clock, restart: true, segments: 2 });
    expect(racing.raced()).toBe(true);
    expect(result.run).toMatchObject({ withoutSummary: CERTIFICATES, summariesWritten: CERTIFICATES - 1, rewrittenMeanwhile: 1 });
    const kept = await checkerItem();
    expect(kept.rev).toBe(Number(target.rev) + 1);
    // The check's summary, of the record it wrote (a revocation), not the backfill's of the record before it.
    expect(String(kept.ps)).not.toEqual(String(target.ps));
    expect(JSON.parse(String(kept.ps))[1]).toBe(Number(target.rev) + 1);
    expect((await certificateItems()).every((i) => typeof i.ps === 'string')).toBe(true);
    expect((await verifyEvidence(store)).differences).toEqual([]);
  });

  it('summarizes an item that a writer without summaries changed between the read and the write, as it is now', {
    timeout: 300_000,
  }, async () => {
    expect(await strip()).toBe(CERTIFICATES);
    const target = (await certificateItems())[5]!;
    // A function not yet upgraded writes the record again (its revision moves on) and writes no summary.
    const racing = raceOnce(table, target, async () => {
      await doc.send(new PutCommand({ TableName: TABLE, Item: { ...target, rev: Number(target.rev) + 1 } }));
    });
    const result = await backfillPollSummaries(racing, { clock, restart: true });
    expect(racing.raced()).toBe(true);
    expect(result.run).toMatchObject({ withoutSummary: CERTIFICATES, summariesWritten: CERTIFICATES, rewrittenMeanwhile: 0 });
    const now = (await table.get({ pk: String(target.pk), sk: String(target.sk) }, 'the raced item'))!;
    expect(now.rev).toBe(Number(target.rev) + 1);
    expect(JSON.parse(String(now.ps))[1]).toBe(Number(target.rev) + 1);
    expect((await certificateItems()).every((i) => typeof i.ps === 'string')).toBe(true);
  });

  it('goes on from where a backfill cut short stopped', { timeout: 300_000 }, async () => {
    expect(await strip()).toBe(CERTIFICATES);
    let pages = 0;
    const failing = new Proxy(table, {
      get(t, prop) {
        if (prop === 'scanPage')
          return async (...args: Parameters<NonNullable<Table['scanPage']>>) => {
            if (++pages === 4) throw new Error('the connection was reset');
            return t.scanPage(...args);
          };
        const value = Reflect.get(t, prop, t) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
      },
    });
    await expect(backfillPollSummaries(failing, { clock, restart: true, segments: 2, pageItems: 5 })).rejects.toThrow(/reset/);
    const progress = (await table.get(migrationKey(POLL_SUMMARY_BACKFILL), 'progress'))!;
    expect(progress.finishedAt).toBeUndefined();
    const firstRun = Number(progress.summariesWritten);
    expect(firstRun).toBeLessThan(CERTIFICATES);

    const resumed = await backfillPollSummaries(table, { clock, segments: 7, pageItems: 5 });
    expect(resumed).toMatchObject({ outcome: 'done', resumed: true, segments: 2 });
    // The pages done before the failure are not scanned again; whatever a page cut off wrote is found summarized.
    expect(resumed.run.itemsScanned).toBeLessThan(resumed.total.itemsScanned);
    expect(resumed.total.summariesWritten + resumed.total.rewrittenMeanwhile).toBe(CERTIFICATES);
    expect((await certificateItems()).every((i) => typeof i.ps === 'string')).toBe(true);
    expect((await verifyEvidence(store)).differences).toEqual([]);
  });
});
