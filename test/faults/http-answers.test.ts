/**
 * HTTP answers that are legal bytes but mean something else than they seem,
 * against an end-to-end `revwatch check` (the CLI's run(), a real
 * HttpFetcher, the embedded store) and a CDP on 127.0.0.1:
 * - a 304 to a request that sent no validator is an error of that source
 *   (exit 2), not an unchanged CRL (the source would vanish from the run);
 * - once the kept CRL's nextUpdate has passed, a CDP that would answer the
 *   conditional request with 304 is still serving that stale CRL: the run
 *   asks for it whole and the stale_response finding applies;
 * - an unasked `100 Continue` before the CRL (RFC 9110 15.2) is skipped and
 *   the CRL is read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import type { Clock } from '../../src/ports/index.js';

const DAY = 86_400_000;
/** How long after the first check the CRL's nextUpdate passes, on the clock the checks of that case run on. */
const STALE_AFTER_MS = 6_000;

interface CertJson {
  lastSeenGoodAt: string | null;
  sources: { kind: string; url: string; status: string; error: string | null; checkedAt: string | null }[];
  findings: { code: string; message: string }[];
}

const cli = (argv: string[], clock?: Clock): Promise<CliResult> => runCli(argv, { env: { REVWATCH_CRL_DEADLINE_MS: '5000' }, clock });

describe('HTTP answers to a CRL fetch that are not what they seem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-http-answers-'));
  const base = ['--home', join(dir, 'home'), '--allow-private-network'];
  const server = new FaultServer();
  let ca: LocalCa;
  /** The CRL the /conditional CDP keeps serving, with its validator. */
  let kept: Buffer;
  const conditionalHeaders: string[] = [];

  const statusOf = async (caseId: string, clock?: Clock): Promise<CertJson> => {
    const r = await cli([...base, '--json', 'status', '--case', caseId], clock);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { cases: { certificates: CertJson[] }[] }).cases[0]!.certificates[0]!;
  };

  const track = async (caseId: string, crlPath: string): Promise<void> => {
    const now = Date.now();
    const leaf = await ca.issue({
      subject: `CN=${caseId}.http.example`,
      notBefore: now - 5 * DAY,
      notAfter: now + 60 * DAY,
      crlUrls: [server.url(crlPath)],
    });
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
    ca = await LocalCa.create({ name: 'HTTP Answers Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    const fresh = (): Buffer => ca.crl({ entries: [], thisUpdate: Date.now() - 60_000, nextUpdate: Date.now() + 7 * DAY, crlNumber: 1 });
    await server
      .route('/always-304.crl', (_req, res) => {
        res.statusCode = 304;
        res.end();
      })
      .route('/conditional.crl', (req, res) => {
        conditionalHeaders.push(String(req.headers['if-none-match'] ?? ''));
        if (req.headers['if-none-match'] === '"kept"') {
          res.statusCode = 304;
          res.end();
          return;
        }
        res.writeHead(200, { etag: '"kept"', 'content-type': 'application/pkix-crl', 'content-length': String(kept.length) });
        res.end(kept);
      })
      .route('/continue.crl', (_req, res) => {
        res.writeContinue();
        const body = fresh();
        res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': String(body.length) });
        res.end(body);
      })
      .start();
    await track('always-304', '/always-304.crl');
    await track('conditional', '/conditional.crl');
    await track('continue', '/continue.crl');
  }, 120_000);

  afterAll(async () => {
    await server.stop();
  });

  it('takes a 304 to an unconditional request as an error of that source: exit 2, the source recorded', async () => {
    const r = await cli([...base, '--json', 'check', '--case', 'always-304']);
    expect(r.code, r.stderr).toBe(2);
    const summary = JSON.parse(r.stdout) as { failedSources: { url: string; error: string }[] };
    expect(summary.failedSources.map((f) => f.url)).toEqual([server.url('/always-304.crl')]);
    const cert = await statusOf('always-304');
    expect(cert.sources).toHaveLength(1);
    expect(cert.sources[0]).toMatchObject({ kind: 'crl', status: 'error' });
    expect(cert.sources[0]!.error).toMatch(/304 Not Modified to a request that sent no validator/);
    expect(cert.lastSeenGoodAt).toBeNull();
  });

  it('after the kept CRL has passed its nextUpdate, does not take a 304 as fresh: the old CRL is read again and is stale', async () => {
    // The checks of this case run on a clock of their own, a second apart as runs on the real one would be:
    // before nextUpdate however long a check takes (on the real clock two checks on a loaded machine took
    // longer than the window, and the second one was already past it), then past it.
    const now = Date.now();
    const clock = new FakeClock(now);
    kept = ca.crl({ entries: [], thisUpdate: now - 60_000, nextUpdate: now + STALE_AFTER_MS, crlNumber: 7 });
    const first = await cli([...base, 'check', '--case', 'conditional'], clock);
    expect(first.code, first.stderr).toBe(0);
    expect((await statusOf('conditional', clock)).findings.map((f) => f.code)).not.toContain('stale_response');
    // Before nextUpdate, the validator is sent and the 304 is the ordinary "unchanged".
    clock.advance(1_000);
    const unchanged = await cli([...base, 'check', '--case', 'conditional'], clock);
    expect(unchanged.code, unchanged.stderr).toBe(0);
    expect(conditionalHeaders).toEqual(['', '"kept"']);

    clock.set(now + STALE_AFTER_MS + 1_000);
    const after = await cli([...base, 'check', '--case', 'conditional'], clock);
    expect(after.code, after.stderr).toBe(0);
    // Asked without the validator: the CDP cannot answer 304, and what it serves is the stale CRL.
    expect(conditionalHeaders).toEqual(['', '"kept"', '']);
    const cert = await statusOf('conditional', clock);
    const stale = cert.findings.filter((f) => f.code === 'stale_response');
    expect(stale, JSON.stringify(cert.findings)).toHaveLength(1);
    expect(stale[0]!.message).toContain(server.url('/conditional.crl'));
  });

  it('reads a CRL that follows an unasked 100 Continue', async () => {
    const r = await cli([...base, 'check', '--case', 'continue']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const cert = await statusOf('continue');
    expect(cert.sources).toMatchObject([{ kind: 'crl', status: 'good', error: null }]);
    expect(cert.lastSeenGoodAt).not.toBeNull();
  });
});
