/**
 * `revwatch demo`: a self-contained incident, replayed in a few seconds with
 * no network and no openssl. A local CA serves OCSP and a CRL on 127.0.0.1;
 * a key-compromise case reported three days ago holds certificates revoked on
 * time, late, backdated and never, plus one that expired first; a second case
 * reported two hours ago is still pending. The same CLI commands a user runs
 * (track, check, status, report) run against it, on a clock that replays the
 * three days in six-hour steps; notices go to the local outbox.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../adapters/system-clock.js';
import { LocalCa } from '../local-ca/ca.js';
import { LocalCaServer } from '../local-ca/server.js';
import type { Clock } from '../ports/index.js';
import { toPem } from '../pki/certificate.js';
import { iso } from '../time.js';
import { humanAnswer } from '../report/check-lines.js';
import { InputError } from '../errors.js';
import { oneLine } from '../util/terminal.js';

/** The file that marks a directory as a demo's home: the demo writes only to an empty directory or one holding it. */
export const DEMO_HOME_MARK = 'revwatch-demo-home';

/**
 * The demo replays three days on a simulated clock, so what it records is dated in the past: written into a
 * home that holds real evidence, it would put fake observations beside real ones (and a first-seen-revoked
 * time later than the real clock). So it takes an empty directory, or a previous demo's home, which it empties
 * first (the new replay's cases would clash with the old one's dates); anything else is refused, unchanged.
 */
export function prepareDemoHome(home: string): void {
  if (existsSync(home)) {
    if (!statSync(home).isDirectory()) throw new InputError(`--home ${oneLine(home)} is not a directory`);
    const entries = readdirSync(home);
    if (entries.length > 0 && !entries.includes(DEMO_HOME_MARK))
      throw new InputError(
        `--home ${oneLine(home)} holds data that is not a previous demo's; the demo runs on a simulated clock and writes only to an empty directory or a previous demo's home (omit --home for a new one)`,
      );
    for (const entry of entries) rmSync(join(home, entry), { recursive: true, force: true });
  }
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, DEMO_HOME_MARK), 'written by `revwatch demo` on a simulated clock: not evidence\n');
}

interface DemoIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
}

/** What the demo reads from `check --json`. */
interface DemoCheck {
  readonly certificates: number;
  readonly changes: readonly { serial: string; source: string; from: string; to: string }[];
  readonly failedSources: readonly unknown[];
  readonly retiredExpired?: number;
}

/**
 * What one simulated check saw, by certificate name: "on-time: revoked at ... (keyCompromise) on OCSP and CRL",
 * or that every answer was as before. The first check of a certificate is its first answer, not a change.
 */
function describeCheck(s: DemoCheck, names: ReadonlyMap<string, string>): string {
  const bySerial = new Map<string, { to: string; sources: Set<string>; first: boolean }>();
  for (const c of [...s.changes].sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))) {
    const kind = c.source.startsWith('ocsp ') ? 'OCSP' : 'CRL';
    const seen = bySerial.get(c.serial) ?? { to: humanAnswer(c.to), sources: new Set<string>(), first: c.from === 'none' };
    seen.sources.add(kind);
    bySerial.set(c.serial, seen);
  }
  const news = [...bySerial.entries()]
    .filter(([, v]) => !(v.first && v.to === 'good'))
    .map(([serial, v]) => `${names.get(serial) ?? serial} ${v.to} on ${[...v.sources].sort().reverse().join(' and ')}`);
  const firsts = [...bySerial.values()].filter((v) => v.first && v.to === 'good').length;
  const parts: string[] = [];
  if (firsts) parts.push(`first answers, ${firsts} certificate(s) good`);
  parts.push(...news);
  if (s.retiredExpired) parts.push(`${s.retiredExpired} certificate(s) expired, judged and no longer asked`);
  if (parts.length === 0) parts.push(`${s.certificates} certificate(s) asked, every answer as before`);
  if (s.failedSources.length) parts.push(`${s.failedSources.length} source(s) unreadable`);
  return parts.join('; ');
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export async function runDemo(options: {
  io: DemoIo;
  home?: string;
  runCli: (argv: readonly string[], io: DemoIo) => Promise<number>;
}): Promise<void> {
  const { io } = options;
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'revwatch-demo-'));
  prepareDemoHome(home);
  mkdirSync(join(home, 'certs'), { recursive: true });
  const now = Math.floor(io.clock.now().getTime() / 60_000) * 60_000;
  const reportedA = now - 3 * DAY;
  const reportedB = now - 2 * HOUR;
  const clock = new FakeClock(reportedA - HOUR);
  const quiet: DemoIo = { ...io, clock, stdout: () => undefined };
  const loud: DemoIo = { ...io, clock };
  const cli = async (argv: string[], out: DemoIo = quiet): Promise<void> => {
    const code = await options.runCli(['--home', home, '--allow-private-network', ...argv], out);
    if (code !== 0 && code !== 2) throw new Error(`revwatch ${argv[0]} exited ${code}`);
  };

  io.stdout(`revwatch demo: data in ${home}\n`);
  const ca = await LocalCa.create({
    name: 'CN=revwatch Demo Issuing CA, O=revwatch demo',
    notBefore: now - 365 * DAY,
    notAfter: now + 365 * DAY,
  });
  const server = await new LocalCaServer(ca, () => clock.now().getTime()).start();
  try {
    writeFileSync(join(home, 'ca.pem'), toPem(ca.info.der));
    const names = new Map<string, string>();
    const issue = async (name: string, notAfter: number) => {
      const c = await ca.issue({
        subject: `CN=${name}.demo.example`,
        notBefore: reportedA - 30 * DAY,
        notAfter,
        ocspUrls: [server.ocspUrl],
        crlUrls: [server.crlUrl],
        caIssuersUrls: [server.caIssuersUrl],
      });
      server.issued(c.info.serial);
      const path = join(home, 'certs', `${name}.pem`);
      writeFileSync(path, toPem(c.info.der));
      names.set(c.info.serial, name);
      return { serial: c.info.serial, path };
    };

    // Case A: key compromise reported three days ago; BR 4.9.1.1 gives 24 hours.
    const onTime = await issue('on-time', now + 60 * DAY);
    const late = await issue('late', now + 60 * DAY);
    const backdated = await issue('backdated', now + 60 * DAY);
    const overdue = await issue('overdue', now + 60 * DAY);
    const expired = await issue('expired', reportedA + 12 * HOUR);
    // What the CA publishes, and when: [published at, serial, claimed revocation time, CRLReason].
    const staged: [number, string, number, number][] = [
      [reportedA + 6 * HOUR, onTime.serial, reportedA + 6 * HOUR, 1],
      [reportedA + 40 * HOUR, late.serial, reportedA + 40 * HOUR, 1],
      // Published 30 hours after the report but dated 2 hours after it, with the wrong reason.
      [reportedA + 30 * HOUR, backdated.serial, reportedA + 2 * HOUR, 4],
    ];
    // Case B: misissuance reported two hours ago; 5 days (SHOULD 24 hours).
    const pending = await issue('pending', now + 60 * DAY);

    clock.set(reportedA + 30 * 60_000);
    await cli([
      'track',
      onTime.path,
      late.path,
      backdated.path,
      overdue.path,
      expired.path,
      '--issuer',
      join(home, 'ca.pem'),
      '--case',
      'demo-key-compromise',
      '--title',
      'Demo: key compromise reported to Demo CA',
      '--reported-at',
      iso(reportedA),
      '--reason',
      'key-compromise',
      '--notify',
      'ca-compliance@demo.example',
    ]);
    io.stdout(`tracked 5 certificates in case demo-key-compromise (reported ${iso(reportedA)}, deadline ${iso(reportedA + DAY)})\n`);

    // Replay: a check every six hours, the CA publishing as staged.
    let trackedB = false;
    for (let t = reportedA + HOUR; t <= now; t = Math.min(t + 6 * HOUR, t === now ? now + 1 : now)) {
      clock.set(t);
      for (const [at, serial, revocationTime, reason] of staged) if (at <= t) server.revoke(serial, revocationTime, reason);
      if (!trackedB && t >= reportedB) {
        await cli([
          'track',
          pending.path,
          '--issuer',
          join(home, 'ca.pem'),
          '--case',
          'demo-misissuance',
          '--title',
          'Demo: misissuance reported to Demo CA',
          '--reported-at',
          iso(reportedB),
          '--reason',
          'misissuance',
        ]);
        io.stdout(`tracked 1 certificate in case demo-misissuance (reported ${iso(reportedB)})\n`);
        trackedB = true;
      }
      let summary = '';
      await cli(['--json', 'check'], { ...quiet, stdout: (s) => (summary += s) });
      io.stdout(`  ${iso(t)}  check: ${describeCheck(JSON.parse(summary) as DemoCheck, names)}\n`);
      if (t === now) break;
    }
    io.stdout('\n');
    await cli(['status'], loud);
    io.stdout('\n');
    await cli(['report', '--case', 'demo-key-compromise', '--format', 'markdown'], loud);
    const outbox = join(home, 'outbox');
    const mails = existsSync(outbox) ? readdirSync(outbox).filter((f) => f.endsWith('.eml')) : [];
    io.stdout(`\nNotices: ${mails.length} email(s) to ca-compliance@demo.example in ${outbox} (one per case per check that had news).\n`);
    io.stdout(`\nEvery answer above was verified (signatures, responder, CertID) and is kept in ${home}.\n`);
    io.stdout(`Look again with: npx revwatch --home ${home} status --json\n`);
  } finally {
    await server.stop();
  }
}
