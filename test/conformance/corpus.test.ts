/**
 * Conformance over ../shared/fixtures/revocation-corpus (real and test-suite
 * CRLs and OCSP responses). The corpus is not part of the project: without it
 * these tests are skipped, and say why.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { scanCrl } from '../../src/pki/crl.js';
import { crlDer, inspectCrl, inspectOcsp } from '../../src/inspect/inspect.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../src/pki/ocsp.js';
import {
  certificateKey,
  isSignedBy,
  notACaReason,
  parseRawCertificate,
  sameBytes,
  type RawCertificate,
} from '../../src/pki/raw-certificate.js';
import { InputError } from '../../src/errors.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { DerError } from '../../src/pki/der.js';

const CORPUS = join(__dirname, '../../../shared/fixtures/revocation-corpus');
const present = existsSync(CORPUS);
if (!present) console.warn(`conformance: skipped, the shared corpus is absent (${CORPUS})`);
const suite = present ? describe : describe.skip;
const at = (iso: string): number => Date.parse(iso);

suite('PKITS 4.4 (basic CRL tests) give the expected outcome', () => {
  const dir = join(CORPUS, 'nist-pkits');
  const certs = present
    ? readdirSync(join(dir, 'certs')).map((f) => ({ name: f, raw: parseRawCertificate(readFileSync(join(dir, 'certs', f))) }))
    : [];
  const crls = present ? readdirSync(join(dir, 'crls')).map((f) => ({ name: f, der: readFileSync(join(dir, 'crls', f)) })) : [];
  const anchor = certs.find((c) => c.name === 'TrustAnchorRootCertificate.crt')!;
  const when = at('2012-01-01T00:00:00Z');

  // Only a CA may have signed a certificate (RFC 5280 4.2.1.9, 4.2.1.3): PKITS 4.6 and 4.7.1-2 hinge on it.
  const issuerOf = (cert: RawCertificate): RawCertificate | undefined =>
    certs.find(
      (c) =>
        c.raw !== cert &&
        sameBytes(c.raw.subjectName, cert.issuerName) &&
        notACaReason(c.raw) === null &&
        isSignedBy(cert, certificateKey(c.raw)),
    )?.raw;

  /**
   * Path-level revocation, PKITS style: every certificate up to the trust
   * anchor must be covered by a fresh CRL that verifies, with a signer that is
   * itself valid, and must not be on it.
   */
  async function status(cert: RawCertificate, depth = 0): Promise<'valid' | 'invalid'> {
    if (cert === anchor.raw) return 'valid';
    if (depth > 6) return 'invalid';
    const issuer = issuerOf(cert);
    if (!issuer || (await status(issuer, depth + 1)) === 'invalid') return 'invalid';
    for (const crl of crls) {
      let header: Awaited<ReturnType<typeof scanCrl>>;
      try {
        header = await scanCrl(crl.der, { at: when });
      } catch {
        continue;
      }
      if (!sameBytes(header.issuerName, cert.issuerName)) continue;
      const signers: RawCertificate[] = [
        issuer,
        ...certs.map((c) => c.raw).filter((c) => c !== issuer && sameBytes(c.subjectName, cert.issuerName)),
      ];
      for (const signer of signers) {
        const scan = await scanCrl(crl.der, { serials: [cert.serial], issuer: signer, at: when });
        const fresh = !scan.problems.some((p) => p.code === 'stale' || p.code === 'not-yet-valid');
        if (!scan.signatureValid || !scan.usable || !fresh) continue;
        if (signer !== issuer && (await status(signer, depth + 1)) === 'invalid') continue;
        return scan.matches.has(cert.serial) ? 'invalid' : 'valid';
      }
    }
    return 'invalid';
  }

  const cases = [
    ['4.4.1', 'InvalidMissingCRLTest1EE.crt'],
    ['4.4.2', 'InvalidRevokedCATest2EE.crt'],
    ['4.4.3', 'InvalidRevokedEETest3EE.crt'],
    ['4.4.4', 'InvalidBadCRLSignatureTest4EE.crt'],
    ['4.4.5', 'InvalidBadCRLIssuerNameTest5EE.crt'],
    ['4.4.6', 'InvalidWrongCRLTest6EE.crt'],
    ['4.4.7', 'ValidTwoCRLsTest7EE.crt'],
    ['4.4.8', 'InvalidUnknownCRLEntryExtensionTest8EE.crt'],
    ['4.4.9', 'InvalidUnknownCRLExtensionTest9EE.crt'],
    ['4.4.10', 'InvalidUnknownCRLExtensionTest10EE.crt'],
    ['4.4.11', 'InvalidOldCRLnextUpdateTest11EE.crt'],
    ['4.4.12', 'Invalidpre2000CRLnextUpdateTest12EE.crt'],
    ['4.4.13', 'ValidGeneralizedTimeCRLnextUpdateTest13EE.crt'],
    ['4.4.14', 'ValidNegativeSerialNumberTest14EE.crt'],
    ['4.4.15', 'InvalidNegativeSerialNumberTest15EE.crt'],
    ['4.4.16', 'ValidLongSerialNumberTest16EE.crt'],
    ['4.4.17', 'ValidLongSerialNumberTest17EE.crt'],
    ['4.4.18', 'InvalidLongSerialNumberTest18EE.crt'],
    ['4.4.19', 'ValidSeparateCertificateandCRLKeysTest19EE.crt'],
    ['4.4.20', 'InvalidSeparateCertificateandCRLKeysTest20EE.crt'],
    ['4.4.21', 'InvalidSeparateCertificateandCRLKeysTest21EE.crt'],
    // Issue 23 §3: a CA without basicConstraints cA or keyCertSign signs no certificate; one whose keyUsage lacks cRLSign signs no CRL.
    ['4.6.1', 'InvalidMissingbasicConstraintsTest1EE.crt'],
    ['4.6.2', 'InvalidcAFalseTest2EE.crt'],
    ['4.6.3', 'InvalidcAFalseTest3EE.crt'],
    ['4.6.4', 'ValidbasicConstraintsNotCriticalTest4EE.crt'],
    ['4.7.1', 'InvalidkeyUsageCriticalkeyCertSignFalseTest1EE.crt'],
    ['4.7.2', 'InvalidkeyUsageNotCriticalkeyCertSignFalseTest2EE.crt'],
    ['4.7.3', 'ValidkeyUsageNotCriticalTest3EE.crt'],
    ['4.7.4', 'InvalidkeyUsageCriticalcRLSignFalseTest4EE.crt'],
    ['4.7.5', 'InvalidkeyUsageNotCriticalcRLSignFalseTest5EE.crt'],
  ] as const;

  it.each(cases)('%s %s', async (_n, file) => {
    const cert = certs.find((c) => c.name === file)!;
    expect(cert, file).toBeDefined();
    expect(await status(cert.raw)).toBe(file.startsWith('Valid') ? 'valid' : 'invalid');
  });
});

suite('OpenSSL ocsp-tests: real 2012 responses verify, every tampered one fails', () => {
  const dir = join(CORPUS, 'openssl/ocsp-tests');
  const when = at('2012-12-19T00:00:00Z');
  const pem = (f: string) => readCertificates(readFileSync(join(dir, f)), f)[0]!;
  const cases = [
    ['ND1.der', 'ND1', true],
    ['D1.der', 'D1', true],
    ['ISOP_ND1.der', 'ND1', false],
    ['ISOP_D1.der', 'D1', false],
    ['WRID_ND1.der', 'ND1', false],
    ['WRID_D1.der', 'D1', false],
    ['WINH_ND1.der', 'ND1', false],
    ['WINH_D1.der', 'D1', false],
    ['WIKH_ND1.der', 'ND1', false],
    ['WIKH_D1.der', 'D1', false],
    ['WKDOSC_D1.der', 'D1', false],
    ['ISDOSC_D1.der', 'D1', false],
  ] as const;

  it.each(cases)('%s (%s) trusted=%s', (file, chain, expected) => {
    const issuer = pem(`${chain}_Issuer_ICA.pem`);
    const ee = pem(`${chain}_Cert_EE.pem`);
    const v = verifyOcspResponse(parseOcspResponse(readFileSync(join(dir, file))), {
      issuer: new OcspIssuer(issuer.raw),
      serial: ee.serial,
      at: when,
    });
    expect(v.trusted).toBe(expected);
    if (expected) {
      expect(v.signer).toBe(chain === 'D1' ? 'delegated' : 'issuer');
      expect(v.match?.status).toBe('good');
    } else {
      expect(v.problems.length).toBeGreaterThan(0);
    }
  });
});

suite('real Amazon Trust Services CRLs verify with their issuers', () => {
  const dir = join(CORPUS, 'rustls-webpki/amazon');
  const files = present ? readdirSync(dir) : [];
  const certs = files
    .filter((f) => f.endsWith('.cer') || f.endsWith('.pem'))
    .flatMap((f) => {
      try {
        return readCertificates(readFileSync(join(dir, f)), f).map((c) => ({ name: f, info: c }));
      } catch {
        return [];
      }
    });
  const crlFiles = files.filter((f) => f.endsWith('.crl'));

  it.each(crlFiles)('%s', async (file) => {
    const der = crlDer(readFileSync(join(dir, file)), file);
    const header = await scanCrl(der, { at: 0 });
    const candidates = certs.filter((c) => sameBytes(c.info.raw.subjectName, header.issuerName));
    expect(candidates.length, `an issuer for ${file}`).toBeGreaterThan(0);
    const leaves = certs.filter((c) => c.name.startsWith('revoked.') && sameBytes(c.info.raw.issuerName, header.issuerName));
    let verified = false;
    for (const c of candidates) {
      const scan = await scanCrl(der, { issuer: c.info.raw, serials: leaves.map((l) => l.info.serial), at: header.thisUpdate + 60_000 });
      if (scan.signatureValid) {
        verified = true;
        expect(scan.usable).toBe(true);
        for (const leaf of leaves) expect(scan.matches.has(leaf.info.serial), `${leaf.name} on ${file}`).toBe(true);
      }
    }
    expect(verified).toBe(true);
  });
});

suite('every corpus file yields a result or a clear error, never an unhandled exception', () => {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  const files = present ? walk(CORPUS).filter((f) => !/\.(md|txt|yml|yaml|py|sh)$/i.test(f)) : [];
  const when = at('2020-01-01T00:00:00Z');

  it(`reads all ${files.length} files`, async () => {
    const outcomes: Record<string, number> = { crl: 0, ocsp: 0, certificate: 0, rejected: 0 };
    for (const file of files) {
      const bytes = readFileSync(file);
      const name = relative(CORPUS, file);
      try {
        await inspectCrl(bytes, name, { at: when });
        outcomes.crl!++;
        continue;
      } catch (err) {
        if (!(err instanceof InputError || err instanceof DerError))
          throw new Error(`${name}: inspect crl threw ${(err as Error).name}: ${(err as Error).message}`);
      }
      try {
        inspectOcsp(bytes, name, { at: when });
        outcomes.ocsp!++;
        continue;
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`${name}: inspect ocsp threw ${(err as Error).name}: ${(err as Error).message}`);
      }
      try {
        readCertificates(bytes, name);
        outcomes.certificate!++;
      } catch (err) {
        if (!(err instanceof InputError))
          throw new Error(`${name}: reading certificates threw ${(err as Error).name}: ${(err as Error).message}`);
        expect((err as Error).message.split('\n')).toHaveLength(1);
        outcomes.rejected!++;
      }
    }
    expect(outcomes.crl).toBeGreaterThan(200);
    expect(outcomes.ocsp).toBeGreaterThan(30);
    expect(outcomes.certificate).toBeGreaterThan(400);
  });
});
