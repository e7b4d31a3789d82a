/**
 * `npm run bench -- track`: `revwatch track <dir>` over 10,000 and 100,000
 * PEM files (one certificate each, issuer given with --issuer), through the
 * real CLI on a fresh embedded store. Reports CPU (user + system of the CLI
 * process, start-up included) per 1,000 certificates and wall time.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { LocalCa } from '../src/local-ca/ca.js';
import { toPem } from '../src/pki/certificate.js';
import { leafDer } from './leaves.js';

/** Prints the process's own CPU use at exit; loaded with --import into the measured CLI. */
export function cpuHook(dir: string): string {
  const path = join(dir, 'cpu-hook.mjs');
  writeFileSync(
    path,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the string is source code that the child process runs
    "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nREVWATCH_CPU_US ${u.user + u.system}\\n`); });\n",
  );
  return path;
}

export interface CliRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/revwatch.js with the CPU hook; asynchronous so the calling process can keep serving. */
export async function runCli(hook: string, args: readonly string[]): Promise<CliRun> {
  const start = performance.now();
  const r = await promisify(execFile)(process.execPath, ['--import', hook, 'bin/revwatch.js', ...args], {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string; code?: number }) => {
    // Exit 2 (some sources unreadable) still prints its summary.
    if (err.code === 2 && err.stdout) return { stdout: err.stdout, stderr: err.stderr ?? '' };
    throw new Error(`revwatch ${args.join(' ')} failed (${err.code}): ${err.stderr?.slice(-2000)}`);
  });
  const wallMs = performance.now() - start;
  const cpu = /REVWATCH_CPU_US (\d+)/.exec(r.stderr);
  if (!cpu) throw new Error(`no CPU figure from revwatch ${args[0]}: ${r.stderr.slice(-500)}`);
  return { wallMs, cpuMs: Number(cpu[1]) / 1000, stdout: r.stdout, stderr: r.stderr };
}

export async function benchTrack(out: string, sizes: readonly number[] = [10_000, 100_000]): Promise<string[]> {
  const lines: string[] = [];
  const now = Date.now();
  const ca = await LocalCa.create({
    name: 'Bench Track CA',
    keyType: 'ec-p256',
    notBefore: now - 400 * 86_400_000,
    notAfter: now + 400 * 86_400_000,
  });
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const work = mkdtempSync(join(tmpdir(), 'revwatch-bench-track-'));
  const hook = cpuHook(out);
  const issuerPem = join(work, 'issuer.pem');
  writeFileSync(issuerPem, toPem(ca.info.der));
  lines.push(
    'track: `revwatch track <dir> --issuer` on a fresh embedded store (CPU = user + system of the CLI process, start-up included)',
  );
  lines.push(`${'certificates'.padStart(12)}${'wall s'.padStart(9)}${'CPU s'.padStart(8)}${'CPU s / 1,000'.padStart(15)}`);
  try {
    for (const n of sizes) {
      const dir = join(work, `certs-${n}`);
      mkdirSync(dir);
      let t = performance.now();
      for (let i = 0; i < n; i++) {
        const der = leafDer({
          issuerName: ca.info.raw.subjectName,
          issuerKey: ca.keys.privateKey,
          serial: (1n << 100n) + BigInt(i),
          cn: `leaf-${i}.bench.example`,
          notBefore: now - 10 * 86_400_000,
          notAfter: now + 80 * 86_400_000,
          spki,
          crlUrl: `http://crl.bench.example/${i % 50}.crl`,
          ocspUrl: 'http://ocsp.bench.example',
        });
        writeFileSync(join(dir, `leaf-${String(i).padStart(6, '0')}.pem`), toPem(der));
      }
      process.stderr.write(`  generated ${n} PEM files in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
      const home = join(work, `home-${n}`);
      t = performance.now();
      const r = await runCli(hook, [
        '--home',
        home,
        '--json',
        'track',
        dir,
        '--issuer',
        issuerPem,
        '--reported-at',
        new Date(now - 86_400_000).toISOString(),
        '--reason',
        'key-compromise',
        '--case',
        'bench',
      ]);
      const added = (JSON.parse(r.stdout) as { added: number }).added;
      if (added !== n) lines.push(`FAIL tracked ${added} of ${n}`);
      const perK = r.cpuMs / 1000 / (n / 1000);
      lines.push(
        `${String(n).padStart(12)}${(r.wallMs / 1000).toFixed(1).padStart(9)}${(r.cpuMs / 1000).toFixed(1).padStart(8)}${perK.toFixed(3).padStart(15)}`,
      );
      lines.push(`${perK <= 1 ? 'PASS' : 'FAIL'} track ${n}: ${perK.toFixed(3)} s CPU per 1,000 certificates (target <= 1 s)`);
      rmSync(dir, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}
