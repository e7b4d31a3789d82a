/**
 * OCSP throughput against real `openssl ocsp` responders on 127.0.0.1, part
 * of `npm run bench -- ocsp`.
 *
 * Two OpenSSL CAs, each with its own `openssl ocsp` responder (delegated
 * responder certificate) and 1,000 OCSP-only leaves, are tracked through the
 * CLI. Then, in interleaved rounds, the same 2,000 questions are asked by
 *  - a raw-socket client: one HTTP/1.0 POST per connection, 8 in flight per
 *    responder, every answer parsed and verified with revwatch's verifier:
 *    the responders' ceiling on this machine;
 *  - `revwatch check --ocsp-per-host 8 --ocsp-interval-ms 0`, the real CLI;
 *  - in this process, revwatch's probe (build, exchange, parse, verify) over
 *    each transport: the OCSP client (lean node:net HTTP/1.1, GET when it
 *    fits), the same client over node:http (its `leanHttp: false` path) and
 *    the general undici fetcher, to measure the connection strategy apart
 *    from the CLI's start-up and store.
 * Verified responses per second are compared within each round. CPU per
 * exchange (request build + parse + verify, no network) and request build
 * time (against @peculiar/asn1-ocsp) are measured in-process.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CertID, OCSPRequest, Request, TBSRequest } from '@peculiar/asn1-ocsp';
import { OpensslCa, opensslAvailable } from '../test/helpers/openssl-ca.js';
import { toPem } from '../src/pki/certificate.js';
import { serialContent } from '../src/pki/der.js';
import { Oid } from '../src/pki/oids.js';
import { OcspIssuer, buildOcspRequest, parseOcspResponse, verifyOcspResponse } from '../src/pki/ocsp.js';
import { parseRawCertificate } from '../src/pki/raw-certificate.js';
import { probeOcsp } from '../src/check/probe.js';
import { SystemClock } from '../src/adapters/system-clock.js';
import { HttpFetcher } from '../src/adapters/net/http-fetcher.js';
import { OcspClient } from '../src/adapters/net/ocsp-client.js';
import type { Fetcher } from '../src/ports/index.js';
import { leafDer } from './leaves.js';
import { cpuHook, runCli } from './track.js';

const PER_CA = 1_000;
const CONCURRENCY = 8;
const ROUNDS = 4;

interface Responder {
  readonly ca: OpensslCa;
  readonly issuer: OcspIssuer;
  readonly serials: string[];
  readonly requests: Buffer[];
}

const indexTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

/** One POST over a fresh connection (HTTP/1.0: the responder closes after answering); resolves with the body. */
function rawExchange(port: number, request: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => socket.destroy(new Error('raw exchange timed out')), timeoutMs);
    socket.on('connect', () => {
      socket.write(
        Buffer.concat([
          Buffer.from(
            `POST / HTTP/1.0\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/ocsp-request\r\nContent-Length: ${request.length}\r\n\r\n`,
            'latin1',
          ),
          request,
        ]),
      );
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      if (split < 0 || !/^HTTP\/1\.[01] 200/.test(all.subarray(0, 16).toString('latin1')))
        return reject(new Error(`bad HTTP answer: ${all.subarray(0, 40).toString('latin1')}`));
      resolve(all.subarray(split + 4));
    });
  });
}

/** The raw-socket client over every responder at once; returns verified answers per second. */
async function rawRound(
  responders: readonly Responder[],
): Promise<{ perSecond: number; cpuMsPerExchange: number; verified: number; failed: number; responses: Buffer[] }> {
  const cpu0 = process.cpuUsage();
  let verified = 0;
  let failed = 0;
  const responses: Buffer[] = [];
  const start = performance.now();
  await Promise.all(
    responders.map(async (r) => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < r.requests.length) {
          const i = next++;
          try {
            const body = await rawExchange(r.ca.ocspPort, r.requests[i]!);
            const v = verifyOcspResponse(parseOcspResponse(body), { issuer: r.issuer, serial: r.serials[i]!, at: Date.now() });
            if (v.trusted) verified++;
            else failed++;
            if (responses.length < 200) responses.push(body);
          } catch {
            failed++;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSecond: verified / seconds,
    cpuMsPerExchange: (cpu.user + cpu.system) / 1000 / (verified + failed),
    verified,
    failed,
    responses,
  };
}

/** revwatch's probe in this process over `fetcher`, 8 in flight per responder: verified answers per second and CPU per exchange. */
async function probeRound(
  responders: readonly Responder[],
  fetcher: Fetcher,
): Promise<{ perSecond: number; cpuMsPerExchange: number; failed: number }> {
  const cpu0 = process.cpuUsage();
  let verified = 0;
  let failed = 0;
  const start = performance.now();
  await Promise.all(
    responders.map(async (r) => {
      let next = 0;
      const url = `http://127.0.0.1:${r.ca.ocspPort}/`;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < r.serials.length) {
            const serial = r.serials[next++]!;
            const o = await probeOcsp({ url, serial, issuer: r.issuer, fetcher, now: () => Date.now() });
            if (o.status === 'error') failed++;
            else verified++;
          }
        }),
      );
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: verified / seconds, cpuMsPerExchange: (cpu.user + cpu.system) / 1000 / (verified + failed), failed };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function timePerCallUs(iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn(i);
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) fn(i);
    runs.push(((performance.now() - t) * 1000) / iterations);
  }
  return median(runs);
}

function asn1OcspRequest(serial: string, issuer: OcspIssuer): Buffer {
  const content = serialContent(serial);
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: Oid.sha1, parameters: null }),
    issuerNameHash: new OctetString(issuer.nameHash('sha1')),
    issuerKeyHash: new OctetString(issuer.keyHash('sha1')),
    serialNumber: content.buffer.slice(content.byteOffset, content.byteOffset + content.length) as ArrayBuffer,
  });
  return Buffer.from(
    AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })),
  );
}

export async function benchOcspThroughput(out: string): Promise<string[]> {
  const lines: string[] = [];
  if (!opensslAvailable()) return ['OCSP throughput: skipped, openssl is not installed'];
  const now = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'revwatch-bench-ocsp-'));
  const hook = cpuHook(out);
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const responders: Responder[] = [];
  const home = join(work, 'home');
  try {
    for (let c = 0; c < 2; c++) {
      // The responder URL is only known once the port is: start, then issue leaves naming it, then restart to read them.
      const ca = new OpensslCa('http://127.0.0.1:1', `Bench OCSP CA ${c}`).init('ec');
      await ca.startResponder({ signer: 'delegated' });
      const caDer = readFileSync(ca.path('ca.der'));
      const caRaw = parseRawCertificate(caDer);
      const key = createPrivateKey(readFileSync(ca.path('ca.key')));
      const dir = join(work, `leaves-${c}`);
      mkdirSync(dir);
      const serials: string[] = [];
      let index = '';
      for (let i = 0; i < PER_CA; i++) {
        const serial = (1n << 100n) + BigInt(c * 1_000_000 + i);
        const notAfter = now + 80 * 86_400_000;
        const der = leafDer({
          issuerName: caRaw.subjectName,
          issuerKey: key,
          serial,
          cn: `ocsp-${c}-${i}.bench.example`,
          notBefore: now - 86_400_000,
          notAfter,
          spki,
          ocspUrl: `http://127.0.0.1:${ca.ocspPort}/`,
        });
        writeFileSync(join(dir, `leaf-${i}.pem`), toPem(der));
        const hex = serial.toString(16).toUpperCase();
        serials.push(serial.toString(16));
        index += `V\t${indexTime(notAfter)}\t\t${hex.length % 2 ? `0${hex}` : hex}\tunknown\t/CN=ocsp-${c}-${i}.bench.example\n`;
      }
      appendFileSync(ca.path('index.txt'), index);
      await ca.startResponder({ signer: 'delegated' });
      const issuer = new OcspIssuer(caRaw);
      writeFileSync(join(work, `ca-${c}.pem`), toPem(caDer));
      responders.push({ ca, issuer, serials, requests: serials.map((s) => buildOcspRequest(s, issuer)) });
      await runCli(hook, [
        '--home',
        home,
        '--json',
        'track',
        dir,
        '--issuer',
        join(work, `ca-${c}.pem`),
        '--reported-at',
        new Date(now - 3_600_000).toISOString(),
        '--reason',
        'key-compromise',
        '--case',
        'bench-ocsp',
      ]);
    }
    process.stderr.write(`  tracked ${PER_CA * responders.length} OCSP-only certificates over ${responders.length} openssl responders\n`);

    const total = PER_CA * responders.length;
    const raw: number[] = [];
    const mineWall: number[] = [];
    const mineStage: number[] = [];
    const cpuPerExchangeCli: number[] = [];
    const rawCpu: number[] = [];
    const written: number[] = [];
    const viaClient: { perSecond: number; cpuMsPerExchange: number }[] = [];
    const viaUndici: { perSecond: number; cpuMsPerExchange: number }[] = [];
    const viaNodeHttp: { perSecond: number; cpuMsPerExchange: number }[] = [];
    const clock = new SystemClock();
    const loads: string[] = [];
    let sample: Buffer[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      loads.push(loadavg()[0]!.toFixed(2));
      const r = await rawRound(responders);
      if (r.failed > 0) {
        process.stderr.write(`  round ${round}: raw client saw ${r.failed} failures; restarting the responders\n`);
        for (const x of responders) await x.ca.startResponder({ signer: 'delegated' });
      }
      raw.push(r.perSecond);
      rawCpu.push(r.cpuMsPerExchange);
      if (sample.length === 0) sample = r.responses;
      const undici = new HttpFetcher({ clock, allowPrivateNetwork: true });
      const client = new OcspClient({ fallback: undici, allowPrivateNetwork: true });
      const nodeHttp = new OcspClient({ fallback: undici, allowPrivateNetwork: true, leanHttp: false });
      const a = await probeRound(responders, client);
      const n = await probeRound(responders, nodeHttp);
      const b = await probeRound(responders, undici);
      await client.close();
      await nodeHttp.close();
      await undici.close();
      if (a.failed || n.failed || b.failed)
        lines.push(
          `FAIL round ${round}: in-process probes failed (OCSP client ${a.failed}, over node:http ${n.failed}, undici ${b.failed})`,
        );
      viaClient.push(a);
      viaNodeHttp.push(n);
      viaUndici.push(b);
      const c = await runCli(hook, [
        '--home',
        home,
        '--allow-private-network',
        '--json',
        'check',
        '--ocsp-per-host',
        String(CONCURRENCY),
        '--ocsp-interval-ms',
        '0',
      ]);
      const summary = JSON.parse(c.stdout) as {
        ocspRequests: number;
        observationsWritten: number;
        failedSources: { url: string; error: string }[];
        timings: { ocsp: number };
      };
      written.push(summary.observationsWritten);
      const failures = summary.failedSources.reduce((n, f) => n + Number(/^(\d+) of/.exec(f.error)?.[1] ?? 0), 0);
      const verified = summary.ocspRequests - failures;
      if (summary.ocspRequests !== total || failures > 0)
        lines.push(
          `FAIL round ${round}: revwatch asked ${summary.ocspRequests} of ${total}, ${failures} failed: ${JSON.stringify(summary.failedSources).slice(0, 300)}`,
        );
      mineWall.push(verified / (c.wallMs / 1000));
      mineStage.push(verified / (summary.timings.ocsp / 1000));
      cpuPerExchangeCli.push(c.cpuMs / total);
      process.stderr.write(
        `  round ${round}: raw ${r.perSecond.toFixed(0)}/s (${r.verified} verified, ${r.failed} failed); in-process probe: OCSP client ${a.perSecond.toFixed(0)}/s, over node:http ${n.perSecond.toFixed(0)}/s, undici ${b.perSecond.toFixed(0)}/s; revwatch check OCSP stage ${mineStage.at(-1)!.toFixed(0)}/s, whole command ${mineWall.at(-1)!.toFixed(0)}/s, ${c.cpuMs.toFixed(0)} ms CPU\n`,
      );
    }

    // In-process costs, no network: request build, and build + parse + verify per exchange.
    const r0 = responders[0]!;
    const buildUs = timePerCallUs(20_000, (i) => buildOcspRequest(r0.serials[i % PER_CA]!, r0.issuer));
    const asn1Us = timePerCallUs(2_000, (i) => asn1OcspRequest(r0.serials[i % PER_CA]!, r0.issuer));
    const exchanges = sample.map((body) => ({ body, serial: parseOcspResponse(body).basic!.responses[0]!.serial }));
    const issuerFor = (serial: string): OcspIssuer => responders.find((x) => x.serials.includes(serial))!.issuer;
    const withIssuer = exchanges.map((e) => ({ ...e, issuer: issuerFor(e.serial) }));
    const at = Date.now();
    const exchangeUs = timePerCallUs(5_000, (i) => {
      const e = withIssuer[i % withIssuer.length]!;
      buildOcspRequest(e.serial, e.issuer);
      const v = verifyOcspResponse(parseOcspResponse(e.body), { issuer: e.issuer, serial: e.serial, at });
      if (!v.trusted) throw new Error('sample response did not verify');
    });

    const ratios = raw.map((x, i) => mineStage[i]! / x);
    const wallRatios = raw.map((x, i) => mineWall[i]! / x);
    lines.push(
      `OCSP throughput: ${total} OCSP-only certificates, ${responders.length} local \`openssl ocsp\` responders (delegated signer, ECDSA P-256), ${CONCURRENCY} in flight per responder, ${ROUNDS} interleaved rounds; ${cpus().length} CPUs, 1-min load at each round ${loads.join(', ')}`,
      `${'round'.padEnd(7)}${'raw client/s'.padStart(14)}${'revwatch OCSP stage/s'.padStart(23)}${'ratio'.padStart(7)}${'revwatch whole cmd/s'.padStart(22)}${'ratio'.padStart(7)}${'CLI CPU ms/exchange'.padStart(21)}${'obs. written'.padStart(14)}`,
      ...raw.map(
        (x, i) =>
          `${String(i + 1).padEnd(7)}${x.toFixed(0).padStart(14)}${mineStage[i]!.toFixed(0).padStart(23)}${ratios[i]!.toFixed(2).padStart(7)}${mineWall[i]!.toFixed(0).padStart(22)}${wallRatios[i]!.toFixed(2).padStart(7)}${cpuPerExchangeCli[i]!.toFixed(3).padStart(21)}${String(written[i]).padStart(14)}`,
      ),
      '',
      'the same probes in this process, by transport (verified responses/s; CPU ms per exchange incl. HTTP, parse and verify):',
      `${'round'.padEnd(7)}${'raw socket'.padStart(18)}${'OCSP client (node:net)'.padStart(25)}${'ratio'.padStart(7)}${'same over node:http'.padStart(22)}${'ratio'.padStart(7)}${'undici fetcher'.padStart(18)}`,
      ...raw.map(
        (x, i) =>
          `${String(i + 1).padEnd(7)}${`${x.toFixed(0)} / ${rawCpu[i]!.toFixed(3)}`.padStart(18)}${`${viaClient[i]!.perSecond.toFixed(0)} / ${viaClient[i]!.cpuMsPerExchange.toFixed(3)}`.padStart(25)}${(viaClient[i]!.perSecond / x).toFixed(2).padStart(7)}${`${viaNodeHttp[i]!.perSecond.toFixed(0)} / ${viaNodeHttp[i]!.cpuMsPerExchange.toFixed(3)}`.padStart(22)}${(viaNodeHttp[i]!.perSecond / x).toFixed(2).padStart(7)}${`${viaUndici[i]!.perSecond.toFixed(0)} / ${viaUndici[i]!.cpuMsPerExchange.toFixed(3)}`.padStart(18)}`,
      ),
      'The first check writes 2,000 new observations to the embedded store, inside its OCSP stage (the recorder flushes every 2,000); later rounds find nothing changed and write none. The whole command adds start-up, planning and notices.',
      '',
      `request build: revwatch ${buildUs.toFixed(2)} us, @peculiar/asn1-ocsp ${asn1Us.toFixed(1)} us (${(asn1Us / buildUs).toFixed(0)}x)`,
      `CPU per exchange in-process (request build + parse + verify, delegated responder, no network): ${exchangeUs.toFixed(1)} us`,
      `${median(ratios) >= 0.5 ? 'PASS' : 'FAIL'} revwatch check OCSP stage = ${median(ratios).toFixed(2)}x the raw client (median of rounds; target >= 0.5x); whole command incl. start-up and store: ${median(wallRatios).toFixed(2)}x`,
      `${buildUs <= 20 ? 'PASS' : 'FAIL'} request build ${buildUs.toFixed(2)} us (target <= 20 us)`,
      `${exchangeUs <= 500 ? 'PASS' : 'FAIL'} CPU per exchange ${(exchangeUs / 1000).toFixed(3)} ms excluding the network (target <= 0.5 ms); the whole CLI process, start-up, store and HTTP included, used ${median(cpuPerExchangeCli).toFixed(3)} ms per exchange`,
    );
  } finally {
    for (const r of responders) await r.ca.dispose();
    rmSync(work, { recursive: true, force: true });
  }
  return lines;
}
