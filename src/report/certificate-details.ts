/**
 * What an incident report shows about a certificate beyond its status: the
 * subject common name and the subjectAltName entries (RFC 5280 4.2.1.6), and
 * the one link to crt.sh used everywhere a certificate is linked.
 */
import { Tag, children, contentOf, readElement } from '../pki/der.js';
import { Oid } from '../pki/oids.js';
import { parseRawCertificate } from '../pki/raw-certificate.js';

/** crt.sh by id when the certificate came from crt.sh (a stable page), else a search by SHA-256 fingerprint. */
export function crtshUrl(cert: { readonly sha256: string; readonly crtshId?: string | null }): string {
  return cert.crtshId ? `https://crt.sh/?id=${encodeURIComponent(cert.crtshId)}` : `https://crt.sh/?q=${cert.sha256}`;
}

/** The last CN attribute of an RFC 4514-style subject text ("CN=a.example, O=X"), unescaped; null when none. */
export function subjectCommonName(subject: string): string | null {
  let found: string | null = null;
  for (const m of subject.matchAll(/(?:^|,|\+)\s*CN=((?:\\.|[^,+\\])*)/g)) found = m[1]!.replace(/\\(.)/g, '$1').trim();
  return found;
}

// GeneralName tags (RFC 5280 4.2.1.6): rfc822Name [1], dNSName [2], iPAddress [7], all IMPLICIT.
const RFC822 = 0x81;
const DNS = 0x82;
const IP = 0x87;

/** Bytes as text a report can show: printable ASCII as is, anything else as \xNN, so nothing hides in a SAN. */
function shownText(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) return Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16)).join(':');
  return `ip:${Buffer.from(bytes).toString('hex')}`;
}

/**
 * The subjectAltName entries a reader recognises: DNS names, IP addresses and
 * email addresses (prefixed "email:"), in certificate order. A certificate that
 * does not parse, or a malformed extension, gives [] (the report still lists the
 * certificate by serial and fingerprint; the SANs are context, not evidence).
 */
export function subjectAltNames(der: Uint8Array): string[] {
  try {
    const ext = parseRawCertificate(der).extensions.get(Oid.subjectAltName);
    if (!ext) return [];
    const root = readElement(ext.value, 0);
    if (root.tag !== Tag.SEQUENCE) return [];
    const out: string[] = [];
    for (const gn of children(ext.value, root)) {
      const bytes = contentOf(ext.value, gn);
      if (gn.tag === DNS) out.push(shownText(bytes));
      else if (gn.tag === IP) out.push(ipText(bytes));
      else if (gn.tag === RFC822) out.push(`email:${shownText(bytes)}`);
    }
    return out;
  } catch {
    return [];
  }
}
