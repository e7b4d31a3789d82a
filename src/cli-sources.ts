/**
 * Sources reached from the command line: `--crl-url` / `--ocsp-url` given by
 * hand at `track`, and `inspect ocsp <cert-file>`, which asks the responder
 * named in the certificate's AIA (RFC 5280 4.2.2.1) about it, taking the
 * issuer from `--issuer`, the file's other certificates, or the AIA caIssuers
 * URL, through the same guarded fetcher as every other request.
 */
import { InputError } from './errors.js';
import { readCertificates, resolveIssuer, type CertificateInfo } from './pki/certificate.js';
import { OcspIssuer, buildOcspRequest, ocspGetUrl } from './pki/ocsp.js';
import type { FetchResult, Fetcher } from './ports.js';
import { DEFAULT_OCSP_MAX_BYTES } from './check/probe.js';
import { oneLine } from './cli-validate.js';

/** Commander parser for a repeatable `--crl-url` / `--ocsp-url`: an absolute http(s) URL. */
export function sourceUrlOption(option: string): (value: string, previous?: string[]) => string[] {
  return (value, previous = []) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InputError(`${option} "${oneLine(value)}" is not a URL`);
    }
    // CRLs and OCSP are served over http (RFC 5280 4.2.1.13, RFC 6960 A.1); https is accepted as given.
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`${option} must be an http or https URL (got ${oneLine(url.protocol)})`);
    return previous.includes(value) ? previous : [...previous, value];
  };
}

/**
 * Asks `url` about `cert`: POST (RFC 6960 A.1), falling back to GET when the
 * responder refuses POST with 405 or 501.
 */
export async function askResponder(fetcher: Fetcher, url: string, cert: CertificateInfo, issuer: CertificateInfo): Promise<FetchResult> {
  const request = buildOcspRequest(cert.serial, new OcspIssuer(issuer.raw));
  const result = await fetcher.fetch({ url, method: 'POST', body: request, headers: { 'content-type': 'application/ocsp-request' }, maxBytes: DEFAULT_OCSP_MAX_BYTES, purpose: 'ocsp' });
  if (!result.ok && result.kind === 'http-status' && (result.status === 405 || result.status === 501)) {
    return fetcher.fetch({ url: ocspGetUrl(url, request), maxBytes: DEFAULT_OCSP_MAX_BYTES, purpose: 'ocsp' });
  }
  return result;
}

/** The certificates of a file when it holds certificates (PEM or DER); null when it is something else (an OCSP response). */
export function certificatesIn(bytes: Uint8Array, source: string): CertificateInfo[] | null {
  try {
    return readCertificates(bytes, source);
  } catch {
    return null;
  }
}

export interface ResponderTarget {
  readonly url: string;
  readonly cert: CertificateInfo;
  readonly issuer: CertificateInfo;
}

/**
 * For `inspect ocsp <cert-file>`: the first certificate of the file, its first
 * AIA OCSP URL, and its issuer (`--issuer`, the rest of the file, or caIssuers).
 * A certificate without an OCSP URL, or whose issuer cannot be found, is bad input.
 */
export async function responderFromCertificate(certs: readonly CertificateInfo[], source: string, given: CertificateInfo | null, fetcher: Fetcher): Promise<ResponderTarget> {
  const cert = certs[0]!;
  const url = cert.ocspUrls[0];
  if (!url) throw new InputError(`${source}: ${cert.subject} (serial ${cert.serial}) names no OCSP responder in its Authority Information Access; give the responder URL`);
  const fetchCaIssuers = async (caIssuersUrl: string): Promise<Uint8Array> => {
    const r = await fetcher.fetch({ url: caIssuersUrl, maxBytes: 1024 * 1024 });
    if (!r.ok) throw new Error(r.message);
    return r.body;
  };
  const resolution = await resolveIssuer(cert, { given: given ? [given] : [], bundle: certs.slice(1), fetchCaIssuers });
  // The responder signs for the CA that issued the certificate (RFC 6960 4.2.2.2); for a precertificate
  // signed by a Precertificate Signing Certificate, that is the CA above it (RFC 6962 3.1).
  return { url, cert, issuer: resolution.revocationIssuer };
}
