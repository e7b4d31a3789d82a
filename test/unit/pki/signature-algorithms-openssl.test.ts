/**
 * CRLs and OCSP responses signed by a real `openssl ca` / `openssl ocsp` with
 * each signature algorithm a public CA may use (BR 7.1.3.2: RSASSA-PSS, P-384,
 * P-521 with SHA-512; RFC 8410 Ed25519), verified by revwatch's own code; the
 * same answer with one signature byte changed must not verify. Issue #23 keeps
 * these passing. Skipped without openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCrl } from '../../../src/pki/crl.js';
import { OcspIssuer, parseOcspResponse, verifyOcspResponse } from '../../../src/pki/ocsp.js';
import { parseRawCertificate } from '../../../src/pki/raw-certificate.js';
import { opensslAvailable } from '../../helpers/openssl-ca.js';

interface Algorithm {
  readonly name: string;
  readonly genpkey: string[];
  readonly md: string;
  /** Extra signing options (`-sigopt` for `openssl ca`, `-rsigopt` for `openssl ocsp`). */
  readonly sigopts: string[];
  readonly expectCrlAlgorithm: RegExp;
}

const ALGORITHMS: Algorithm[] = [
  {
    name: 'ECDSA P-521 with SHA-512',
    genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
    md: 'sha512',
    sigopts: [],
    expectCrlAlgorithm: /ecdsa.*512|512.*ecdsa/i,
  },
  {
    name: 'ECDSA P-384 with SHA-384',
    genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    md: 'sha384',
    sigopts: [],
    expectCrlAlgorithm: /ecdsa.*384|384.*ecdsa/i,
  },
  { name: 'Ed25519', genpkey: ['-algorithm', 'ED25519'], md: 'default', sigopts: [], expectCrlAlgorithm: /ed25519/i },
  {
    name: 'RSASSA-PSS with SHA-256',
    genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    md: 'sha256',
    sigopts: ['rsa_padding_mode:pss', 'rsa_pss_saltlen:32'],
    expectCrlAlgorithm: /pss/i,
  },
];

const CONFIG = `[ca]
default_ca = d
[d]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
crlnumber = crlnumber
default_crl_days = 1
policy = p
[p]
commonName = supplied
[v3ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
`;

const flipLastByte = (der: Buffer): Buffer => {
  const copy = Buffer.from(der);
  copy[copy.length - 1]! ^= 0x01;
  return copy;
};

interface Signed {
  readonly caDer: Buffer;
  readonly crlDer: Buffer;
  readonly ocspDer: Buffer;
  readonly serial: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A CA with the algorithm's key, one revoked leaf, its CRL and an OCSP answer for the leaf, all by openssl. */
function signWith(alg: Algorithm): Signed {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-sigalg-'));
  dirs.push(dir);
  const run = (args: string[]): string => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  writeFileSync(join(dir, 'ca.cnf'), CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1a2b\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const caSig = alg.sigopts.flatMap((o) => ['-sigopt', o]);
  run(['genpkey', ...alg.genpkey, '-out', 'ca.key']);
  run([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    `/CN=${alg.name}`,
    '-days',
    '2',
    '-config',
    'ca.cnf',
    '-extensions',
    'v3ca',
    ...(alg.md === 'default' ? [] : [`-${alg.md}`]),
    ...caSig,
    '-out',
    'ca.pem',
  ]);
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key']);
  run(['req', '-new', '-key', 'leaf.key', '-subj', '/CN=leaf', '-out', 'leaf.csr']);
  const ca = ['-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-md', alg.md, ...caSig];
  run(['ca', '-batch', ...ca, '-in', 'leaf.csr', '-out', 'leaf.pem', '-days', '1']);
  run(['ca', ...ca, '-revoke', 'leaf.pem']);
  run(['ca', ...ca, '-gencrl', '-out', 'crl.pem']);
  run(['crl', '-in', 'crl.pem', '-outform', 'DER', '-out', 'crl.der']);
  run(['x509', '-in', 'ca.pem', '-outform', 'DER', '-out', 'ca.der']);
  run(['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der']);
  run([
    'ocsp',
    '-index',
    'index.txt',
    '-rsigner',
    'ca.pem',
    '-rkey',
    'ca.key',
    '-CA',
    'ca.pem',
    '-reqin',
    'req.der',
    '-respout',
    'resp.der',
    '-ndays',
    '1',
    // No certificates after the signature, so the last byte is the signature's.
    '-resp_no_certs',
    ...(alg.md === 'default' ? [] : ['-rmd', alg.md]),
    ...alg.sigopts.flatMap((o) => ['-rsigopt', o]),
  ]);
  return {
    caDer: readFileSync(join(dir, 'ca.der')),
    crlDer: readFileSync(join(dir, 'crl.der')),
    ocspDer: readFileSync(join(dir, 'resp.der')),
    serial: '1a2b',
  };
}

describe.skipIf(!opensslAvailable())('signatures made by openssl with each algorithm a CA may use', () => {
  describe.each(ALGORITHMS.map((a) => [a.name, a] as const))('%s', (_name, alg) => {
    let signed: Signed;
    it('a CRL verifies, lists the revoked serial, and fails with one signature bit changed', async () => {
      signed = signWith(alg);
      const issuer = parseRawCertificate(signed.caDer);
      const at = Date.now();
      const scan = await scanCrl(signed.crlDer, { issuer, serials: [signed.serial], at });
      expect(scan.signatureAlgorithm).toMatch(alg.expectCrlAlgorithm);
      expect(scan.signatureValid, JSON.stringify(scan.problems)).toBe(true);
      expect(scan.usable).toBe(true);
      expect(scan.matches.size).toBe(1);
      const tampered = await scanCrl(flipLastByte(signed.crlDer), { issuer, serials: [signed.serial], at });
      expect(tampered.signatureValid).toBe(false);
      expect(tampered.usable).toBe(false);
    });

    it('an OCSP response verifies as revoked, and fails with one signature bit changed', () => {
      const issuer = new OcspIssuer(parseRawCertificate(signed.caDer));
      const at = Date.now();
      const good = verifyOcspResponse(parseOcspResponse(signed.ocspDer), { issuer, serial: signed.serial, at });
      expect(good.signatureValid, JSON.stringify(good.problems)).toBe(true);
      expect(good.trusted).toBe(true);
      expect(good.match?.status).toBe('revoked');
      const bad = verifyOcspResponse(parseOcspResponse(flipLastByte(signed.ocspDer)), { issuer, serial: signed.serial, at });
      expect(bad.signatureValid).toBe(false);
      expect(bad.trusted).toBe(false);
    });
  });
});
