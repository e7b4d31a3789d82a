/**
 * `npm run bench -- appendix [--size=N]`: `revwatch track --appendix` over an
 * 80,000-row CCADB incident appendix (the IRG's eleven columns, one row per
 * certificate of one issuer, given with --issuer, and a given CRL), through
 * the real CLI on a fresh embedded store. Target (issue 26): 80,000 rows in
 * at most 60 s wall and 512 MB resident on the 2-core machine. The peak
 * resident memory is the CLI process's own (getrusage maxRSS, read at exit).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCa } from '../src/local-ca/ca.js';
import { toPem } from '../src/pki/certificate.js';
import { runCli } from './track.js';

/** Prints CPU and peak RSS at exit; loaded with --import into the measured CLI. */
function usageHook(dir: string): string {
  const path = join(dir, 'usage-hook.mjs');
  writeFileSync(
    path,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is a script written to a file, its template literal meant for that script
    "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nREVWATCH_CPU_US ${u.user + u.system}\\nREVWATCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\\n`); });\n",
  );
  return path;
}

const HEADER =
  'Precertificate SHA-256 hash,Certificate SHA-256 hash,Subject,Issuer,Not before,Not after,Serial #,dNSNames,Is revoked?,Revocation date,Revocation reason';

export async function benchAppendix(out: string, sizes: readonly number[] = [80_000]): Promise<string[]> {
  const lines: string[] = [];
  const now = Date.now();
  const ca = await LocalCa.create({
    name: 'Bench Appendix CA',
    keyType: 'ec-p256',
    notBefore: now - 400 * 86_400_000,
    notAfter: now + 400 * 86_400_000,
  });
  const work = mkdtempSync(join(tmpdir(), 'revwatch-bench-appendix-'));
  const hook = usageHook(out);
  const issuerPem = join(work, 'issuer.pem');
  writeFileSync(issuerPem, toPem(ca.info.der));
  // The issuer as the CA's own appendix writes it: its subject, quoted (it holds commas).
  const issuerCell = `"${ca.info.subject.replace(/"/g, '""')}"`;
  const notBefore = new Date(now - 10 * 86_400_000).toISOString();
  const notAfter = new Date(now + 80 * 86_400_000).toISOString();
  lines.push('appendix: `revwatch track --appendix <file.csv> --issuer --crl-url` on a fresh embedded store');
  lines.push(`${'rows'.padStart(12)}${'wall s'.padStart(9)}${'CPU s'.padStart(8)}${'peak RSS MB'.padStart(13)}`);
  try {
    for (const n of sizes) {
      const rows: string[] = [HEADER];
      for (let i = 0; i < n; i++) {
        const serial = ((1n << 100n) + BigInt(i)).toString(16);
        const sha = i % 2 ? '' : (BigInt(i) + (1n << 252n)).toString(16).padStart(64, '0');
        rows.push(
          `,${sha},CN=leaf-${i}.bench.example,${issuerCell},${notBefore},${notAfter},${serial},leaf-${i}.bench.example www.leaf-${i}.bench.example,Planned,N/A,N/A`,
        );
      }
      const file = join(work, `appendix-${n}.csv`);
      writeFileSync(file, `${rows.join('\r\n')}\r\n`);
      const home = join(work, `home-${n}`);
      const r = await runCli(hook, [
        '--home',
        home,
        '--json',
        'track',
        '--appendix',
        file,
        '--issuer',
        issuerPem,
        '--crl-url',
        'http://crl.bench.example/full.crl',
        '--reported-at',
        new Date(now - 86_400_000).toISOString(),
        '--reason',
        'key-compromise',
        '--case',
        'bench',
      ]);
      const rssMb = Number(/REVWATCH_MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN) / 1024;
      const added = (JSON.parse(r.stdout) as { added: number }).added;
      if (added !== n) lines.push(`FAIL tracked ${added} of ${n} rows`);
      lines.push(
        `${String(n).padStart(12)}${(r.wallMs / 1000).toFixed(1).padStart(9)}${(r.cpuMs / 1000).toFixed(1).padStart(8)}${rssMb.toFixed(0).padStart(13)}`,
      );
      const ok = r.wallMs <= 60_000 && rssMb <= 512;
      lines.push(
        `${ok ? 'PASS' : 'FAIL'} track --appendix ${n}: ${(r.wallMs / 1000).toFixed(1)} s wall (target <= 60 s), ${rssMb.toFixed(0)} MB peak RSS (target <= 512 MB)`,
      );
      rmSync(home, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}
