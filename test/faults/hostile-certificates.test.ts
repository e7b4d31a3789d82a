/**
 * Certificates built to make `check` do too much: one that names 4,000 CRL
 * distribution points, and one whose CDPs all stall. End to end (the CLI's
 * run(), a real HttpFetcher, the embedded store) against CDPs on loopback
 * addresses only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { MAX_URLS_PER_ROUTE } from '../../src/rules/revocation-sources.js';
import { CRL_PARALLEL } from '../../src/check/crl-pool.js';

const DAY = 86_400_000;
const DEADLINE_MS = 3_000;

interface CertJson {
  lastSeenGoodAt: string | null;
  sources: { kind: string; url: string; status: string; error: string | null }[];
}

const cli = (argv: string[]): Promise<CliResult> => runCli(argv, { env: { REVWATCH_CRL_DEADLINE_MS: String(DEADLINE_MS) } });

/** A CDP server on one loopback address: /stall* never answers, anything else gets the CRL. */
async function cdpServer(host: string, crl: () => Buffer, sockets: Set<Socket>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/stall')) return;
    const body = crl();
    res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': String(body.length) });
    res.end(body);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return server;
}

describe('certificates that name too many or stalling sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-hostile-certs-'));
  const base = ['--home', join(dir, 'home'), '--allow-private-network'];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let ca: LocalCa;
  /** One CDP server per loopback address 127.0.0.1 .. 127.0.0.5. */
  const origins: string[] = [];

  const statusOf = async (caseId: string): Promise<CertJson> => {
    const r = await cli([...base, '--json', 'status', '--case', caseId]);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { cases: { certificates: CertJson[] }[] }).cases[0]!.certificates[0]!;
  };

  const track = async (caseId: string, crlUrls: string[]): Promise<void> => {
    const now = Date.now();
    const leaf = await ca.issue({ subject: `CN=${caseId}.example`, notBefore: now - 5 * DAY, notAfter: now + 60 * DAY, crlUrls });
    writeFileSync(join(dir, `${caseId}.der`), leaf.info.der);
    const r = await cli([
      ...base,
      'track',
      join(dir, `${caseId}.der`),
      '--issuer',
      join(dir, 'ca.der'),
      '--case',
      caseId,
      '--reported-at',
      new Date(now - DAY).toISOString(),
      '--reason',
      'key-compromise',
    ]);
    expect(r.code, r.stderr).toBe(0);
  };

  beforeAll(async () => {
    const now = Date.now();
    ca = await LocalCa.create({ name: 'Hostile Certificates Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    const crl = (): Buffer => ca.crl({ entries: [], thisUpdate: Date.now() - 60_000, nextUpdate: Date.now() + 7 * DAY, crlNumber: 1 });
    for (let i = 1; i <= 5; i++) {
      const server = await cdpServer(`127.0.0.${i}`, crl, sockets);
      servers.push(server);
      origins.push(`http://127.0.0.${i}:${(server.address() as AddressInfo).port}`);
    }
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('caps a certificate with 4,000 CDP URLs: the rest are refused, the run exits 2, and the honest case is answered', async () => {
    await track('honest', [`${origins[0]}/honest.crl`]);
    await track(
      'many-cdps',
      Array.from({ length: 4_000 }, (_, i) => `${origins[i % origins.length]}/cdp-${i}.crl`),
    );
    const r = await cli([...base, '--json', 'check']);
    expect(r.code, r.stderr).toBe(2);
    const summary = JSON.parse(r.stdout) as { crlsFetched: number; failedSources: { kind: string; url: string; error: string }[] };
    expect(summary.crlsFetched).toBe(1 + MAX_URLS_PER_ROUTE);
    expect(summary.failedSources).toHaveLength(1);
    expect(summary.failedSources[0]!.error).toMatch(
      new RegExp(
        `^refused: certificate \\w+ names 4000 CRL distribution points; only the first ${MAX_URLS_PER_ROUTE} are read, 3990 refused$`,
      ),
    );

    const honest = await statusOf('honest');
    expect(honest.sources).toMatchObject([{ kind: 'crl', status: 'good', error: null }]);
    expect(honest.lastSeenGoodAt).not.toBeNull();
    const many = await statusOf('many-cdps');
    expect(many.sources).toHaveLength(MAX_URLS_PER_ROUTE);
    expect(many.sources.every((s) => s.status === 'good')).toBe(true);
  }, 120_000);

  it("fetches a certificate's stalling CDPs side by side: the run takes a few deadlines, not one per CDP", async () => {
    // Two per loopback host, so the per-host limit is not what spreads them.
    const urls = Array.from({ length: 30 }, (_, i) => `${origins[i % origins.length]}/stall-${i}.crl`);
    await track('stalling-cdps', urls);
    const started = Date.now();
    const r = await cli([...base, '--json', 'check', '--case', 'stalling-cdps']);
    const elapsed = Date.now() - started;
    expect(r.code, r.stderr).toBe(2);
    const summary = JSON.parse(r.stdout) as { failedSources: { url: string; error: string }[] };
    // The capped ten, each a timeout, and one line for the twenty refused.
    expect(summary.failedSources.filter((f) => /fetch deadline/.test(f.error))).toHaveLength(MAX_URLS_PER_ROUTE);
    expect(summary.failedSources.filter((f) => /^refused:/.test(f.error))).toHaveLength(1);
    // One at a time, ten stalls take ten deadlines (30 s); side by side, ceil(10 / 4) = 3. The bound sits
    // between, with room for a loaded machine.
    const rounds = Math.ceil(MAX_URLS_PER_ROUTE / CRL_PARALLEL);
    expect(elapsed).toBeLessThan((rounds + 4) * DEADLINE_MS);
    expect(elapsed).toBeGreaterThanOrEqual(DEADLINE_MS);
  }, 120_000);
});
