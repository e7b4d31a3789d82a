/**
 * `npm run bench -- check`: 100,000 certificates spread over 100 CRLs of
 * 10,000 entries each, plus 1,000 certificates answered by a local OCSP
 * responder, tracked on the embedded store; then the real CLI's `check` runs
 * twice. Reports both times and the items each run wrote.
 *
 * Leaves are written straight to DER and signed with node:crypto: issuing
 * 101,000 certificates through the ASN.1 object model would take minutes and
 * is not what is being measured.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { generateKeyPairSync, sign } from 'node:crypto';
import { SystemClock } from '../src/clock.js';
import { LocalCa } from '../src/local-ca/ca.js';
import { LocalCaServer } from '../src/local-ca/server.js';
import { Tag, encodeOid, explicit, integer, octetString, seq, set, tlv, x509Time } from '../src/pki/der.js';
import { describeCertificate } from '../src/pki/certificate.js';
import { openEmbeddedStore } from '../src/store/embedded.js';
import { trackCertificates, type TrackEntry } from '../src/check/track.js';
import type { CrlEntryInput } from '../src/local-ca/crl-writer.js';

const CRLS = 100;
const ENTRIES_PER_CRL = 10_000;
const CERTS_PER_CRL = 1_000;
const OCSP_CERTS = 1_000;
const REVOKED_EVERY = 10; // one tracked certificate in ten is on its CRL

const ECDSA_SHA256 = seq(encodeOid('1.2.840.10045.4.3.2'));
const name = (cn: string): Buffer => seq(set(seq(encodeOid('2.5.4.3'), tlv(Tag.UTF8_STRING, Buffer.from(cn)))));
const ext = (oid: string, value: Buffer): Buffer => seq(encodeOid(oid), octetString(value));

function leafDer(ca: LocalCa, serial: bigint, cn: string, notBefore: number, notAfter: number, spki: Buffer, crlUrl: string | null, ocspUrl: string | null): Buffer {
  const exts: Buffer[] = [];
  if (crlUrl) exts.push(ext('2.5.29.31', seq(seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(crlUrl))))))));
  if (ocspUrl) exts.push(ext('1.3.6.1.5.5.7.1.1', seq(seq(encodeOid('1.3.6.1.5.5.7.48.1'), tlv(0x86, Buffer.from(ocspUrl))))));
  const tbs = seq(explicit(0, integer(2)), integer(serial), ECDSA_SHA256, Buffer.from(ca.info.raw.subjectName), seq(x509Time(notBefore), x509Time(notAfter)), name(cn), spki, explicit(3, seq(...exts)));
  const sig = sign('sha256', tbs, ca.keys.privateKey);
  return seq(tbs, ECDSA_SHA256, tlv(Tag.BIT_STRING, Uint8Array.of(0), sig));
}

interface CheckJson {
  itemsWritten: number;
  observationsWritten: number;
  crlsFetched: number;
  ocspRequests: number;
  changes: unknown[];
  failedSources: unknown[];
  timings: { plan: number; crl: number; ocsp: number; write: number };
}

export async function benchCheck(): Promise<string[]> {
  const lines: string[] = [];
  const now = Date.now();
  const clock = new SystemClock();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-bench-check-'));
  const ca = await LocalCa.create({ name: 'Bench Check CA', keyType: 'ec-p256', notBefore: now - 400 * 86_400_000, notAfter: now + 400 * 86_400_000 });
  const server = await new LocalCaServer(ca, () => Date.now()).start();
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  try {
    let t = performance.now();
    const entries: TrackEntry[] = [];
    let serial = 1n << 100n;
    for (let c = 0; c < CRLS; c++) {
      const url = `${server.baseUrl}/crl/${c}.crl`;
      const crlEntries: CrlEntryInput[] = [];
      for (let i = 0; i < ENTRIES_PER_CRL - CERTS_PER_CRL / REVOKED_EVERY; i++) crlEntries.push({ serial: (serial + 10_000_000n + BigInt(c * ENTRIES_PER_CRL + i)).toString(16), revocationDate: now - 86_400_000, reasonCode: 4 });
      for (let i = 0; i < CERTS_PER_CRL; i++) {
        serial++;
        const der = leafDer(ca, serial, `leaf-${c}-${i}.bench.example`, now - 10 * 86_400_000, now + 80 * 86_400_000, spki, url, null);
        if (i % REVOKED_EVERY === 0) crlEntries.push({ serial: serial.toString(16), revocationDate: now - 3_600_000, reasonCode: 1 });
        entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
      }
      server.serve(`/crl/${c}.crl`, ca.crl({ entries: crlEntries, entryCount: crlEntries.length, thisUpdate: now - 60_000, nextUpdate: now + 7 * 86_400_000, crlNumber: c + 1 }));
    }
    for (let i = 0; i < OCSP_CERTS; i++) {
      serial++;
      const der = leafDer(ca, serial, `ocsp-${i}.bench.example`, now - 10 * 86_400_000, now + 80 * 86_400_000, spki, null, server.ocspUrl);
      server.issued(serial.toString(16));
      if (i % REVOKED_EVERY === 0) server.revoke(serial.toString(16), now - 3_600_000, 1);
      entries.push({ certificate: describeCertificate(der), bundle: [], source: 'bench' });
    }
    const generated = performance.now() - t;
    process.stderr.write(`  generated ${entries.length} certificates in ${(generated / 1000).toFixed(1)} s\n`);
    t = performance.now();
    const open = await openEmbeddedStore(home);
    const kase = { id: 'bench', title: 'bench', reportedAt: now - 2 * 86_400_000, reason: 'key-compromise' as const, kind: 'tls-subscriber' as const };
    const tracked = await trackCertificates({ store: open.store, clock }, kase, entries, [ca.info]);
    const trackItems = open.store.itemsWritten;
    await open.close();
    const trackMs = performance.now() - t;
    process.stderr.write(`  tracked in ${(trackMs / 1000).toFixed(1)} s\n`);
    lines.push(`check: ${tracked.added} certificates tracked (${CRLS} CRLs x ${ENTRIES_PER_CRL} entries, ${OCSP_CERTS} OCSP) in ${(trackMs / 1000).toFixed(1)} s, ${trackItems} items; generated in ${(generated / 1000).toFixed(1)} s`);

    // Asynchronous on purpose: this process serves the CRLs and OCSP answers
    // the child asks for, so it must not block while the child runs.
    const runCheck = async (): Promise<{ ms: number; json: CheckJson }> => {
      const start = performance.now();
      const r = await promisify(execFile)(process.execPath, ['bin/revwatch.js', '--home', home, '--allow-private-network', '--json', 'check'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
      const ms = performance.now() - start;
      const json = JSON.parse(r.stdout) as CheckJson;
      process.stderr.write(`  check finished in ${(ms / 1000).toFixed(1)} s (plan ${json.timings.plan} ms, CRLs ${json.timings.crl} ms, OCSP ${json.timings.ocsp} ms, writes ${json.timings.write} ms)\n`);
      return { ms, json };
    };
    const first = await runCheck();
    const second = await runCheck();
    const ratio = second.json.itemsWritten / first.json.itemsWritten;
    lines.push(
      `check run 1 stages: plan ${first.json.timings.plan} ms, CRLs ${first.json.timings.crl} ms, OCSP ${first.json.timings.ocsp} ms, final writes ${first.json.timings.write} ms`,
      `check run 2 stages: plan ${second.json.timings.plan} ms, CRLs ${second.json.timings.crl} ms, OCSP ${second.json.timings.ocsp} ms, final writes ${second.json.timings.write} ms`,
      `check run 1: ${(first.ms / 1000).toFixed(1)} s, ${first.json.itemsWritten} items written (${first.json.observationsWritten} observations, ${first.json.crlsFetched} CRLs, ${first.json.ocspRequests} OCSP requests, ${first.json.changes.length} changes)`,
      `check run 2: ${(second.ms / 1000).toFixed(1)} s, ${second.json.itemsWritten} items written (${second.json.observationsWritten} observations, ${second.json.changes.length} changes)`,
      `${first.ms <= 90_000 ? 'PASS' : 'FAIL'} first run ${(first.ms / 1000).toFixed(1)} s (target <= 90 s on this machine)`,
      `${second.ms <= 20_000 ? 'PASS' : 'FAIL'} unchanged second run ${(second.ms / 1000).toFixed(1)} s (target <= 20 s)`,
      `${ratio < 0.01 ? 'PASS' : 'FAIL'} second run wrote ${(ratio * 100).toFixed(3)}% of the first run's items (target < 1%)`,
    );
    if (first.json.failedSources.length || second.json.failedSources.length) lines.push(`FAIL sources failed: ${JSON.stringify([...first.json.failedSources, ...second.json.failedSources]).slice(0, 500)}`);
  } finally {
    await server.stop();
  }
  return lines;
}
