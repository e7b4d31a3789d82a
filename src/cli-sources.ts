/**
 * Sources reached from the command line: `--crl-url` / `--ocsp-url` given by
 * hand at `track`, and `inspect ocsp <cert-file>`, which asks the responder
 * named in the certificate's AIA (RFC 5280 4.2.2.1) about it, taking the
 * issuer from `--issuer`, the file's other certificates, or the AIA caIssuers
 * URL, through the same guarded fetcher as every other request. (`--crl-url`
 * and `--ocsp-url` are parsed in cli-validate.ts.)
 */
import { InputError } from './errors.js';
import { readCertificates, resolveIssuer, type CertificateInfo } from './pki/certificate.js';
import type { Fetcher } from './ports.js';

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
export async function responderFromCertificate(
  certs: readonly CertificateInfo[],
  source: string,
  given: CertificateInfo | null,
  fetcher: Fetcher,
): Promise<ResponderTarget> {
  const cert = certs[0]!;
  const url = cert.ocspUrls[0];
  if (!url)
    throw new InputError(
      `${source}: ${cert.subject} (serial ${cert.serial}) names no OCSP responder in its Authority Information Access; give the responder URL`,
    );
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
