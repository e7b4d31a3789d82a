/**
 * One hostile or broken responder must not stop a run (issue 23 §2): an OCSP
 * response whose embedded responder certificate has a damaged
 * SubjectPublicKeyInfo (openssl's ocsp-tests/D2.der with one length byte
 * changed) made verification throw DerError, the OCSP stage abort and
 * `check` exit 70. Built here by hand, so the test needs no corpus.
 */
import { describe, expect, it } from 'vitest';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { serialContent } from '../../../src/pki/der.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../../src/pki/ocsp.js';
import { probeOcsp } from '../../../src/check/probe.js';
import { runCheck } from '../../../src/check/run-check.js';
import type { FetchRequest, FetchResult, Fetcher } from '../../../src/ports/index.js';
import { DAY, makeWorld, T0, testCa } from './world.js';

/** A delegated response for `serial` whose responder certificate's subjectPublicKey BIT STRING claims one byte more than its SPKI holds. */
async function responseWithDamagedResponderKey(ca: LocalCa, serial: string): Promise<Buffer> {
  const responder = await ca.issueOcspResponder(T0 - 10 * DAY, T0 + 100 * DAY);
  const der = ca.ocspResponse({
    answers: [{ serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + 4 * DAY }],
    producedAt: T0,
    signer: LocalCa.delegatedSigner(responder),
    responderIdBy: 'key',
  });
  const spki = Buffer.from(responder.info.raw.spki);
  const at = der.indexOf(spki);
  expect(at).toBeGreaterThan(0);
  // SPKI ::= SEQUENCE { algorithm SEQUENCE, subjectPublicKey BIT STRING }: the BIT STRING's length is the byte after its tag.
  const bits = at + 2 + 2 + spki[3]!;
  expect(der[bits]).toBe(0x03);
  der[bits + 1]! += 1;
  return der;
}

class HostileFor implements Fetcher {
  constructor(
    private readonly inner: Fetcher,
    private readonly serial: string,
    private readonly body: Buffer,
  ) {}
  async fetch(request: FetchRequest): Promise<FetchResult> {
    const answer = await this.inner.fetch(request);
    if (!answer.ok || request.method !== 'POST' || !Buffer.from(request.body!).includes(serialContent(this.serial))) return answer;
    return { ...answer, body: this.body, sha256: 'f'.repeat(64) };
  }
}

describe('a response that cannot be read or verified is a fault of its source', () => {
  it('verifyOcspResponse reports a damaged included responder certificate instead of throwing', async () => {
    const ca = await testCa();
    const der = await responseWithDamagedResponderKey(ca, '0abc');
    const v = verifyOcspResponse(parseOcspResponse(der), { issuer: new OcspIssuer(ca.info.raw), serial: '0abc', at: T0 + 60_000 });
    expect(v.trusted).toBe(false);
    expect(v.problems.map((p) => p.code)).toContain('malformed-certificate');
  });

  it('probeOcsp records it as malformed, with the reason', async () => {
    const ca = await testCa();
    const der = await responseWithDamagedResponderKey(ca, '0abc');
    const fetcher: Fetcher = {
      fetch: async (r) => ({
        ok: true,
        status: 200,
        url: r.url,
        body: der,
        sha256: 'e'.repeat(64),
        notModified: false,
        etag: null,
        lastModified: null,
        contentType: null,
        redirects: 0,
        attempts: 1,
      }),
    };
    const o = await probeOcsp({
      url: 'http://127.0.0.1:9/ocsp',
      serial: '0abc',
      issuer: new OcspIssuer(ca.info.raw),
      fetcher,
      now: () => T0,
    });
    expect(o.status).toBe('error');
    if (o.status !== 'error') return;
    expect(o.error.kind).toBe('malformed');
    expect(o.error.message).toMatch(/responder certificate cannot be read/);
  });

  it('check records the hostile source and every other answer, and finishes', async () => {
    const w = await makeWorld([{ name: 'hostile' }, { name: 'honest' }]);
    const hostile = w.certs.hostile!;
    const fetcher = new HostileFor(w.fetcher, hostile.serial, await responseWithDamagedResponderKey(w.fetcher.ca, hostile.serial));
    const s = await runCheck({ store: w.store, fetcher, clock: w.clock });
    expect(s.failedSources.map((f) => f.kind)).toEqual(['ocsp']);
    const kinds = async (sha256: string) =>
      (await w.store.listObservations(sha256)).map((o) => `${o.source.kind}:${o.status}:${o.error?.kind ?? ''}`).sort();
    expect(await kinds(hostile.sha256)).toEqual(['crl:good:', 'ocsp:error:malformed']);
    expect(await kinds(w.certs.honest!.sha256)).toEqual(['crl:good:', 'ocsp:good:']);
  });
});
