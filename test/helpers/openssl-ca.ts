/**
 * A real OpenSSL CA for integration tests: `openssl ca` issues and revokes
 * (index.txt edited directly for crafted revocation times and reasons),
 * `openssl ca -gencrl` makes CRLs, and `openssl ocsp` answers on 127.0.0.1.
 *
 * `openssl ocsp -port N` binds every interface, so tests connect only to
 * 127.0.0.1; it re-reads index.txt one request late, so the responder is
 * restarted after every index change.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultServer } from './fault-server.js';

export const opensslAvailable = (): boolean => spawnSync('openssl', ['version']).status === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Waits for the responder to say it is listening. A bare TCP connect cannot
 * be used as a readiness check: `openssl ocsp` serves one connection at a time
 * and a connection closed without a request leaves it stuck.
 */
function waitForListening(child: ChildProcess, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`openssl ocsp did not start: ${seen}`)), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('waiting for OCSP client connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`openssl ocsp exited with ${code}: ${seen}`));
    });
  });
}

/** OpenSSL's index.txt time format: YYMMDDHHMMSSZ. */
const indexTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');
const genTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

export interface IssuedLeaf {
  readonly name: string;
  readonly pemPath: string;
  /** Uppercase hex as OpenSSL writes it in index.txt. */
  readonly serialHex: string;
}

export class OpensslCa {
  readonly dir = mkdtempSync(join(tmpdir(), 'revwatch-openssl-'));
  private responder: ChildProcess | null = null;
  private responderArgs: string[] = [];
  ocspPort = 0;

  constructor(
    readonly httpBase: string,
    readonly name = 'OpenSSL Test CA',
  ) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  private openssl(args: string[]): string {
    return execFileSync('openssl', args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  }

  /** Creates the CA key and certificate and a delegated OCSP responder certificate. */
  init(keyAlg: 'ec' | 'rsa' = 'ec'): this {
    writeFileSync(this.path('index.txt'), '');
    writeFileSync(this.path('serial'), '1000\n');
    writeFileSync(this.path('crlnumber'), '01\n');
    writeFileSync(
      this.path('openssl.cnf'),
      `[ca]
default_ca = test_ca
[test_ca]
dir = ${this.dir}
database = $dir/index.txt
serial = $dir/serial
crlnumber = $dir/crlnumber
new_certs_dir = $dir
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_crl_days = 7
[policy_any]
commonName = supplied
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
authorityInfoAccess = OCSP;URI:${this.httpBase}/ocsp,caIssuers;URI:${this.httpBase}/ca.der
crlDistributionPoints = URI:${this.httpBase}/ca.crl
[ocsp_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
[crl_ext]
authorityKeyIdentifier = keyid:always
`,
    );
    const newKey = keyAlg === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
    this.openssl([
      'req',
      '-x509',
      ...newKey,
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      `/CN=${this.name}`,
      '-days',
      '3650',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-addext',
      'subjectKeyIdentifier=hash',
    ]);
    this.openssl(['x509', '-in', 'ca.pem', '-outform', 'DER', '-out', 'ca.der']);
    this.issue('ocsp-responder', 'ocsp_ext');
    return this;
  }

  issue(name: string, extensions = 'leaf_ext'): IssuedLeaf {
    this.openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    ]);
    const serialHex = readFileSync(this.path('serial'), 'utf8').trim();
    this.openssl([
      'ca',
      '-batch',
      '-config',
      'openssl.cnf',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.pem`,
      '-extensions',
      extensions,
      '-days',
      '90',
      '-notext',
    ]);
    return { name, pemPath: this.path(`${name}.pem`), serialHex };
  }

  /**
   * Serves what the leaves' AIA and CRL DP name on `http`: a CRL made fresh
   * by `openssl ca -gencrl` per request (valid from a minute ago for 7 days),
   * the CA certificate, and /ocsp forwarded to the real `openssl ocsp`
   * responder (502 while it is down).
   */
  serveOn(http: FaultServer): void {
    http
      .route('/ca.crl', (_req, res) => res.end(this.crl(Date.now() - 60_000, Date.now() + 7 * 86_400_000)))
      .route('/ca.der', (_req, res) => res.end(readFileSync(this.path('ca.der'))))
      .route('/ocsp', async (_req, res, body) => {
        const r = await fetch(`http://127.0.0.1:${this.ocspPort}/`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/ocsp-request' },
        }).catch(() => null);
        if (!r) {
          res.statusCode = 502;
          res.end();
          return;
        }
        res.setHeader('content-type', 'application/ocsp-response');
        res.end(Buffer.from(await r.arrayBuffer()));
      });
  }

  /** Marks a certificate revoked with any time and reason, by editing index.txt as `openssl ca -revoke` would. */
  revoke(leaf: IssuedLeaf, at: number, reason: string | null): void {
    const lines = readFileSync(this.path('index.txt'), 'utf8').split('\n');
    const updated = lines.map((line) => {
      const cols = line.split('\t');
      if (cols[3] !== leaf.serialHex) return line;
      cols[0] = 'R';
      cols[2] = reason ? `${indexTime(at)},${reason}` : indexTime(at);
      return cols.join('\t');
    });
    writeFileSync(this.path('index.txt'), updated.join('\n'));
  }

  /** Marks a revoked certificate valid again in index.txt (a CA reversing a revocation, or serving an older state). */
  unrevoke(leaf: IssuedLeaf): void {
    const lines = readFileSync(this.path('index.txt'), 'utf8').split('\n');
    const updated = lines.map((line) => {
      const cols = line.split('\t');
      if (cols[3] !== leaf.serialHex) return line;
      cols[0] = 'V';
      cols[2] = '';
      return cols.join('\t');
    });
    writeFileSync(this.path('index.txt'), updated.join('\n'));
  }

  /** Adds sections to openssl.cnf, e.g. an extensions section for `issue(name, section)`. */
  appendConfig(text: string): void {
    writeFileSync(this.path('openssl.cnf'), `${readFileSync(this.path('openssl.cnf'), 'utf8')}\n${text}\n`);
  }

  /** `openssl ca -gencrl`, returned as DER. */
  crl(thisUpdate: number, nextUpdate: number): Buffer {
    this.openssl([
      'ca',
      '-gencrl',
      '-config',
      'openssl.cnf',
      '-crlexts',
      'crl_ext',
      '-out',
      'ca.crl.pem',
      '-crl_lastupdate',
      genTime(thisUpdate),
      '-crl_nextupdate',
      genTime(nextUpdate),
    ]);
    this.openssl(['crl', '-in', 'ca.crl.pem', '-outform', 'DER', '-out', 'ca.crl']);
    return readFileSync(this.path('ca.crl'));
  }

  /** Starts (or restarts) `openssl ocsp`; `signer` picks the issuer or the delegated responder certificate. */
  async startResponder(
    options: { signer: 'issuer' | 'delegated'; badsig?: boolean; keyId?: boolean } = { signer: 'delegated' },
  ): Promise<void> {
    await this.stopResponder();
    const [cert, key] = options.signer === 'issuer' ? ['ca.pem', 'ca.key'] : ['ocsp-responder.pem', 'ocsp-responder.key'];
    // freePort() releases the port before openssl binds it, and test files run
    // in parallel: when another server took it meanwhile, try a fresh one.
    for (let attempt = 0; ; attempt++) {
      this.ocspPort = this.ocspPort && attempt === 0 ? this.ocspPort : await freePort();
      this.responderArgs = [
        'ocsp',
        '-index',
        'index.txt',
        '-port',
        String(this.ocspPort),
        '-CA',
        'ca.pem',
        '-rsigner',
        cert,
        '-rkey',
        key,
        '-nmin',
        '60',
        '-ignore_err',
        ...(options.badsig ? ['-badsig'] : []),
        ...(options.keyId ? ['-resp_key_id'] : []),
      ];
      const child = spawn('openssl', this.responderArgs, { cwd: this.dir, stdio: ['ignore', 'ignore', 'pipe'] });
      this.responder = child;
      try {
        await waitForListening(child);
        return;
      } catch (err) {
        // One that did not say it was listening in time (a loaded machine) is still running: end it, or it
        // outlives the test, listening on every interface.
        child.kill('SIGKILL');
        this.responder = null;
        if (attempt >= 4) throw err;
      }
    }
  }

  async stopResponder(): Promise<void> {
    const child = this.responder;
    if (!child) return;
    this.responder = null;
    // One that has already exited emits no further 'exit': waiting for it would hang the next start.
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stopResponder();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
