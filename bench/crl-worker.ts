/**
 * One CRL measurement in a fresh process, so that its peak RSS belongs to it
 * alone. Prints one JSON line.
 *
 *   tsx bench/crl-worker.ts <revwatch|x509> <crl.der> <issuer.der> <present-serial> <absent-serial> <iterations>
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { scanCrl } from '../src/pki/crl.js';
import { parseRawCertificate } from '../src/pki/raw-certificate.js';
import { X509Certificate, X509Crl } from '../src/pki/x509.js';

const [tool, crlPath, issuerPath, present, absent, iterationsArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const iterations = Number(iterationsArg);
/**
 * Peak resident set of this process in MB. On Linux, VmHWM belongs to the
 * address space created by exec; getrusage's maxRSS does not (it carries the
 * forked parent's high-water mark across execve), so it is only a fallback.
 */
function maxRssMb(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const issuerDer = readFileSync(issuerPath);
  // The baseline is the resident set just before the CRL is loaded; the peak
  // is the process's high-water mark, which also holds the loader's start-up
  // peak, so the difference errs on the high side.
  const baselineRssMb = process.memoryUsage().rss / 1024 / 1024;
  const der = readFileSync(crlPath);
  if (tool === 'revwatch') {
    const issuer = parseRawCertificate(issuerDer);
    const times: number[] = [];
    const floor: number[] = [];
    let result: Awaited<ReturnType<typeof scanCrl>> | null = null;
    for (let i = 0; i < iterations; i++) {
      // Interleave with the floor so both see the same machine state.
      let t = performance.now();
      createHash('sha256').update(der).digest();
      floor.push(performance.now() - t);
      t = performance.now();
      result = await scanCrl(der, { serials: [present, absent], issuer, at: Date.now() });
      times.push(performance.now() - t);
    }
    const ok = result!.signatureValid === true && result!.matches.has(present) && !result!.matches.has(absent);
    console.log(
      JSON.stringify({
        tool,
        ms: median(times),
        floorMs: median(floor),
        entries: result!.entries,
        correct: ok,
        baselineRssMb,
        peakRssMb: maxRssMb(),
      }),
    );
    return;
  }
  if (tool === 'x509') {
    const issuer = new X509Certificate(issuerDer);
    const t = performance.now();
    // The library's defaults refuse any CRL over about 10,000 ASN.1 nodes; lift them.
    const crl = new X509Crl(der, { berOptions: { maxNodes: Infinity, maxContentLength: Infinity, maxDepth: Infinity } });
    const valid = await crl.verify({ publicKey: issuer });
    const hit = crl.findRevoked(present);
    const miss = crl.findRevoked(absent);
    const ms = performance.now() - t;
    console.log(
      JSON.stringify({
        tool,
        ms,
        entries: crl.entries.length,
        correct: valid && hit !== null && miss === null,
        baselineRssMb,
        peakRssMb: maxRssMb(),
      }),
    );
    return;
  }
  throw new Error(`unknown tool ${tool}`);
}

await main();
