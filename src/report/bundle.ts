import { fileSha256, type CaseReport } from './case-report.js';
import { toCsv, toMarkdown } from './formats.js';
import { toPem } from '../pki/certificate.js';

export interface BundleFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}


/**
 * The evidence bundle: raw OCSP responses, the CRLs' URLs, numbers and hashes
 * (and the CRL files themselves when kept locally), the issuers, the report,
 * and a manifest with SHA256SUMS so a third party can check every byte.
 */
export function toBundle(r: CaseReport, crlBytes: (sha256: string) => Uint8Array | null): BundleFile[] {
  const files: BundleFile[] = [];
  const add = (path: string, bytes: Uint8Array | string): void => {
    files.push({ path, bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes });
  };
  for (const i of r.issuers) add(`issuer-${i.sha256}.pem`, toPem(i.der));
  const ocsp: { path: string; serial: string; url: string; observedAt: string; status: string }[] = [];
  for (const c of r.certificates) {
    for (const o of c.observations) {
      if (o.source.kind !== 'ocsp' || !o.raw) continue;
      const path = `ocsp/${c.serial}-${o.observedAt.replace(/[:]/g, '')}.der`;
      add(path, Buffer.from(o.raw, 'base64'));
      ocsp.push({ path, serial: c.serial, url: o.source.url, observedAt: o.observedAt, status: o.status });
    }
  }
  const crls = r.crls.map((s) => {
    const bytes = crlBytes(s.sha256);
    const path = bytes ? `crls/${s.sha256}.crl` : null;
    if (bytes && path) add(path, bytes);
    return { url: s.url, crlNumber: s.crlNumber, thisUpdate: new Date(s.thisUpdate).toISOString(), nextUpdate: s.nextUpdate === null ? null : new Date(s.nextUpdate).toISOString(), sha256: s.sha256, bytes: s.bytes, file: path };
  });
  add('report.md', toMarkdown(r));
  add('certificates.csv', toCsv(r));
  const manifest = {
    case: r.case,
    generatedAt: r.generatedAt,
    deadline: r.deadline,
    rule: r.rule,
    ocspResponses: ocsp,
    crls,
    files: files.map((f) => ({ path: f.path, sha256: fileSha256(f.bytes), bytes: f.bytes.length })),
  };
  add('manifest.json', JSON.stringify(manifest, null, 2));
  add('SHA256SUMS', files.map((f) => `${fileSha256(f.bytes)}  ${f.path}`).join('\n') + '\n');
  return files;
}
