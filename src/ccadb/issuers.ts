/**
 * The CA certificates the CCADB discloses, as issuers: a certificate whose
 * issuer is not at hand (no --issuer, no bundle, no AIA caIssuers) is matched
 * to a disclosed CA certificate, first by its Authority Key Identifier equal
 * to the disclosed certificate's Subject Key Identifier (RFC 5280 4.2.1.1),
 * then by its issuer name equal to the disclosed certificate's subject. A name
 * is not unique across CAs and a key identifier is only a hint, so when the
 * certificate itself is at hand every candidate must also verify its
 * signature (RFC 5280 6.1.3 (a)(1)); callers that hold only a name (an
 * incident appendix row) get the candidates and decide.
 *
 * The disclosed certificates come from the CCADB "All Certificate PEMs" report
 * (and from the PEM column older "All Certificate Records" reports carried),
 * kept by fingerprint in ccadb/store.ts.
 */
import { createHash } from 'node:crypto';
import { describeCertificate, isIssuerOf, readCertificateBlocks, type CertificateInfo } from '../pki/certificate.js';
import { authorityKeyId, nameText, subjectKeyId } from '../pki/certificate-fields.js';
import { nameKey } from '../pki/name-key.js';
import { parseRawCertificate } from '../pki/raw-certificate.js';

/** SHA-256 of a Name's DER: the key disclosures and CA certificates are found by subject name under. */
export function nameHash(nameDer: Uint8Array): string {
  return createHash('sha256').update(nameDer).digest('hex');
}

/** A CA certificate as the CCADB disclosed it. */
export interface DisclosedCaCertificate {
  /** SHA-256 of the DER, lowercase hex: the report's "SHA-256 Fingerprint", checked against the PEM. */
  readonly sha256: string;
  readonly pem: string;
}

/** A disclosed CA certificate as the import keeps it, with its lookup keys (ccadb/store.ts). */
export interface KeptCaCertificate extends DisclosedCaCertificate {
  readonly subjectKeyId: string | null;
  /** SHA-256 of the subject Name's DER. */
  readonly subjectNameHash: string;
  /** subjectTextKey of the subject as revwatch prints it; null when the name has no text form revwatch writes. */
  readonly subjectTextKey: string | null;
}

/** The lookup keys of a CA certificate read from a report (the PEM already checked against its fingerprint). */
export function toKeep(der: Uint8Array, pem: string, sha256: string): KeptCaCertificate {
  const raw = parseRawCertificate(der);
  let text: string | null = null;
  try {
    text = subjectTextKey(nameText(raw.subjectName));
  } catch {
    text = null; // a name revwatch cannot print (a multi-valued RDN): found by key and DER name only
  }
  return { sha256, pem, subjectKeyId: subjectKeyId(raw), subjectNameHash: nameHash(raw.subjectName), subjectTextKey: text };
}

/** The lookups findDisclosedIssuer reads (DisclosureStore implements them). */
export interface DisclosedCaCertificateLookup {
  caCertificatesByKeyId(subjectKeyIdHex: string): Promise<DisclosedCaCertificate[]>;
  /** By SHA-256 of the subject Name's DER (nameHash below). */
  caCertificatesBySubjectName(nameHashHex: string): Promise<DisclosedCaCertificate[]>;
  /** By subjectTextKey of the subject as text (for names that come as text, such as an appendix's Issuer column). */
  caCertificatesBySubjectText(textKey: string): Promise<DisclosedCaCertificate[]>;
}

/**
 * The key a CA certificate is kept under by its subject as text, and looked up by: the SHA-256 of the name's
 * nameKey (pki/name-key.ts, the key an appendix's Issuer column is matched by too), so "CN=Example CA, O=Example,
 * C=US", "C = US, O = Example, CN = Example CA" (openssl), "/C=US/O=Example/CN=Example CA" and
 * "commonName=Example CA, organizationName=Example, countryName=US" give the same key. Text that is no name
 * (no `type=value`) is keyed by itself, folded. Matching is a lookup only: a candidate found by text is still
 * one of the CCADB's own certificates, whose name is exact.
 */
export function subjectTextKey(text: string): string {
  const key = nameKey(text) ?? text.trim().replace(/\s+/g, ' ').toLowerCase();
  return createHash('sha256').update(key).digest('hex');
}

export interface DisclosedIssuerQuery {
  /** The Authority Key Identifier of the certificate whose issuer is sought, lowercase hex. */
  readonly keyId?: string | null;
  /** The issuer Name's DER. */
  readonly issuerNameDer?: Uint8Array;
  /** The issuer name as text, when no DER is at hand. */
  readonly issuerText?: string;
  /** The certificate itself: when given, only candidates whose key verifies its signature are returned. */
  readonly signed?: CertificateInfo;
}

function readDisclosed(found: readonly DisclosedCaCertificate[]): CertificateInfo[] {
  const out: CertificateInfo[] = [];
  const seen = new Set<string>();
  for (const d of found) {
    if (seen.has(d.sha256)) continue;
    seen.add(d.sha256);
    try {
      const [der] = readCertificateBlocks(Buffer.from(d.pem, 'latin1'), `the CCADB certificate ${d.sha256}`);
      out.push(describeCertificate(der!, `the CCADB certificate ${d.sha256}`));
    } catch {
      // Checked at import; a stored PEM that no longer reads is simply not a candidate.
    }
  }
  // A stable order: the same certificate found the same way every time.
  return out.sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
}

/**
 * The disclosed CA certificates that may have issued what the query describes: by key identifier first, then
 * by name (DER, else text). With `signed`, only those that did (name and signature checked as for --issuer).
 */
export async function findDisclosedIssuer(lookup: DisclosedCaCertificateLookup, query: DisclosedIssuerQuery): Promise<CertificateInfo[]> {
  const keep = (cands: CertificateInfo[]): CertificateInfo[] =>
    query.signed ? cands.filter((c) => c.sha256 !== query.signed!.sha256 && isIssuerOf(c, query.signed!)) : cands;
  if (query.keyId) {
    const byKey = keep(readDisclosed(await lookup.caCertificatesByKeyId(query.keyId.toLowerCase())));
    if (byKey.length > 0) return byKey;
  }
  if (query.issuerNameDer) {
    const byName = keep(readDisclosed(await lookup.caCertificatesBySubjectName(nameHash(query.issuerNameDer))));
    if (byName.length > 0) return byName;
  }
  if (query.issuerText) return keep(readDisclosed(await lookup.caCertificatesBySubjectText(subjectTextKey(query.issuerText))));
  return [];
}

/**
 * For `track`: the disclosed CA certificates that signed `cert` (each verified), to try after --issuer and the
 * bundle. The candidates are read once per key identifier and per issuer name, however many certificates
 * of one CA are tracked; the signature is checked for each certificate.
 */
export function disclosedIssuersOf(lookup: DisclosedCaCertificateLookup): (cert: CertificateInfo) => Promise<CertificateInfo[]> {
  const byKey = new Map<string, Promise<CertificateInfo[]>>();
  const byName = new Map<string, Promise<CertificateInfo[]>>();
  const cached = (cache: Map<string, Promise<CertificateInfo[]>>, key: string, read: () => Promise<DisclosedCaCertificate[]>) => {
    let found = cache.get(key);
    if (!found) {
      found = read().then(readDisclosed);
      cache.set(key, found);
    }
    return found;
  };
  return async (cert) => {
    const signed = (cands: CertificateInfo[]): CertificateInfo[] => cands.filter((c) => c.sha256 !== cert.sha256 && isIssuerOf(c, cert));
    let keyId: string | null = null;
    try {
      keyId = authorityKeyId(cert.raw);
    } catch {
      keyId = null; // a malformed AKI: the name and the signature still decide
    }
    if (keyId) {
      const k = keyId;
      const found = signed(await cached(byKey, k, () => lookup.caCertificatesByKeyId(k)));
      if (found.length > 0) return found;
    }
    const hash = nameHash(cert.raw.issuerName);
    return signed(await cached(byName, hash, () => lookup.caCertificatesBySubjectName(hash)));
  };
}
