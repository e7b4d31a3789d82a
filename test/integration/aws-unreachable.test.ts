/**
 * AWS mode when AWS cannot be reached is an environment problem, not a bug: one line naming what could
 * not be reached and what to check, exit 1, or exit 2 when the command had already written part of its
 * work. The built CLI is spawned against a DynamoDB endpoint on 127.0.0.1 (AWS_ENDPOINT_URL_DYNAMODB):
 * a closed port, and dynalite behind a proxy that cuts every connection after the first write. A region
 * that does not exist is tried inside a loopback-only network namespace (`unshare -n`), where the name
 * lookup fails without leaving the machine; skipped, saying so, where unshare is unavailable.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { toPem } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const DAY = 86_400_000;
const TABLE = 'revwatch-unreachable';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const cli = async (args: string[], env: Record<string, string>): Promise<CliResult> => {
  const fullEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', REVWATCH_TABLE: TABLE, ...env };
  try {
    const r = await exec('node', ['bin/revwatch.js', '--aws', ...args], { env: fullEnv, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('AWS mode when AWS cannot be reached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-unreachable-'));
  const db = dynalite({ createTableMs: 0 });
  let dbPort = 0;
  /** After the first write the proxy has passed on, it drops every connection: the network went away mid-command. */
  let cut = false;
  const proxy = createServer((req, res) => {
    if (cut) return void req.socket.destroy();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = request({ host: '127.0.0.1', port: dbPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        const target = String(req.headers['x-amz-target'] ?? '');
        if (answer.statusCode === 200 && /\.(PutItem|UpdateItem|BatchWriteItem|DeleteItem)$/.test(target)) cut = true;
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  let proxyPort = 0;
  let closedPort = 0;

  beforeAll(async () => {
    dbPort = await listen(db as unknown as Server);
    proxyPort = await listen(proxy);
    const closed = createServer();
    closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));

    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${dbPort}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await openDynamoTable(client, { tableName: TABLE }).ensureTable();
    client.destroy();

    const now = Date.now();
    const ca = await LocalCa.create({ name: 'Unreachable CA', notBefore: now - 10 * DAY, notAfter: now + 400 * DAY });
    const leaf = await ca.issue({
      subject: 'CN=cut.example',
      notBefore: now - DAY,
      notAfter: now + 90 * DAY,
      crlUrls: ['http://127.0.0.1:9/ca.crl'],
    });
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.info.der));
    writeFileSync(join(dir, 'leaf.pem'), toPem(leaf.info.der));
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await new Promise((resolve) => (db as unknown as Server).close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a refused connection before anything was written: one line naming the address, exit 1', async () => {
    const r = await cli(['status'], { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${closedPort}` });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `revwatch: AWS mode: could not reach 127.0.0.1:${closedPort} (connect ECONNREFUSED 127.0.0.1:${closedPort}); check the network connection, and any proxy or firewall on the way`,
    ]);
    expect(r.stdout).toBe('');
  });

  it('a connection lost after the first write: one line saying the command was partly done, exit 2', async () => {
    const reportedAt = new Date(Date.now() - DAY).toISOString().replace(/\.\d+Z$/, 'Z');
    const r = await cli(
      [
        'track',
        join(dir, 'leaf.pem'),
        '--issuer',
        join(dir, 'ca.pem'),
        '--reported-at',
        reportedAt,
        '--reason',
        'key-compromise',
        '--case',
        'cut',
      ],
      { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${proxyPort}` },
    );
    expect(cut).toBe(true);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^revwatch: AWS mode: could not reach (127\\.0\\.0\\.1:${proxyPort}|AWS) \\(.+\\); .+; partly done: 1 write\\(s\\) to the table had succeeded, run the command again once AWS is reachable$`,
      ),
    );
  });

  const netns = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (netns.status !== 0)
    console.warn(
      `aws-unreachable: the region case is skipped, cannot create a network namespace (unshare -n: ${(netns.stderr || netns.error?.message || '').trim()})`,
    );

  it.skipIf(netns.status !== 0)('a region that does not resolve: one line naming the endpoint and AWS_REGION, exit 1', () => {
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec node bin/revwatch.js --aws status'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_ENDPOINT_URL'))),
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        REVWATCH_TABLE: TABLE,
        AWS_REGION: 'xx-nowhere-1',
      },
    });
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^revwatch: AWS mode: could not reach dynamodb\.xx-nowhere-1\.amazonaws\.com \(getaddrinfo (ENOTFOUND|EAI_AGAIN) .+\); check AWS_REGION \(xx-nowhere-1\) and that this machine can resolve names$/,
    );
  });
});
