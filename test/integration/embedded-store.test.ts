import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  PutItemCommand,
  QueryCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';

const ROOT = join(__dirname, '../..');
const tableFiles = (home: string): string[] => readdirSync(join(home, 'db')).filter((f) => /\.(ldb|sst)$/.test(f));
const logBytes = (home: string): number =>
  readdirSync(join(home, 'db'))
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => sum + statSync(join(home, 'db', f)).size, 0);

describe('the embedded store', () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  });

  it('keeps a bulk write in LevelDB’s enlarged write buffer: 16 MB of certificates stored leaves no table file to compact until the store closes', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-embedded-'));
    homes.push(home);
    // 4,000 DERs of 4 KB: ~22 MB in the write buffer as dynalite stores them (base64 in JSON), over 4 MB and under 64.
    const ders = Array.from({ length: 4_000 }, () => ({ sha256: randomBytes(32).toString('hex'), der: randomBytes(4096) }));
    const open = await openEmbeddedStore(home);
    try {
      await open.store.putCertificateDers(ders);
      // With LevelDB's default buffer this leaves several table files (level 0) while the store is open.
      expect(tableFiles(home)).toEqual([]);
      const back = await open.store.getCertificateDers(ders.slice(0, 50).map((d) => d.sha256));
      expect(back.size).toBe(50);
      expect(Buffer.from(back.get(ders[7]!.sha256)!).equals(ders[7]!.der)).toBe(true);
    } finally {
      await open.close();
    }
    // Closing wrote the buffer out as tables: the next command does not replay 16 MB of log before its first read.
    expect(tableFiles(home).length).toBeGreaterThan(0);
    expect(logBytes(home)).toBeLessThan(1024 * 1024);
    const again = await openEmbeddedStore(home);
    try {
      expect((await again.store.getCertificateDers([ders[3]!.sha256])).get(ders[3]!.sha256)).toEqual(new Uint8Array(ders[3]!.der));
    } finally {
      await again.close();
    }
  });

  it('sends each answer with the CRC-32 of its bytes that dynalite’s own buffer-crc32 computes (x-amz-crc32), now from zlib', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-embedded-'));
    homes.push(home);
    const open = await openEmbeddedStore(home);
    try {
      // Multi-byte UTF-8 in the answer: the checksum is over its bytes, not its UTF-16 code units.
      await open.store.createCase(
        { id: 'crc', title: 'Prüfung ✓ 証明書', reportedAt: 0, reason: 'key-compromise', kind: 'tls-subscriber' } as never,
        0,
      );
      const endpoint = await open.client!.config.endpoint!();
      const answer = await fetch(`http://${endpoint.hostname}:${endpoint.port}/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.Query',
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
          'x-amz-date': '20260101T000000Z',
        },
        body: JSON.stringify({
          TableName: 'revwatch',
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: 'CASES' } },
        }),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      expect(answer.status).toBe(200);
      expect(body.toString('utf8')).toContain('Prüfung ✓ 証明書');
      const bufferCrc32 = createRequire(createRequire(import.meta.url).resolve('dynalite'))('buffer-crc32') as {
        unsigned(b: Buffer): number;
      };
      expect(Number(answer.headers.get('x-amz-crc32'))).toBe(bufferCrc32.unsigned(body));
    } finally {
      await open.close();
    }
  });

  it('writes items by the table as it is now after the table is made again with an index (item actions share a parse of its description)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-embedded-'));
    homes.push(home);
    const open = await openEmbeddedStore(home);
    const client = open.client!;
    const table: CreateTableCommandInput = {
      TableName: 'remade',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'g', AttributeType: 'S' },
      ],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    };
    const put = (pk: string) => client.send(new PutItemCommand({ TableName: 'remade', Item: { pk: { S: pk }, g: { S: 'G' } } }));
    const active = async () => {
      while ((await client.send(new DescribeTableCommand({ TableName: 'remade' }))).Table?.TableStatus !== 'ACTIVE')
        await new Promise((r) => setTimeout(r, 10));
    };
    try {
      await client.send(new CreateTableCommand({ ...table, AttributeDefinitions: [table.AttributeDefinitions![0]!] }));
      await active();
      await put('a'); // the description without the index, now shared by the item actions
      await put('b');
      await client.send(new DeleteTableCommand({ TableName: 'remade' }));
      while ((await client.send(new DescribeTableCommand({ TableName: 'remade' })).catch(() => null)) !== null)
        await new Promise((r) => setTimeout(r, 10));
      await client.send(
        new CreateTableCommand({
          ...table,
          GlobalSecondaryIndexes: [
            { IndexName: 'by-g', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } },
          ],
        }),
      );
      await active();
      await put('c');
      const found = await client.send(
        new QueryCommand({
          TableName: 'remade',
          IndexName: 'by-g',
          KeyConditionExpression: 'g = :g',
          ExpressionAttributeValues: { ':g': { S: 'G' } },
        }),
      );
      expect(found.Items?.map((i) => i.pk?.S)).toEqual(['c']);
    } finally {
      await open.close();
    }
  });

  // LevelDB's background thread outlives every database: were its library unloaded when the store's worker
  // ends, that thread would next run unmapped code (the SIGSEGV at exit that writing commands hit). A process of
  // its own, so that no earlier test has loaded the library already.
  it.runIf(process.platform === 'linux')('keeps LevelDB’s library loaded after the store’s thread has ended', () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-embedded-'));
    homes.push(home);
    const script = `
      import { readFileSync } from 'node:fs';
      import { openEmbeddedStore } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/adapters/local/embedded-store.js')).href)};
      const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('classic-level');
      const open = await openEmbeddedStore(${JSON.stringify(home)});
      await open.store.putCertificateDers([{ sha256: 'ab'.repeat(32), der: new Uint8Array(64) }]);
      const whileOpen = mapped();
      await open.close();
      console.log(JSON.stringify({ whileOpen, afterClose: mapped() }));
    `;
    writeFileSync(join(home, 'probe.mjs'), script);
    const out = execFileSync(process.execPath, [join(home, 'probe.mjs')], { encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ whileOpen: true, afterClose: true });
  });
});
