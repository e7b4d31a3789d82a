/**
 * What the crash-safety tests share: a CA on 127.0.0.1 whose one CRL lists every leaf and whose OCSP responder
 * answers "revoked" for each (a little late, or not until released), the leaves in case directories, and the
 * steps of a test: track them into a home, run `check` in a child process killed with SIGKILL when a test says,
 * and read back everything a run leaves that must not depend on crashes (observations, verdicts, notices).
 *
 * The leaves are written straight to DER (bench/leaves.ts): thousands through the ASN.1 object model would take
 * minutes. `check` is the built CLI (`npx tsc -p tsconfig.build.json` first; global-setup.ts does it).
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { OCSPRequest } from '@peculiar/asn1-ocsp';
import { expect } from 'vitest';
import { leafDer } from '../../bench/leaves.js';
import { FakeClock, type SystemClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { describeCertificate } from '../../src/pki/certificate.js';
import { serialHex } from '../../src/pki/der.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/revwatch.js');
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** How a spawned check ended: its exit code, or the signal that killed it. */
export interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Everything a run leaves that must not depend on crashes, per case: each certificate's verdict and observations. */
export interface Snapshot {
  readonly cases: Record<string, { serial: string; verdict: string; revocationTime: string | null; observations: string[] }[]>;
  readonly mails: string[];
}

export interface CrashWorld {
  readonly dir: string;
  readonly cases: number;
  readonly perCase: number;
  /** The serials whose leaves name the OCSP responder (all, unless `ocspEvery` says otherwise). */
  readonly withOcsp: ReadonlySet<string>;
  /** OCSP requests answered (or held) since the last reset. */
  ocspHits: number;
  /** CRL fetches served since the last reset. */
  crlHits: number;
  /** While held, OCSP requests get no answer until released (a run then waits on its responder). */
  holdOcsp(held: boolean): void;
  trackAll(home: string): Promise<void>;
  /** Spawns `check`; kills it with SIGKILL once `killWhen` (asked every 5 ms, with the child's pid) says so. */
  spawnCheck(home: string, killWhen: ((pid: number) => boolean) | null): Promise<Ended>;
  /** Runs `check` in this process to the end (the next scheduled run, on `clock`). */
  checkInProcess(home: string, clock: SystemClock | FakeClock): Promise<void>;
  snapshot(home: string): Promise<Snapshot>;
  close(): Promise<void>;
}

/**
 * `cases` cases of `perCase` leaves each, every one on the CRL and every `ocspEvery`th (default: each) also
 * naming the responder, which answers "revoked"; all revoked two hours after the cases' reported time (on time:
 * BR 4.9.1.1), a day ago.
 */
export async function crashWorld(options: { cases: number; perCase: number; prefix: string; ocspEvery?: number }): Promise<CrashWorld> {
  const { cases, perCase } = options;
  const ocspEvery = options.ocspEvery ?? 1;
  const withOcsp = new Set<string>();
  const dir = mkdtempSync(join(tmpdir(), `revwatch-${options.prefix}-`));
  const now = Date.now();
  const reportedAt = Math.floor((now - DAY) / 60_000) * 60_000;
  const ca = await LocalCa.create({ name: 'Crash Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
  let crl: Buffer | null = null;
  let held = false;
  const parked: (() => void)[] = [];
  const world: CrashWorld = {
    dir,
    cases,
    perCase,
    withOcsp,
    ocspHits: 0,
    crlHits: 0,
    holdOcsp(hold) {
      held = hold;
      if (!hold) for (const answer of parked.splice(0)) answer();
    },
    trackAll,
    spawnCheck,
    checkInProcess,
    snapshot,
    close,
  };

  const answerOcsp = (req: IncomingMessage, body: Buffer, res: ServerResponse): void => {
    // RFC 5019 / RFC 6960 A.1: small requests come as GET /ocsp/<base64>, others as a POST body.
    const der = req.method === 'GET' ? Buffer.from(decodeURIComponent((req.url ?? '').replace(/^\/ocsp\/?/, '')), 'base64') : body;
    const request = AsnConvert.parse(der, OCSPRequest);
    const serial = serialHex(new Uint8Array(request.tbsRequest.requestList[0]!.reqCert.serialNumber));
    const response = ca.ocspResponse({
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
      res.end(response);
    }, 15);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/ca.crl') {
        world.crlHits++;
        res.writeHead(200, { 'content-type': 'application/pkix-crl' });
        res.end(crl);
        return;
      }
      world.ocspHits++;
      const answer = (): void => answerOcsp(req, Buffer.concat(chunks), res);
      if (held) parked.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  writeFileSync(join(dir, 'ca.der'), ca.info.der);
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const serials: string[] = [];
  for (let c = 0; c < cases; c++) {
    mkdirSync(join(dir, `case${c}`));
    for (let i = 0; i < perCase; i++) {
      const ocsp = (c * perCase + i) % ocspEvery === 0;
      const der = leafDer({
        issuerName: ca.info.raw.subjectName,
        issuerKey: ca.keys.privateKey,
        serial: 0x5eed0000n + BigInt(c * perCase + i),
        cn: `c${c}-${i}.crash.example`,
        notBefore: now - 5 * DAY,
        notAfter: now + 60 * DAY,
        spki,
        crlUrl: `${base}/ca.crl`,
        ocspUrl: ocsp ? `${base}/ocsp` : null,
      });
      const { serial } = describeCertificate(der);
      serials.push(serial);
      if (ocsp) withOcsp.add(serial);
      writeFileSync(join(dir, `case${c}`, `${i}.der`), der);
    }
  }
  crl = ca.crl({
    entries: serials.map((serial) => ({ serial, revocationDate: reportedAt + 2 * HOUR, reasonCode: 1 })),
    thisUpdate: now - 60_000,
    nextUpdate: now + 7 * DAY,
    crlNumber: 1,
  });

  async function trackAll(home: string): Promise<void> {
    for (let c = 0; c < cases; c++) {
      const r = await runCli([
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
  }

  function spawnCheck(home: string, killWhen: ((pid: number) => boolean) | null): Promise<Ended> {
    return new Promise((resolve) => {
      // The responder is held until the kill, and the kill waits for the process to be idle after its writes: on a
      // loaded machine that took over the default 15 s OCSP deadline, so the run to be killed recorded its held
      // requests as timed out (an 'error' observation the re-run then left alone: 4 certificates differed from the
      // control at load 30). A deadline no run here reaches keeps every OCSP answer from being a timeout.
      const env = { ...process.env, REVWATCH_OCSP_DEADLINE_MS: '3600000' };
      const child = spawn('node', [BIN, '--home', home, '--allow-private-network', 'check'], { stdio: 'ignore', env });
      let poll: NodeJS.Timeout | null = null;
      if (killWhen) {
        poll = setInterval(() => {
          if (child.pid !== undefined && killWhen(child.pid)) {
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
  }

  async function checkInProcess(home: string, clock: SystemClock | FakeClock): Promise<void> {
    const r = await runCli(['--home', home, '--allow-private-network', 'check'], { clock });
    expect(r.code, r.stderr).toBe(0);
  }

  async function snapshot(home: string): Promise<Snapshot> {
    const out: Snapshot['cases'] = {};
    for (let c = 0; c < cases; c++) {
      const r = await runCli(['--home', home, 'report', '--case', `case${c}`, '--format', 'json']);
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
      out[`case${c}`] = report.certificates
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
    return { cases: out, mails };
  }

  async function close(): Promise<void> {
    world.holdOcsp(false);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  return world;
}

/**
 * The certificates of a snapshot without exactly one observation per source (the CRL's, and the responder's
 * where named), counted by what they have instead (their sources' kinds, e.g. "crl crl": the CRL's twice).
 */
export function unevenObservations(world: CrashWorld, snapshot: Snapshot): Record<string, number> {
  const uneven: Record<string, number> = {};
  for (const cert of Object.values(snapshot.cases).flat()) {
    if (cert.observations.length === (world.withOcsp.has(cert.serial) ? 2 : 1)) continue;
    const kinds = cert.observations.map((o) => o.split(' ')[0]).join(' ') || 'none';
    uneven[kinds] = (uneven[kinds] ?? 0) + 1;
  }
  return uneven;
}

/**
 * The control home's own result: every certificate revoked on time, with one observation per source (the CRL's,
 * and the responder's where it names one), and at least one notice per case.
 */
export function expectControl(world: CrashWorld, expected: Snapshot): void {
  for (const certs of Object.values(expected.cases)) {
    expect(certs).toHaveLength(world.perCase);
    for (const cert of certs) expect(cert.verdict).toBe('revoked_on_time');
  }
  expect(unevenObservations(world, expected)).toEqual({});
  expect(expected.mails.length).toBeGreaterThanOrEqual(world.cases);
}

/** The home never killed: every case tracked and checked to the end by the CLI. Its path. */
export async function checkedControl(world: CrashWorld): Promise<string> {
  const control = join(world.dir, 'control');
  await world.trackAll(control);
  expect(await world.spawnCheck(control, null)).toEqual({ code: 0, signal: null });
  return control;
}

/**
 * After the kills: the crashed home's check re-run to the end, then both homes checked once more as the next
 * scheduled run would (after a notice claim's 5-minute lease has lapsed). Both snapshots, the control's checked.
 */
export async function finishAndSnapshot(
  world: CrashWorld,
  crashed: string,
  control: string,
): Promise<{ expected: Snapshot; got: Snapshot }> {
  expect(await world.spawnCheck(crashed, null)).toEqual({ code: 0, signal: null });
  const later = new FakeClock(Date.now() + 6 * 60_000);
  for (const home of [crashed, control]) await world.checkInProcess(home, later);
  const expected = await world.snapshot(control);
  expectControl(world, expected);
  return { expected, got: await world.snapshot(crashed) };
}

/** CPU time a process has used so far (user + system, clock ticks: /proc/<pid>/stat fields 14 and 15), or null once it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/**
 * True once a process has used no CPU for `quietMs` (checked whenever asked): it is waiting, here on a held
 * responder, with whatever it was doing before (a write) done.
 */
export function quietFor(quietMs: number): (pid: number) => boolean {
  let last: number | null = null;
  let since = 0;
  return (pid) => {
    const ticks = cpuTicks(pid);
    const now = Date.now();
    if (ticks === null || ticks !== last) {
      last = ticks;
      since = now;
      return false;
    }
    return now - since >= quietMs;
  };
}
