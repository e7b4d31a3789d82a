/**
 * `npm run bench -- startup [--rounds=N]`: whole-process start-up of the built
 * CLI (bin/revwatch.js → dist/), against bare `node -e 0` in the same run:
 * `--help`, `deadline --json`, and `inspect crl` of a 10-entry CRL, each
 * targeted at ≤ 150 ms over bare node; and `inspect crl` of a 1,000,000-entry
 * CRL against `openssl crl -noout -CAfile` on the same file (target ≤ 0.5×).
 * The commands run in interleaved rounds, so a burst of load on the shared
 * machine hits all of them alike; medians are reported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCa } from '../src/local-ca/ca.js';
import type { CrlEntryInput } from '../src/local-ca/crl-writer.js';
import { toPem } from '../src/pki/certificate.js';

const DAY = 86_400_000;
const SMALL_OVER_NODE_MS = 150;
const BIG_VS_OPENSSL = 0.5;

interface Contender {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Exit codes that count as success (inspect exits 0 for valid evidence). */
  readonly ok?: readonly number[];
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function* revoked(n: number, now: number): Generator<CrlEntryInput> {
  for (let i = 0; i < n; i++)
    yield {
      serial: (BigInt(i) * 0x9e3779b97f4a7c15n + 0x1234567n) | (1n << 126n),
      revocationDate: now - (i % 100_000) * 60_000,
      reasonCode: i % 2 ? 1 : null,
    };
}

/** One timed run, wall clock around the whole process (spawn, start-up, work, exit). */
function timeOnce(c: Contender): number {
  const started = performance.now();
  const r = spawnSync(c.command, [...c.args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - started;
  if (!(c.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
  return ms;
}

export async function benchStartup(out: string, rounds: number): Promise<string[]> {
  if (!existsSync('dist/cli/main.js')) return ['FAIL startup: dist/ is not built (npx tsc -p tsconfig.build.json)'];
  const dir = join(out, 'startup');
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  const ca = await LocalCa.create({ name: 'Bench Start-up CA', keyType: 'rsa-2048', notBefore: now - DAY, notAfter: now + 365 * DAY });
  const caPem = join(dir, 'ca.pem');
  writeFileSync(caPem, toPem(ca.info.der));
  const small = join(dir, 'small.crl');
  const big = join(dir, 'big.crl');
  const crl = (n: number): Buffer =>
    ca.crl({ entries: revoked(n, now), entryCount: n, thisUpdate: now - 3_600_000, nextUpdate: now + 7 * DAY, crlNumber: n });
  writeFileSync(small, crl(10));
  writeFileSync(big, crl(1_000_000));

  const cli = (name: string, ...args: string[]): Contender => ({ name, command: process.execPath, args: ['bin/revwatch.js', ...args] });
  const small3: Contender[] = [
    cli('revwatch --help', '--help'),
    cli('revwatch deadline --json', 'deadline', '--json', '--reported-at', '2025-11-20T00:00:00Z', '--reason', 'key-compromise'),
    cli('revwatch inspect crl (10 entries)', 'inspect', 'crl', small, '--issuer', caPem),
  ];
  const bare: Contender = { name: 'node -e 0', command: process.execPath, args: ['-e', '0'] };
  const bigRevwatch = cli('revwatch inspect crl (1M entries)', 'inspect', 'crl', big, '--issuer', caPem);
  const openssl: Contender | null =
    spawnSync('openssl', ['version']).status === 0
      ? {
          name: 'openssl crl -noout -CAfile (1M entries)',
          command: 'openssl',
          args: ['crl', '-inform', 'DER', '-in', big, '-noout', '-CAfile', caPem],
        }
      : null;
  const all = [bare, ...small3, bigRevwatch, ...(openssl ? [openssl] : [])];

  for (const c of all) timeOnce(c); // warm the file cache and node's compile cache once
  const times = new Map<Contender, number[]>(all.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) for (const c of all) times.get(c)!.push(timeOnce(c));

  const m = (c: Contender): number => median(times.get(c)!);
  const lines = [
    `Start-up: whole-process wall time, median of ${rounds} interleaved rounds (ms)`,
    `${'command'.padEnd(44)}${'median'.padStart(9)}${'over node'.padStart(11)}${'min'.padStart(8)}${'max'.padStart(8)}`,
  ];
  for (const c of all) {
    const t = times.get(c)!;
    lines.push(
      `${c.name.padEnd(44)}${m(c).toFixed(0).padStart(9)}${(m(c) - m(bare)).toFixed(0).padStart(11)}${Math.min(...t)
        .toFixed(0)
        .padStart(8)}${Math.max(...t)
        .toFixed(0)
        .padStart(8)}`,
    );
  }
  for (const c of small3) {
    const over = m(c) - m(bare);
    lines.push(
      `${over <= SMALL_OVER_NODE_MS ? 'PASS' : 'FAIL'} ${c.name}: ${over.toFixed(0)} ms over bare node (target <= ${SMALL_OVER_NODE_MS} ms)`,
    );
  }
  if (openssl) {
    const ratio = m(bigRevwatch) / m(openssl);
    lines.push(
      `${ratio <= BIG_VS_OPENSSL ? 'PASS' : 'FAIL'} inspect crl of 1,000,000 entries: ${m(bigRevwatch).toFixed(0)} ms = ${ratio.toFixed(2)}x openssl crl's ${m(openssl).toFixed(0)} ms (target <= ${BIG_VS_OPENSSL}x)`,
    );
  } else lines.push('note: openssl not found; the 1M-entry comparison was skipped');
  return lines;
}
