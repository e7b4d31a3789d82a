/**
 * What an incident report shows about a certificate beyond its status: the
 * subject common name and the subjectAltName entries (RFC 5280 4.2.1.6), and
 * the one link to crt.sh used everywhere a certificate is linked.
 */
import { subjectAltNameTexts } from '../pki/certificate-fields.js';
import { parseRawCertificate } from '../pki/raw-certificate.js';

/** crt.sh by id when the certificate came from crt.sh (a stable page), else a search by SHA-256 fingerprint. */
export function crtshUrl(cert: { readonly sha256: string; readonly crtshId?: string | null }): string {
  return cert.crtshId ? `https://crt.sh/?id=${encodeURIComponent(cert.crtshId)}` : `https://crt.sh/?q=${cert.sha256}`;
}

/** crt.sh searched by serial number (hex), for a certificate known only from a CA's appendix by issuer and serial. */
export function crtshSerialUrl(serialHex: string): string {
  return `https://crt.sh/?serial=${encodeURIComponent(serialHex)}`;
}

/** The last CN attribute of an RFC 4514-style subject text ("CN=a.example, O=X"), unescaped; null when none. */
export function subjectCommonName(subject: string): string | null {
  let found: string | null = null;
  for (const m of subject.matchAll(/(?:^|,|\+)\s*CN=((?:\\.|[^,+\\])*)/g)) found = m[1]!.replace(/\\(.)/g, '$1').trim();
  return found;
}

/**
 * The subjectAltName entries a reader recognises: DNS names, IP addresses and
 * email addresses (prefixed "email:"), in certificate order. A certificate that
 * does not parse, or a malformed extension, gives [] (the report still lists the
 * certificate by serial and fingerprint; the SANs are context, not evidence).
 */
export function subjectAltNames(der: Uint8Array): string[] {
  try {
    return subjectAltNameTexts(parseRawCertificate(der));
  } catch {
    return [];
  }
}
