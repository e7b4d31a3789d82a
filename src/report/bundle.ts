/**
 * The evidence bundle: a folder a third party can check with openssl and
 * sha256sum alone. It holds every certificate (PEM), its issuer and any
 * delegated OCSP responder certificate, the raw OCSP responses and the CRLs
 * (when kept locally), the report, a manifest, a README with the openssl
 * command for each file, verify.sh that runs them all, and SHA256SUMS.
 *
 * Which openssl options verify an OCSP response depends on who signed it
 * (RFC 6960 4.2.2.2). Signed by the issuer: `-VAfile issuer.pem` trusts that
 * key directly. Signed by a delegated responder: `-VAfile issuer.pem` fails
 * (the signer is not in it); `-CAfile issuer.pem -partial_chain` makes
 * openssl build responder -> issuer and check id-kp-OCSPSigning (OpenSSL's
 * ocsp_check_issuer). Both use `-attime producedAt`, so a responder
 * certificate that has expired since still verifies as it did then.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileSha256, type CaseReport } from './case-report.js';
import { toCsv, toMarkdown } from './formats.js';
import { toPem } from '../pki/certificate.js';
import { parseOcspResponse } from '../pki/ocsp.js';
import { InputError } from '../errors.js';

export interface BundleFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/** One openssl check of one evidence file, as verify.sh runs it and the README prints it. */
export interface BundleCheck {
  readonly file: string;
  readonly argv: readonly string[];
  /** What openssl prints (on stderr) when the signature verified. */
  readonly okText: string;
}

const shellQuote = (s: string): string => (/^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const epochSeconds = (iso: string): string => String(Math.floor(Date.parse(iso) / 1000));

function verifyScript(checks: readonly BundleCheck[]): string {
  const lines = [
    '#!/bin/sh',
    '# Checks every file of this evidence bundle: hashes first, then each signature with openssl.',
    '# Exit 0 when everything verifies; 1 and a FAILED line for each file that does not.',
    'set -u',
    'cd "$(dirname "$0")" || exit 1',
    'fail=0',
    'if sha256sum -c --quiet SHA256SUMS; then echo "OK      SHA256SUMS: every file as exported"; else echo "FAILED  SHA256SUMS"; fail=1; fi',
    '# check <file> <text openssl prints on success> <openssl arguments...>',
    'check() {',
    '  file=$1; ok=$2; shift 2',
    '  if out=$("$@" 2>&1) && printf "%s\\n" "$out" | grep -q "$ok"; then echo "OK      $file"; else echo "FAILED  $file"; printf "%s\\n" "$out" | sed "s/^/        /"; fail=1; fi',
    '}',
    ...checks.map((c) => `check ${shellQuote(c.file)} ${shellQuote(c.okText)} ${c.argv.map(shellQuote).join(' ')}`),
    'if [ "$fail" -eq 0 ]; then echo "all evidence verified"; fi',
    'exit "$fail"',
  ];
  return `${lines.join('\n')}\n`;
}

function readme(r: CaseReport, checks: readonly BundleCheck[], ocspCount: number, crlCount: number, crlsMissing: number): string {
  const out = [
    `# Evidence: ${r.case.title}`,
    '',
    `Exported by revwatch at ${r.generatedAt} for case \`${r.case.id}\`${r.case.reportUrl ? ` (${r.case.reportUrl})` : ''}.`,
    'report.md is the incident report, certificates.csv one row per certificate, manifest.json every file with its URL and time.',
    '',
    '## Check everything',
    '',
    '```sh',
    'sh verify.sh',
    '```',
    '',
    'It runs `sha256sum -c SHA256SUMS` and the openssl command below for every response and CRL, and exits non-zero if any fails.',
    '',
    '## Layout',
    '',
    '- `certs/`: each certificate (`<serial>-<sha256 prefix>.pem`), its issuer (`issuer-<sha256>.pem`) and any delegated OCSP responder (`responder-<sha256>.pem`)',
    `- \`ocsp/\`: ${ocspCount} raw OCSP response(s), \`<serial>-<time observed>.der\``,
    `- \`crls/\`: ${crlCount} CRL(s), \`<sha256>.crl\`${crlsMissing ? ` (${crlsMissing} CRL(s) seen were not kept locally; manifest.json lists their URL, number and SHA-256)` : ''}`,
    '',
    '## One file at a time',
    '',
    "An OCSP response signed by the issuer is checked with `-VAfile` (trust the issuer's key); one signed by a delegated",
    'responder with `-CAfile issuer -partial_chain` (openssl checks the responder was issued by the issuer for OCSP signing).',
    '`-attime` judges certificates at the response\'s producedAt. openssl prints "Response verify OK" or "verify OK".',
    '',
    '```sh',
    ...checks.map((c) => c.argv.map(shellQuote).join(' ')),
    '```',
    '',
  ];
  return out.join('\n');
}

/** The bundle's files, SHA256SUMS last (it lists every other file). */
export function toBundle(r: CaseReport, crlBytes: (sha256: string) => Uint8Array | null): BundleFile[] {
  const files: BundleFile[] = [];
  const used = new Set<string>();
  const add = (path: string, bytes: Uint8Array | string): void => {
    used.add(path);
    files.push({ path, bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes });
  };
  const checks: BundleCheck[] = [];
  const issuerPath = new Map<string, string>();
  for (const i of r.issuers) {
    const path = `certs/issuer-${i.sha256}.pem`;
    issuerPath.set(i.sha256, path);
    add(path, toPem(i.der));
  }
  const issuerDers = new Set(r.issuers.map((i) => Buffer.from(i.der).toString('base64')));
  const ders = new Map(r.certificateDers.map((d) => [d.sha256, d.der]));
  const certPaths = new Map<string, string>();
  for (const c of r.certificates) {
    const der = ders.get(c.sha256);
    // A bundle without a certificate's PEM would not verify: refuse rather than write it short.
    if (!der)
      throw new Error(
        `no DER for certificate ${c.sha256} in the report: it was built without certificateBytes, or the store lacks the certificate's bytes`,
      );
    const path = `certs/${c.serial}-${c.sha256.slice(0, 12)}.pem`;
    certPaths.set(c.sha256, path);
    add(path, toPem(der));
  }
  const responders = new Map<string, string>();
  const ocsp: {
    path: string;
    serial: string;
    url: string;
    observedAt: string;
    producedAt: string | null;
    status: string;
    signer: string | null;
    issuer: string | null;
    responder: string | null;
  }[] = [];
  for (const c of r.certificates) {
    const issuer = issuerPath.get(c.issuerSha256) ?? null;
    for (const o of c.observations) {
      if (o.source.kind !== 'ocsp' || !o.raw) continue;
      const bytes = Buffer.from(o.raw, 'base64');
      // Times are shown to the second: two answers in one second (two responder URLs) get -2, -3... so no file is overwritten.
      const stem = `ocsp/${c.serial}-${o.observedAt.replace(/[:]/g, '')}`;
      let path = `${stem}.der`;
      for (let n = 2; used.has(path); n++) path = `${stem}-${n}.der`;
      add(path, bytes);
      // The responder certificates the response carries (RFC 6960 4.2.1 certs), apart from the issuer itself.
      let responder: string | null = null;
      try {
        for (const cert of parseOcspResponse(bytes).basic?.certs ?? []) {
          if (issuerDers.has(Buffer.from(cert).toString('base64'))) continue;
          const sha = fileSha256(cert);
          if (!responders.has(sha)) {
            responders.set(sha, `certs/responder-${sha}.pem`);
            add(`certs/responder-${sha}.pem`, toPem(cert));
          }
          responder ??= responders.get(sha)!;
        }
      } catch {
        // An unparseable response is kept as evidence of what was served; openssl will say it does not verify.
      }
      ocsp.push({
        path,
        serial: c.serial,
        url: o.source.url,
        observedAt: o.observedAt,
        producedAt: o.producedAt,
        status: o.status,
        signer: o.signer,
        issuer,
        responder,
      });
      if (!issuer) continue;
      const at = o.producedAt ?? o.observedAt;
      const delegated = o.signer === 'delegated' || (o.signer === null && responder !== null);
      const trust = delegated
        ? ['-CAfile', issuer, '-partial_chain', ...(responder ? ['-verify_other', responder] : [])]
        : ['-VAfile', issuer];
      const subject = certPaths.get(c.sha256);
      checks.push({
        file: path,
        argv: [
          'openssl',
          'ocsp',
          '-respin',
          path,
          '-issuer',
          issuer,
          ...trust,
          '-attime',
          epochSeconds(at),
          ...(subject ? ['-cert', subject] : []),
          '-resp_text',
        ],
        okText: 'Response verify OK',
      });
    }
  }
  // A CRL is signed by the issuer of the certificates that name its URL (RFC 5280 5.1.1.2, no indirect CRLs here).
  const crlIssuer = new Map<string, string>();
  for (const c of r.certificates)
    for (const s of c.sources) if (s.kind === 'crl' && !crlIssuer.has(s.url)) crlIssuer.set(s.url, c.issuerSha256);
  let missing = 0;
  const crlChecked = new Set<string>();
  const crls = r.crls.map((s) => {
    const bytes = crlBytes(s.sha256);
    const path = bytes ? `crls/${s.sha256}.crl` : null;
    if (bytes && path) {
      if (!used.has(path)) add(path, bytes);
      const issuer = issuerPath.get(crlIssuer.get(s.url) ?? '');
      if (issuer && !crlChecked.has(path) && crlChecked.add(path))
        checks.push({
          file: path,
          argv: ['openssl', 'crl', '-inform', 'DER', '-in', path, '-CAfile', issuer, '-noout'],
          okText: 'verify OK',
        });
    } else missing++;
    return {
      url: s.url,
      crlNumber: s.crlNumber,
      thisUpdate: new Date(s.thisUpdate).toISOString().replace('.000Z', 'Z'),
      nextUpdate: s.nextUpdate === null ? null : new Date(s.nextUpdate).toISOString().replace('.000Z', 'Z'),
      sha256: s.sha256,
      bytes: s.bytes,
      file: path,
    };
  });
  add('report.md', toMarkdown(r));
  add('certificates.csv', toCsv(r));
  add('README.md', readme(r, checks, ocsp.length, crls.filter((c) => c.file).length, missing));
  add('verify.sh', verifyScript(checks));
  const manifest = {
    producer: 'revwatch evidence bundle',
    case: r.case,
    generatedAt: r.generatedAt,
    deadline: r.deadline,
    rule: r.rule,
    ocspResponses: ocsp,
    crls,
    checks: checks.map((c) => ({ file: c.file, command: c.argv.map(shellQuote).join(' ') })),
    files: files.map((f) => ({ path: f.path, sha256: fileSha256(f.bytes), bytes: f.bytes.length })),
  };
  add('manifest.json', JSON.stringify(manifest, null, 2));
  add('SHA256SUMS', `${files.map((f) => `${fileSha256(f.bytes)}  ${f.path}`).join('\n')}\n`);
  return files;
}

/**
 * Makes `dir` ready for a bundle. A directory that is not empty is refused
 * (its stale files would sit beside the bundle, outside SHA256SUMS) unless
 * `force`, which empties it first; to keep --force from wiping a folder given
 * by mistake, it only empties a folder that holds a previous bundle
 * (manifest.json and SHA256SUMS, nothing else unexpected at the top level).
 */
export function prepareBundleDir(dir: string, options: { force: boolean }): void {
  let entries: string[] = [];
  try {
    entries = existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir) : [];
  } catch (err) {
    throw new InputError(`cannot read --out ${dir}: ${(err as Error).message}`);
  }
  if (entries.length === 0) return;
  if (!options.force)
    throw new InputError(`--out ${dir} is not empty; give --force to empty it first (its old files would not be in SHA256SUMS)`);
  const known = new Set([
    'certs',
    'ocsp',
    'crls',
    'report.md',
    'certificates.csv',
    'README.md',
    'verify.sh',
    'manifest.json',
    'SHA256SUMS',
  ]);
  if (!entries.includes('manifest.json') || !entries.includes('SHA256SUMS') || entries.some((e) => !known.has(e))) {
    throw new InputError(
      `--out ${dir} holds files that are not a revwatch evidence bundle; --force empties only a previous bundle, so remove them yourself or pick another folder`,
    );
  }
  for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
}
