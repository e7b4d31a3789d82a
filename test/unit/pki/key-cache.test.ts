/**
 * The key cache keeps parses and keys, never verdicts: identical bytes share
 * one parse and one KeyObject, different bytes never do, and a response that
 * follows a good one from the same signer is still checked on its own.
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cachedCertificateKey, cachedRawCertificate, clearKeyCache } from '../../../src/pki/key-cache.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../../src/pki/ocsp.js';
import { DAY, HOUR, T0, makeHierarchy } from '../../helpers/pki-fixtures.js';

describe('key cache', () => {
  let h: Awaited<ReturnType<typeof makeHierarchy>>;
  beforeAll(async () => {
    h = await makeHierarchy('ec-p256');
  });
  beforeEach(() => clearKeyCache());

  it('shares one parse and one KeyObject between copies of the same bytes', () => {
    const a = cachedRawCertificate(Buffer.from(h.leaf.info.der));
    const b = cachedRawCertificate(Uint8Array.from(h.leaf.info.der));
    expect(b).toBe(a);
    expect(cachedCertificateKey(b)).toBe(cachedCertificateKey(a));
    expect(cachedCertificateKey(a).export({ type: 'spki', format: 'der' }).equals(Buffer.from(a.spki))).toBe(true);
  });

  it("keeps its own copy: reusing the caller's buffer does not change the cached parse", () => {
    const buf = Buffer.from(h.leaf.info.der);
    const a = cachedRawCertificate(buf);
    const serial = a.serial;
    buf.fill(0);
    expect(a.serial).toBe(serial);
    expect(Buffer.from(a.der).equals(Buffer.from(h.leaf.info.der))).toBe(true);
  });

  it('never returns a parse of other bytes that share length and signature tail', () => {
    const original = Buffer.from(h.leaf.info.der);
    const first = cachedRawCertificate(original);
    // Same length, same last 32 bytes, one byte changed inside the serial number.
    const altered = Buffer.from(original);
    const serialAt = altered.indexOf(Buffer.from(first.serial.slice(-8), 'hex'));
    expect(serialAt).toBeGreaterThan(0);
    altered[serialAt] = altered[serialAt]! ^ 0x01;
    const second = cachedRawCertificate(altered);
    expect(second).not.toBe(first);
    expect(second.serial).not.toBe(first.serial);
  });

  it('does not cache verdicts: a bad signature from a cached delegated responder still fails', async () => {
    const responder = await h.ca.issueOcspResponder(T0 - DAY, T0 + 30 * DAY);
    const issuer = new OcspIssuer(h.ca.info.raw);
    const serial = h.leaf.info.serial;
    const good = h.ca.ocspResponse({
      answers: [{ serial, status: 'good', thisUpdate: T0, nextUpdate: T0 + DAY }],
      producedAt: T0,
      signer: LocalCa.delegatedSigner(responder),
    });
    const at = T0 + HOUR;
    expect(verifyOcspResponse(parseOcspResponse(good), { issuer, serial, at })).toMatchObject({ trusted: true, signer: 'delegated' });
    const bad = Buffer.from(good);
    // Flip a bit of the thisUpdate digits inside the signed ResponseData: the signature no longer covers it.
    const stamp = bad.indexOf(Buffer.from('2025', 'latin1'));
    bad[stamp + 3] = bad[stamp + 3]! ^ 0x01;
    const v = verifyOcspResponse(parseOcspResponse(bad), { issuer, serial, at });
    expect(v.trusted).toBe(false);
    expect(v.problems.map((p) => p.code)).toContain('bad-signature');
  });
});
