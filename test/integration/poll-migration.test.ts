/**
 * A home written by the layout before the narrow polling index (issue 29): its table has the index `poll`
 * (every attribute projected) and its certificate items no polling summary. Opening it moves it to `poll-due`
 * with one line on stderr; afterwards verify-evidence finds every record equal to its rebuild, and the planner,
 * now reading summaries, plans the same jobs and counts the same verdicts as it did from the whole items.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_TABLE, openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { createTable, ensureDynamoTable } from '../../src/adapters/aws/dynamo-table-setup.js';
import { migrationTable } from '../../src/adapters/local/poll-migration.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { TableStore } from '../../src/store/table-store.js';
import { planCheck } from '../../src/check/plan.js';
import { pollDue } from '../../src/check/poll.js';
import { verifyEvidence } from '../../src/status/verify-evidence.js';
import { EMPTY_RECORD, mergeEvidence } from '../../src/rules/evidence.js';
import type { Case } from '../../src/domain.js';
import type { StoredObservation } from '../../src/ports/store.js';
import { answer, cert, CRL, DAY, HOUR, ISSUER, jobsOf, OCSP, T0, verdictsOf } from '../helpers/poll-upgrade-world.js';

const kase: Case = { id: 'migrate-1', title: 'Migration', reportedAt: T0 - 2 * DAY, reason: 'key-compromise', kind: 'tls-subscriber' };
const other: Case = { id: 'migrate-2', title: 'Migration, too', reportedAt: T0 - 30 * HOUR, reason: 'misissuance', kind: 'tls-subscriber' };

/** Drops a table and waits until it is gone. */
async function drop(open: OpenStore, name: string): Promise<void> {
  await open.client!.send(new DeleteTableCommand({ TableName: name }));
  for (;;) {
    try {
      await open.client!.send(new DescribeTableCommand({ TableName: name }));
      await new Promise((r) => setTimeout(r, 25));
    } catch {
      return;
    }
  }
}

describe('opening a home written before the narrow polling index', () => {
  let open: OpenStore | null = null;
  afterEach(async () => {
    await open?.close();
    open = null;
  });

  it('moves it to poll-due with one line, keeps every record, and plans the same jobs and verdicts', { timeout: 120_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-poll-migration-'));
    const clock = new SystemClock();
    // Today's layout: the table made with `poll`, written by the store, then stripped of the summaries.
    open = await openEmbeddedStore(home, { onMigrated: () => undefined });
    await drop(open, LOCAL_TABLE);
    await createTable(open.client!, LOCAL_TABLE, 'poll');
    await ensureDynamoTable(open.client!, LOCAL_TABLE, clock);
    const table = openDynamoTable(open.client!, { tableName: LOCAL_TABLE, clock });
    await table.ensureTable();
    expect(table.hasIndex('poll-due')).toBe(false);
    const legacy = new TableStore(table);
    await legacy.createCase(kase, T0 - 3 * DAY);
    await legacy.createCase(other, T0 - 3 * DAY);
    const certs = [
      ...Array.from({ length: 12 }, (_, i) => cert(i + 1, kase.id)),
      cert(13, kase.id, { notAfter: T0 - DAY }), // expired, answered since: retired in this run
      cert(14, kase.id, { givenCrlUrls: ['http://127.0.0.1:9/given.crl'] }),
    ];
    await legacy.addCertificates(certs);
    await legacy.addCertificates([cert(2, other.id), cert(5, other.id)]); // tracked in two cases
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
    await legacy.recordObservations([...histories.values()].flat());
    const writes = [];
    for (const cc of [...(await legacy.loadCase(kase.id)), ...(await legacy.loadCase(other.id))]) {
      const record = mergeEvidence(EMPTY_RECORD, histories.get(cc.cert.sha256)!, cc.cert.notAfter);
      writes.push({ cert: cc.cert, record, rev: cc.rev, pollDue: pollDue(cc.cert, record, T0), soleWriter: true });
    }
    await legacy.writeRecords(writes);
    await legacy.putSourceStates(
      [CRL, OCSP, 'http://127.0.0.1:9/given.crl'].map((url) => ({
        kind: url === OCSP ? ('ocsp' as const) : ('crl' as const),
        url,
        lastCheckedAt: T0 - HOUR,
        ok: true,
        error: null,
        issuerSha256: ISSUER,
      })),
    );
    const doc = DynamoDBDocumentClient.from(open.client!);
    const items = (await doc.send(new ScanCommand({ TableName: LOCAL_TABLE }))).Items ?? [];
    let stripped = 0;
    for (const item of items) {
      if (item.ps === undefined) continue;
      const { ps: _ps, ...today } = item;
      await doc.send(new PutCommand({ TableName: LOCAL_TABLE, Item: today }));
      stripped++;
    }
    expect(stripped).toBe(16);
    const now = T0 + 10 * 60_000;
    const before = await planCheck(legacy, now, { settledPool: true });
    expect(before.certificates).toBeGreaterThan(10);
    await open.close();

    const lines: string[] = [];
    open = await openEmbeddedStore(home, { onMigrated: (m) => lines.push(m) });
    expect(lines).toEqual([
      expect.stringMatching(
        /^revwatch: moved the store to the narrow polling index .*16 tracked certificates given their polling summaries$/,
      ),
    ]);
    await expect(open.client!.send(new DescribeTableCommand({ TableName: migrationTable(LOCAL_TABLE) }))).rejects.toThrow();
    const store = open.store;
    const verified = await verifyEvidence(store);
    expect(verified.differences).toEqual([]);
    expect(verified.certificates).toBe(16);
    const readBefore = store.itemsRead;
    const after = await planCheck(store, now, { settledPool: true });
    expect(jobsOf(after)).toEqual(jobsOf(before));
    for (const at of [now, T0 + 3 * DAY, T0 + 300 * DAY]) expect(verdictsOf(after, at)).toEqual(verdictsOf(before, at));
    // Planned from summaries: every due certificate read once through the index, none whole.
    expect([...after.refs.values()].every((r) => r.verdicts !== undefined)).toBe(true);
    expect(store.itemsRead - readBefore).toBeLessThan(40);

    // Opening it again changes nothing and says nothing.
    await open.close();
    lines.length = 0;
    open = await openEmbeddedStore(home, { onMigrated: (m) => lines.push(m) });
    expect(lines).toEqual([]);
    expect((await verifyEvidence(open.store)).differences).toEqual([]);
  });
});
