/**
 * The short form of the revocation fuzzer (test/fuzz/revocation-fuzz.ts):
 * a fixed seed, a few thousand damaged CRLs and OCSP responses from
 * ../shared/fixtures/revocation-corpus through the probes `check` uses, the
 * parsers and `inspect`. The long form is `npx tsx test/fuzz/run.ts 100000`;
 * REVWATCH_FUZZ_INPUTS sets the count here. Skipped, with the reason,
 * without the corpus.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeOcsp } from '../../src/check/probe.js';
import { inspectOcsp } from '../../src/inspect/inspect.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { OcspIssuer, parseOcspResponse } from '../../src/pki/ocsp.js';
import { CORPUS_DIR, exercise, fuzz, loadCorpus, mutate, seededRandom } from '../fuzz/revocation-fuzz.js';

const present = existsSync(CORPUS_DIR);
if (!present) console.warn(`fuzz: skipped, the shared corpus is absent (${CORPUS_DIR})`);
const suite = present ? describe : describe.skip;
const INPUTS = Number(process.env.REVWATCH_FUZZ_INPUTS ?? 4000);

suite('damaged CRLs and OCSP responses are faults of their source, never an escaped exception', () => {
  it('the mutations are seeded: one seed gives the same inputs', async () => {
    const samples = (await loadCorpus())!;
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (const s of samples.slice(0, 20)) expect(mutate(s, a).bytes.equals(mutate(s, b).bytes)).toBe(true);
  });

  it(`${INPUTS} seeded inputs over every CRL and OCSP response of the corpus`, { timeout: 120_000 }, async () => {
    const samples = (await loadCorpus())!;
    expect(samples.filter((s) => s.kind === 'crl').length).toBeGreaterThan(200);
    expect(samples.filter((s) => s.kind === 'ocsp').length).toBeGreaterThan(30);
    const report = await fuzz(samples, INPUTS, 23);
    expect(report.examples).toEqual([]);
    expect(report.failing).toBe(0);
    for (const n of Object.values(report.byKind)) expect(n).toBeGreaterThan(INPUTS / 20);
  });

  it("openssl's delegated response with one length byte of the responder key changed (issue 23's D2 case)", async () => {
    const dir = join(CORPUS_DIR, 'openssl/ocsp-tests');
    const issuer = readCertificates(readFileSync(join(dir, 'D1_Issuer_ICA.pem')), 'issuer')[0]!;
    const ee = readCertificates(readFileSync(join(dir, 'D1_Cert_EE.pem')), 'ee')[0]!;
    const der = Buffer.from(readFileSync(join(dir, 'D1.der')));
    const responder = parseOcspResponse(der).basic!.certs[0]!;
    // The responder certificate's SPKI: find its subjectPublicKey BIT STRING (03 82 01 0f 00 for RSA-2048) and make it one byte longer.
    const certAt = der.indexOf(Buffer.from(responder));
    const bits = der.indexOf(Buffer.from([0x03, 0x82, 0x01, 0x0f, 0x00]), certAt);
    expect(bits).toBeGreaterThan(certAt);
    der[bits + 3] = 0x10;
    const at = Date.parse('2012-12-19T00:00:00Z');
    const fetcher = {
      fetch: async (r: { url: string }) => ({
        ok: true as const,
        status: 200,
        url: r.url,
        body: der,
        sha256: '0'.repeat(64),
        notModified: false,
        etag: null,
        lastModified: null,
        contentType: null,
        redirects: 0,
        attempts: 1,
      }),
    };
    const o = await probeOcsp({
      url: 'http://127.0.0.1:9/',
      serial: ee.serial,
      issuer: new OcspIssuer(issuer.raw),
      fetcher,
      now: () => at,
    });
    expect(o).toMatchObject({ status: 'error', error: { kind: 'malformed' } });
    const inspected = inspectOcsp(der, 'D2-like', { issuer, cert: ee, at });
    expect(inspected.signatureValid).toBe(false);
    expect(await exercise({ name: 'D2-like', kind: 'ocsp', der, issuer, serials: [ee.serial], at, headers: [] }, der)).toEqual([]);
  });
});
