/**
 * `npm run test:faults`: the fault-injection suite (test/faults/faults.test.ts)
 * inside a loopback-only network namespace when `unshare -n` is available (so
 * the redirect-to-metadata class runs too), then one fetch per memory
 * scenario in its own process; prints the table of classes and outcomes and
 * the memory figures. Exits non-zero when the suite fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const report = join(mkdtempSync(join(tmpdir(), 'revwatch-faults-report-')), 'report.json');
const netns = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' }).status === 0;
const vitest = join(ROOT, 'node_modules/.bin/vitest');
const env = { ...process.env, REVWATCH_FAULT_REPORT: report };

const suite = netns
  ? spawnSync('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec ${JSON.stringify(vitest)} run test/faults/faults.test.ts`], {
      cwd: ROOT,
      env: { ...env, REVWATCH_IN_NETNS: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    })
  : spawnSync(vitest, ['run', 'test/faults/faults.test.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const summary = (suite.stdout ?? '').split('\n').filter((l) => /Tests\s|Test Files|FAIL|×/.test(l));

const lines: string[] = [];
lines.push(
  netns
    ? 'fault-injection suite (inside unshare -n, loopback only):'
    : 'fault-injection suite (unshare -n unavailable: redirect-private skipped):',
);
if (existsSync(report)) lines.push((JSON.parse(readFileSync(report, 'utf8')) as { table: string }).table);
else lines.push('(no table: the suite did not get as far as writing it)');
lines.push(...summary);

lines.push('', 'memory of one CRL fetch, each in its own process (maxRSS; cap 256 MiB; bound cap + 64 MB):');
lines.push('scenario          outcome                                                seconds  baseline MB  peak MB  fetch +MB');
for (const scenario of ['endless', 'chunked-100mb', 'declared-100mb']) {
  const r = spawnSync('node', ['--import', 'tsx', 'test/faults/fetch-memory.ts', scenario], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (r.status !== 0) {
    lines.push(`${scenario.padEnd(17)} failed: ${(r.stderr || '').split('\n')[0]}`);
    continue;
  }
  const m = JSON.parse(r.stdout) as { outcome: string; seconds: number; baselineMb: number; peakMb: number; fetchMb: number };
  lines.push(
    `${scenario.padEnd(17)} ${m.outcome.slice(0, 54).padEnd(54)} ${m.seconds.toFixed(1).padStart(7)}  ${String(m.baselineMb).padStart(11)}  ${String(m.peakMb).padStart(7)}  ${String(m.fetchMb).padStart(9)}`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(suite.status ?? 1);
