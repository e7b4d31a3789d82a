/**
 * Crash safety: a `check` over 240 certificates (4 cases, a CRL and an OCSP
 * responder each) is killed with SIGKILL at several points: before any
 * answer, a quarter, half and nearly all of the way through the OCSP
 * requests, and 40 ms after the last OCSP answer (around writing the
 * observations and sending notices). Then it is run to the end, and once
 * more after the notice lease has lapsed. The result must equal a control
 * home that ran without being killed: the same observations (one per
 * certificate and source, none duplicated, none lost), the same verdicts,
 * and the same notices, each sent exactly once.
 *
 * Spawns the built CLI (`npx tsc -p tsconfig.build.json` first). Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { run } from '../../src/cli/main.js';
import { FakeClock, SystemClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { serialHex } from '../../src/pki/der.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CASES = 4;
const PER_CASE = 60;

async function cli(argv: string[], clock: SystemClock | FakeClock = new SystemClock()) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, clock, interactive: false });
  return { code, stdout, stderr };
}

describe('crash safety: check killed with SIGKILL, then re-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-crash-'));
  const now = Date.now();
  const reportedAt = Math.floor((now - DAY) / 60_000) * 60_000;
  let ca: LocalCa;
  let server: Server;
  let ocspHits = 0;
  const serials: string[] = [];

  beforeAll(async () => {
    ca = await LocalCa.create({ name: 'Crash Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    let crl: Buffer | null = null;
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/ca.crl') {
          res.writeHead(200, { 'content-type': 'application/pkix-crl' });
          res.end(crl);
          return;
        }
        ocspHits++;
        // RFC 5019 / RFC 6960 A.1: small requests come as GET /ocsp/<base64>, others as a POST body.
        const der =
          req.method === 'GET'
            ? Buffer.from(decodeURIComponent((req.url ?? '').replace(/^\/ocsp\/?/, '')), 'base64')
            : Buffer.concat(chunks);
        const request = AsnConvert.parse(der, OCSPRequest);
        const serial = serialHex(new Uint8Array(request.tbsRequest.requestList[0]!.reqCert.serialNumber));
        const body = ca.ocspResponse({
          answers: [
            {
              serial,
              status: 'revoked',
              revocationTime: reportedAt + 2 * HOUR,
              reasonCode: 1,
              thisUpdate: now - 60_000,
              nextUpdate: now + 4 * DAY,
            },
          ],
          producedAt: now - 60_000,
        });
        // A little latency, so that a run lasts long enough to be killed part way.
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/ocsp-response' });
          res.end(body);
        }, 15);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    for (let c = 0; c < CASES; c++) {
      mkdirSync(join(dir, `case${c}`));
      for (let i = 0; i < PER_CASE; i++) {
        const leaf = await ca.issue({
          subject: `CN=c${c}-${i}.crash.example`,
          notBefore: now - 5 * DAY,
          notAfter: now + 60 * DAY,
          ocspUrls: [`${base}/ocsp`],
          crlUrls: [`${base}/ca.crl`],
        });
        serials.push(leaf.info.serial);
        writeFileSync(join(dir, `case${c}`, `${i}.der`), leaf.info.der);
      }
    }
    crl = ca.crl({
      entries: serials.map((serial) => ({ serial, revocationDate: reportedAt + 2 * HOUR, reasonCode: 1 })),
      thisUpdate: now - 60_000,
      nextUpdate: now + 7 * DAY,
      crlNumber: 1,
    });
  }, 300_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const trackAll = async (home: string): Promise<void> => {
    for (let c = 0; c < CASES; c++) {
      const r = await cli([
        '--home',
        home,
        'track',
        join(dir, `case${c}`),
        '--issuer',
        join(dir, 'ca.der'),
        '--case',
        `case${c}`,
        '--reported-at',
        new Date(reportedAt).toISOString(),
        '--reason',
        'key-compromise',
        '--notify',
        `owner${c}@example.com`,
      ]);
      expect(r.code, r.stderr).toBe(0);
    }
  };

  /** Spawns `check`; kills it with SIGKILL once `killWhen` says so. Returns how it ended. */
  const spawnCheck = (home: string, killWhen: (() => boolean) | null): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
    new Promise((resolve) => {
      const child = spawn('node', [BIN, '--home', home, '--allow-private-network', 'check'], { stdio: 'ignore' });
      let poll: NodeJS.Timeout | null = null;
      if (killWhen) {
        poll = setInterval(() => {
          if (killWhen()) {
            clearInterval(poll!);
            child.kill('SIGKILL');
          }
        }, 5);
      }
      child.on('exit', (code, signal) => {
        if (poll) clearInterval(poll);
        resolve({ code, signal });
      });
    });

  /** Everything a run leaves that must not depend on crashes: observations, verdicts, notices. */
  const snapshot = async (home: string) => {
    const cases: Record<string, unknown> = {};
    for (let c = 0; c < CASES; c++) {
      const r = await cli(['--home', home, 'report', '--case', `case${c}`, '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as {
        certificates: {
          serial: string;
          verdict: string;
          revocationTime: string | null;
          observations: {
            source: { kind: string };
            status: string;
            revocationTime: string | null;
            reasonCode: string | null;
            sha256: string | null;
          }[];
        }[];
      };
      cases[`case${c}`] = report.certificates
        .map((cert) => ({
          serial: cert.serial,
          verdict: cert.verdict,
          revocationTime: cert.revocationTime,
          // OCSP responses are signed afresh (ECDSA), so their hashes differ
          // between homes; the CRL is the same bytes in both.
          observations: cert.observations
            .map(
              (o) =>
                `${o.source.kind} ${o.status} ${o.revocationTime} ${o.reasonCode} ${o.source.kind === 'crl' ? o.sha256 : 'ocsp-response'}`,
            )
            .sort(),
        }))
        .sort((a, b) => a.serial.localeCompare(b.serial));
    }
    const outbox = join(home, 'outbox');
    const mails = existsSync(outbox)
      ? readdirSync(outbox)
          .map((f) => {
            const raw = readFileSync(join(outbox, f), 'latin1');
            const to = /^To: (.*)$/m.exec(raw)?.[1]?.trim() ?? '?';
            const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? '?';
            return `${to} | ${subject}`;
          })
          .sort()
      : [];
    return { cases, mails };
  };

  it('leaves the same observations, verdicts and notices as a run never killed', async () => {
    const control = join(dir, 'control');
    await trackAll(control);
    expect(await spawnCheck(control, null)).toEqual({ code: 0, signal: null });

    const crashed = join(dir, 'crashed');
    await trackAll(crashed);
    const total = CASES * PER_CASE;
    const points: [string, () => boolean][] = [
      ['before any OCSP answer', () => ocspHits >= 1],
      ['a quarter through', () => ocspHits >= total / 4],
      ['half way', () => ocspHits >= total / 2],
      ['nearly done', () => ocspHits >= total - 5],
    ];
    const kills: string[] = [];
    for (const [name, when] of points) {
      ocspHits = 0;
      const ended = await spawnCheck(crashed, when);
      kills.push(`${name}: ${ended.signal ?? `exit ${ended.code}`} after ${ocspHits} OCSP answers`);
      // kill -9 leaves the lock behind: the next command takes it over at once, its owner's process being gone.
    }
    // Around the end of the run (writes, notices): 40 ms after the last OCSP answer.
    ocspHits = 0;
    let doneAt = 0;
    const duringNotices = await spawnCheck(crashed, () => {
      if (ocspHits >= total && doneAt === 0) doneAt = Date.now();
      return doneAt > 0 && Date.now() - doneAt > 40;
    });
    kills.push(`during notices: ${duringNotices.signal ?? `exit ${duringNotices.code}`}`);
    console.log(`crash-safety kill points:\n  ${kills.join('\n  ')}`);
    expect(kills.filter((k) => k.includes('SIGKILL')).length, kills.join('\n')).toBeGreaterThanOrEqual(3);

    // Re-run to the end, then once more after a notice claim's lease (5 min)
    // has lapsed, as the next scheduled run would. The control home gets the same.
    expect(await spawnCheck(crashed, null)).toEqual({ code: 0, signal: null });
    const later = new FakeClock(Date.now() + 6 * 60_000);
    for (const home of [crashed, control]) {
      const r = await cli(['--home', home, '--allow-private-network', 'check'], later);
      expect(r.code, r.stderr).toBe(0);
    }

    const expected = await snapshot(control);
    const got = await snapshot(crashed);
    // The control itself: one observation per certificate and source, all revoked, on time.
    for (const certs of Object.values(expected.cases) as { verdict: string; observations: string[] }[][]) {
      expect(certs).toHaveLength(PER_CASE);
      for (const cert of certs) {
        expect(cert.verdict).toBe('revoked_on_time');
        expect(cert.observations).toHaveLength(2);
      }
    }
    expect(expected.mails.length).toBeGreaterThanOrEqual(CASES);
    expect(got.cases).toEqual(expected.cases);
    expect(got.mails).toEqual(expected.mails);
  }, 600_000);
});
