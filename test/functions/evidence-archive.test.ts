/**
 * The S3 evidence archive at the SDK boundary: a middleware of ours on the
 * S3 client's stack takes each request as the SDK built it (after
 * serialization, before signing and sending) and answers it from an
 * in-memory bucket, so nothing leaves the process. Then the whole path: the
 * worker's `saveCrl` (functions/worker.ts wires it from
 * REVWATCH_EVIDENCE_BUCKET) archives the CRL a check verified, and
 * `revwatch --aws report --format bundle` against the same table (dynalite on
 * 127.0.0.1) reads it back into the bundle, under the hash SHA256SUMS lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { S3EvidenceArchive } from '../../src/adapters/aws/s3-evidence-archive.js';
import { ArchiveIntegrityError } from '../../src/ports/evidence-archive.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { LocalCaServer } from '../../src/local-ca/server.js';
import { TableStore } from '../../src/store/table-store.js';
import { HttpFetcher } from '../../src/adapters/net/http-fetcher.js';
import { trackCertificates } from '../../src/track/track.js';
import { runCheck } from '../../src/check/run-check.js';
import { run } from '../../src/cli/main.js';
import { type DynaliteTable, startDynaliteTable } from '../helpers/dynalite-table.js';

const REGION = 'eu-west-1';
const BUCKET = 'revwatch-evidence-test';
const TABLE = 'revwatch-archive-test';
const DAY = 86_400_000;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** An S3 client whose requests never leave the process: a build-step middleware answers them from `objects`. */
function stubbedS3(objects: Map<string, Uint8Array>, seen: SeenRequest[]): S3Client {
  const client = new S3Client({
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
    maxAttempts: 1,
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const req = args.request as { method: string; path: string; headers: Record<string, string>; body?: unknown };
      seen.push({ method: req.method, path: req.path, headers: { ...req.headers } });
      const key = decodeURIComponent(req.path.replace(`/${BUCKET}/`, ''));
      const fail = (name: string, status: number): never => {
        throw Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
      };
      if (context.commandName === 'PutObjectCommand') {
        if (req.headers['if-none-match'] === '*' && objects.has(key)) fail('PreconditionFailed', 412);
        const body = req.body as Uint8Array;
        // S3 checks the declared SHA-256 before storing anything.
        if (Buffer.from(sha(body), 'hex').toString('base64') !== req.headers['x-amz-checksum-sha256']) fail('BadDigest', 400);
        objects.set(key, new Uint8Array(body));
        return { output: { $metadata: { httpStatusCode: 200 } }, response: {} };
      }
      if (context.commandName === 'GetObjectCommand') {
        const bytes = objects.get(key) ?? fail('NoSuchKey', 404);
        return { output: { $metadata: { httpStatusCode: 200 }, Body: { transformToByteArray: async () => bytes } }, response: {} };
      }
      return fail('NotImplemented', 501);
    },
    { step: 'build', priority: 'low', name: 'inMemoryBucket' },
  );
  return client;
}

describe('S3 evidence archive at the SDK boundary', () => {
  const objects = new Map<string, Uint8Array>();
  const seen: SeenRequest[] = [];
  const archive = new S3EvidenceArchive(stubbedS3(objects, seen), BUCKET);
  const crl = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x07]);

  it('writes under crls/<sha256>.crl, conditionally and with its checksum, and reads the same bytes back', async () => {
    await archive.putCrl(sha(crl), crl);
    expect(seen[0]).toMatchObject({ method: 'PUT', path: `/${BUCKET}/crls/${sha(crl)}.crl` });
    expect(seen[0]!.headers).toMatchObject({
      'if-none-match': '*',
      'content-type': 'application/pkix-crl',
      'x-amz-checksum-sha256': Buffer.from(sha(crl), 'hex').toString('base64'),
    });
    expect(await archive.getCrl(sha(crl))).toEqual(crl);
    // Archived twice (a retried job): the conditional write's 412 is success, the object is unchanged.
    await archive.putCrl(sha(crl), crl);
    expect(objects.size).toBe(1);
  });

  it('refuses bytes that do not hash to the key, both ways, and answers null for an unknown key', async () => {
    await expect(archive.putCrl('00'.repeat(32), crl)).rejects.toThrow(ArchiveIntegrityError);
    objects.set(`crls/${'11'.repeat(32)}.crl`, crl);
    await expect(archive.getCrl('11'.repeat(32))).rejects.toThrow(/does not hash to its key/);
    expect(await archive.getCrl('22'.repeat(32))).toBeNull();
    await expect(archive.getCrl('../etc/passwd')).rejects.toThrow(ArchiveIntegrityError);
  });
});

describe('worker archive → --aws report --format bundle', { timeout: 120_000 }, () => {
  const objects = new Map<string, Uint8Array>();
  const seen: SeenRequest[] = [];
  const archive = new S3EvidenceArchive(stubbedS3(objects, seen), BUCKET);
  const now = Date.parse('2026-03-01T00:00:00Z');
  const clock = new FakeClock(now);
  let server: LocalCaServer;
  let store: TableStore;
  let db: DynaliteTable;

  beforeAll(async () => {
    // The CLI's AWS mode reaches the table through the SDK's default chain: point it at dynalite.
    db = await startDynaliteTable({ tableName: TABLE, region: REGION, pointProcessEnv: true });
    const { table } = db;
    store = new TableStore(table);
    const ca = await LocalCa.create({ name: 'Archive CA', notBefore: now - 100 * DAY, notAfter: now + 400 * DAY });
    server = await new LocalCaServer(ca, () => clock.now().getTime()).start();
    const leaf = await ca.issue({
      subject: 'CN=archived.example',
      notBefore: now - DAY,
      notAfter: now + 90 * DAY,
      crlUrls: [server.crlUrl],
    });
    server.issued(leaf.info.serial);
    server.revoke(leaf.info.serial, now - 3_600_000, 1);
    const kase = {
      id: 'archive',
      title: 'archive',
      reportedAt: now - 2 * 3_600_000,
      reason: 'key-compromise' as const,
      kind: 'tls-subscriber' as const,
    };
    await trackCertificates({ store, clock }, kase, [{ certificate: leaf.info, bundle: [], source: 'test' }], [ca.info]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.close();
  });

  it('archives the verified CRL the check read, and the AWS-mode bundle carries it byte for byte', async () => {
    const fetcher = new HttpFetcher({ clock, allowPrivateNetwork: true });
    try {
      // The worker's deps: saveCrl is the archive's putCrl (functions/worker.ts).
      const summary = await runCheck({ store, fetcher, clock, saveCrl: (s, bytes) => archive.putCrl(s, bytes) }, { caseId: 'archive' });
      expect(summary.crlsFetched).toBe(1);
    } finally {
      await fetcher.close();
    }
    expect([...objects.keys()]).toEqual([expect.stringMatching(/^crls\/[0-9a-f]{64}\.crl$/)]);
    const [key, bytes] = [...objects.entries()][0]!;
    expect(key).toBe(`crls/${sha(bytes)}.crl`);

    const out = mkdtempSync(join(tmpdir(), 'revwatch-aws-bundle-'));
    let stderr = '';
    const code = await run(['--aws', 'report', '--case', 'archive', '--format', 'bundle', '--out', out], {
      stdout: () => undefined,
      stderr: (s) => (stderr += s),
      env: { REVWATCH_TABLE: TABLE },
      clock,
      evidenceArchive: archive,
    });
    expect(code, stderr).toBe(0);
    expect(readdirSync(join(out, 'crls'))).toEqual([`${sha(bytes)}.crl`]);
    expect(new Uint8Array(readFileSync(join(out, 'crls', `${sha(bytes)}.crl`)))).toEqual(bytes);
    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toContain(`${sha(bytes)}  crls/${sha(bytes)}.crl`);
  });
});
