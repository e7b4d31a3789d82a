/**
 * Sources reached from the command line: `--crl-url` / `--ocsp-url` given by
 * hand at `track`, and `inspect ocsp <cert-file>`, which asks the responder
 * named in the certificate's AIA (RFC 5280 4.2.2.1) about it, taking the
 * issuer from `--issuer`, the file's other certificates, or the AIA caIssuers
 * URL, through the same guarded fetcher as every other request. (`--crl-url`
 * and `--ocsp-url` are parsed in src/cli/validate.ts.)
 */
import { InputError } from '../errors.js';
import { readCertificates, resolveIssuer, type CaIssuersFetch, type CertificateInfo } from '../pki/certificate.js';
import type { Fetcher } from '../ports/index.js';

/** The certificates of a file when it holds certificates (PEM or DER); null when it is something else (an OCSP response). */
export function certificatesIn(bytes: Uint8Array, source: string): CertificateInfo[] | null {
  try {
    return readCertificates(bytes, source);
  } catch {
    return null;
  }
}

/**
 * Fetches AIA caIssuers URLs (RFC 5280 4.2.2.1) through the guarded fetcher, each URL once: the
 * certificates of one CA name the same URL, and a failure (a refused address, a timeout) is
 * remembered too rather than met again per certificate. One per command.
 */
export function caIssuersFetcher(fetcher: Fetcher): CaIssuersFetch {
  const fetches = new Map<string, Promise<Uint8Array>>();
  return (url) => {
    let fetched = fetches.get(url);
    if (!fetched) {
      fetched = fetcher.fetch({ url, maxBytes: 1024 * 1024 }).then((r) => {
        if (!r.ok) throw new Error(r.message);
        return r.body;
      });
      fetches.set(url, fetched);
    }
    return fetched;
  };
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
  const resolution = await resolveIssuer(cert, {
    given: given ? [given] : [],
    bundle: certs.slice(1),
    fetchCaIssuers: caIssuersFetcher(fetcher),
  });
  // The responder signs for the CA that issued the certificate (RFC 6960 4.2.2.2); for a precertificate
  // signed by a Precertificate Signing Certificate, that is the CA above it (RFC 6962 3.1).
  return { url, cert, issuer: resolution.revocationIssuer };
}
