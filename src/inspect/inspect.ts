/**
 * `revwatch inspect`: read one CRL or OCSP response and say what it claims
 * and whether it can be believed. The JSON shapes are part of the CLI
 * contract in docs/cli.md.
 */
import { InputError } from '../errors.js';
import { describeCertificate, readCertificateBlocks, type CertificateInfo } from '../pki/certificate.js';
import { CRL_UNUSABLE_CODES, looksLikeCrl, normalizeSerialHex, scanCrl, type CrlProblemCode } from '../pki/crl.js';
import { DerError, readElement } from '../pki/der.js';
import { OcspFormatError, OcspIssuer, looksLikeOcspResponse, parseOcspResponse, verifyOcspResponse } from '../pki/ocsp.js';
import { reasonName } from '../pki/oids.js';
import { isoOrNull } from '../time.js';
import { NotEvidenceError } from '../errors.js';
import { oneLine } from '../util/terminal.js';

export interface CrlInspection {
  signatureValid: boolean | null;
  issuer: string;
  thisUpdate: string | null;
  nextUpdate: string | null;
  crlNumber: string | null;
  entries: number;
  fresh: boolean;
  matches: { serial: string; revocationDate: string | null; reasonCode: string | null; invalidityDate: string | null }[];
  /** Requested serials the CRL does not list, in the order asked. */
  notListed: string[];
  problems: { code: string; message: string }[];
}

export interface OcspInspection {
  responseStatus: string;
  signatureValid: boolean | null;
  signer: 'issuer' | 'delegated' | null;
  producedAt: string | null;
  responses: {
    serial: string;
    status: string;
    revocationTime: string | null;
    reasonCode: string | null;
    thisUpdate: string | null;
    nextUpdate: string | null;
  }[];
  problems: { code: string; message: string }[];
}

const PEM_CRL_BEGIN = Buffer.from('-----BEGIN X509 CRL-----', 'latin1');
const PEM_CRL_END = Buffer.from('-----END X509 CRL-----', 'latin1');
const PEM_ANY_BEGIN = Buffer.from('-----BEGIN ', 'latin1');

/**
 * Undoes PEM armour for a CRL (`X509 CRL`) or passes DER through.
 *
 * `openssl crl -text` writes its text dump before the PEM block, and for a
 * big CRL that is megabytes: the block is searched for in the whole input,
 * on the bytes (Buffer.indexOf, no text copy of the input), and only the block
 * itself is decoded. Input that is one complete DER element is DER, whatever
 * bytes it happens to contain.
 */
export function crlDer(bytes: Uint8Array, source: string): Uint8Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (isOneDerElement(buf)) return bytes;
  const begin = buf.indexOf(PEM_CRL_BEGIN);
  if (begin >= 0) {
    const start = begin + PEM_CRL_BEGIN.length;
    const end = buf.indexOf(PEM_CRL_END, start);
    if (end < 0) throw new InputError(`${source} is not a CRL: its PEM X509 CRL block has no END line`);
    return Buffer.from(
      buf
        .subarray(start, end)
        .toString('latin1')
        .replace(/[^A-Za-z0-9+/=]/g, ''),
      'base64',
    );
  }
  const other = buf.indexOf(PEM_ANY_BEGIN);
  if (other >= 0) {
    const label = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(buf.subarray(other, other + 80).toString('latin1'))?.[1] ?? 'unknown';
    throw new InputError(`${source} is not a CRL: it holds a PEM ${label}`);
  }
  return bytes;
}

function isOneDerElement(buf: Buffer): boolean {
  try {
    return buf.length > 0 && buf[0] === 0x30 && readElement(buf, 0).end === buf.length;
  } catch {
    return false;
  }
}

function notA(what: 'CRL' | 'OCSP response', bytes: Uint8Array, source: string, detail: string): InputError {
  let is = '';
  if (bytes.length === 0) is = 'it is empty';
  else if (what !== 'CRL' && looksLikeCrl(bytes)) is = 'it is a CRL';
  else if (what !== 'OCSP response' && looksLikeOcspResponse(bytes)) is = 'it is an OCSP response';
  else if (bytes[0] !== 0x30) is = 'it is neither PEM nor DER';
  else {
    try {
      describeCertificate(bytes);
      is = 'it is a certificate';
    } catch {
      is = detail;
    }
  }
  return new InputError(`${source} is not ${what === 'CRL' ? 'a CRL' : 'an OCSP response'}: ${is}`);
}

export async function inspectCrl(
  bytes: Uint8Array,
  source: string,
  options: { issuer?: CertificateInfo | null; serials?: readonly string[]; at: number },
): Promise<CrlInspection> {
  const der = crlDer(bytes, source);
  const serials = (options.serials ?? []).map((s) => {
    try {
      return normalizeSerialHex(s);
    } catch {
      throw new InputError(`--serial "${s}" is not a hexadecimal serial number`);
    }
  });
  let scan: Awaited<ReturnType<typeof scanCrl>>;
  try {
    scan = await scanCrl(der, { serials, issuer: options.issuer?.raw ?? null, at: options.at });
  } catch (err) {
    if (err instanceof DerError) throw notA('CRL', der, source, err.message);
    throw err;
  }
  const fresh = scan.thisUpdate <= options.at && scan.nextUpdate !== null && options.at <= scan.nextUpdate;
  return {
    signatureValid: scan.signatureValid,
    issuer: scan.issuer,
    thisUpdate: isoOrNull(scan.thisUpdate),
    nextUpdate: isoOrNull(scan.nextUpdate),
    crlNumber: scan.crlNumber,
    entries: scan.entries,
    fresh,
    matches: serials
      .map((s) => scan.matches.get(s))
      .filter((m) => m !== undefined)
      .map((m) => ({
        serial: m.serial,
        revocationDate: isoOrNull(m.revocationDate),
        reasonCode: reasonName(m.reasonCode),
        invalidityDate: isoOrNull(m.invalidityDate),
      })),
    notListed: [...new Set(serials.filter((s) => !scan.matches.has(s)))],
    problems: scan.problems.map((p) => ({ code: p.code, message: p.message })),
  };
}

export function inspectOcsp(
  bytes: Uint8Array,
  source: string,
  options: { issuer?: CertificateInfo | null; cert?: CertificateInfo | null; at: number },
): OcspInspection {
  let parsed: ReturnType<typeof parseOcspResponse>;
  try {
    parsed = parseOcspResponse(bytes);
  } catch (err) {
    if (err instanceof OcspFormatError) throw notA('OCSP response', bytes, source, err.message.replace(/^not an OCSP response: /, ''));
    throw err;
  }
  const v = verifyOcspResponse(parsed, {
    issuer: options.issuer ? new OcspIssuer(options.issuer.raw) : null,
    serial: options.cert?.serial ?? null,
    at: options.at,
  });
  return {
    responseStatus: v.responseStatus,
    signatureValid: v.signatureValid,
    signer: v.signer,
    producedAt: isoOrNull(v.producedAt),
    responses: v.responses.map((r) => ({
      serial: r.serial,
      status: r.status,
      revocationTime: isoOrNull(r.revocationTime),
      reasonCode: reasonName(r.reasonCode),
      thisUpdate: isoOrNull(r.thisUpdate),
      nextUpdate: isoOrNull(r.nextUpdate),
    })),
    problems: v.problems.map((p) => ({ code: p.code, message: p.message })),
  };
}

export { NotEvidenceError };

/**
 * Why a CRL inspection is not valid evidence, or null when it is: a
 * signature that fails, a CRL that is not fresh at --at, or one that is
 * unusable (unknown critical extension, delta or indirect CRL, dates before
 * 1950, an empty issuingDistributionPoint, MD5), an entry asked about that is
 * dated after the CRL itself, or a CRL covering only some reasons that does
 * not list a serial asked about. A signature that was not checked
 * (no --issuer) is reported as such in the output, not as a failure.
 */
export function crlEvidenceProblem(r: CrlInspection): string | null {
  if (r.signatureValid === false) return 'the CRL signature does not verify with the given issuer';
  const unusable = r.problems.find((p) => CRL_UNUSABLE_CODES.has(p.code as CrlProblemCode));
  if (unusable) return `the CRL is unusable: ${unusable.message}`;
  if (!r.fresh) return `the CRL is not fresh at the time judged (thisUpdate ${r.thisUpdate}, nextUpdate ${r.nextUpdate ?? 'none'})`;
  const futureEntry = r.problems.find((p) => p.code === 'revocation-after-this-update');
  if (futureEntry) return `the CRL contradicts itself: ${futureEntry.message}`;
  const partial = r.problems.find((p) => p.code === 'partial-reasons');
  if (partial && r.notListed.length > 0)
    return `${partial.message}: that it does not list ${r.notListed.join(', ')} proves nothing (RFC 5280 5.2.5)`;
  return null;
}

/** OCSP problems that mean the answer cannot be relied on (RFC 6960 3.2, 4.2.2.2; RFC 5019 4). */
const OCSP_NOT_EVIDENCE = new Set([
  'response-status',
  'bad-signature',
  'unauthorized-signer',
  'unsupported-signature-algorithm',
  'certid-mismatch',
  'stale',
  'future',
  'unknown-critical-extension',
  'time-before-1950',
  'revocation-after-answer',
  'conflicting-responses',
]);

/** Why an OCSP inspection is not valid evidence, or null when it is. */
export function ocspEvidenceProblem(r: OcspInspection): string | null {
  if (r.signatureValid === false)
    return `the response signature is not valid: ${r.problems.find((p) => p.code === 'bad-signature' || p.code === 'unauthorized-signer')?.message ?? 'it does not verify'}`;
  const problem = r.problems.find((p) => OCSP_NOT_EVIDENCE.has(p.code));
  return problem ? `the response is not valid evidence: ${problem.message}` : null;
}

/** Reads the first certificate of an --issuer or --cert file. */
export function certificateFromFile(bytes: Uint8Array, source: string): CertificateInfo {
  const [first] = readCertificateBlocks(bytes, source);
  return describeCertificate(first!, source);
}

const yesNo = (v: boolean | null): string => (v === null ? 'not checked (no --issuer)' : v ? 'valid' : 'INVALID');

export function formatCrlInspection(r: CrlInspection): string {
  const lines = [
    `issuer        ${oneLine(r.issuer)}`,
    `signature     ${yesNo(r.signatureValid)}`,
    `thisUpdate    ${r.thisUpdate}`,
    `nextUpdate    ${r.nextUpdate ?? '(none)'}`,
    `crlNumber     ${r.crlNumber ?? '(none)'}`,
    `entries       ${r.entries}`,
    `fresh         ${r.fresh ? 'yes' : 'no'}`,
  ];
  if (r.matches.length) {
    lines.push('', ['serial'.padEnd(42), 'revoked at'.padEnd(22), 'reason'].join(''));
    for (const m of r.matches)
      lines.push(m.serial.padEnd(42) + (m.revocationDate ?? '').padEnd(22) + (m.reasonCode ?? '(none: unspecified)'));
  }
  if (r.notListed.length) lines.push(`not listed    ${r.notListed.join(', ')}`);
  for (const p of r.problems) lines.push(`problem: ${oneLine(p.message)}`);
  return lines.join('\n');
}

export function formatOcspInspection(r: OcspInspection): string {
  const lines = [
    `responseStatus ${r.responseStatus}`,
    `signature      ${yesNo(r.signatureValid)}${r.signer ? ` (signed by the ${r.signer === 'issuer' ? 'issuer' : 'delegated responder'})` : ''}`,
    `producedAt     ${r.producedAt ?? '-'}`,
  ];
  if (r.responses.length) {
    lines.push(
      '',
      ['serial'.padEnd(42), 'status'.padEnd(9), 'revoked at'.padEnd(22), 'reason'.padEnd(22), 'thisUpdate'.padEnd(22), 'nextUpdate'].join(
        '',
      ),
    );
    for (const s of r.responses) {
      lines.push(
        s.serial.padEnd(42) +
          s.status.padEnd(9) +
          (s.revocationTime ?? '-').padEnd(22) +
          (s.reasonCode ?? '-').padEnd(22) +
          (s.thisUpdate ?? '-').padEnd(22) +
          (s.nextUpdate ?? '-'),
      );
    }
  }
  for (const p of r.problems) lines.push(`problem: ${oneLine(p.message)}`);
  return lines.join('\n');
}
