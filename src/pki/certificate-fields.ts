/**
 * The certificate fields `track` needs, read with the DER reader: distinguished
 * names as text, AIA (RFC 5280 4.2.2.1), CRL distribution points (4.2.1.13),
 * basic constraints (4.2.1.9), key identifiers (4.2.1.1, 4.2.1.2) and
 * extended key usage (4.2.1.12).
 *
 * Tracking 100,000 certificates through a full ASN.1 object model spent most
 * of its time building objects nobody read. These readers only walk the bytes.
 * Each one throws DerError, and NameTextUnsupported, on anything it does not
 * read exactly as @peculiar/x509 would: the caller then falls back to the full
 * model, so the text stored for a certificate does not depend on which path
 * read it.
 */
import { DerError, Tag, children, contentOf, readBoolean, readElement, readOid, type DerElement } from './der.js';
import { Oid } from './oids.js';
import type { RawCertificate } from './raw-certificate.js';

/** Thrown for a name this formatter does not render (the caller uses @peculiar/x509's Name instead). */
export class NameTextUnsupported extends Error {}

/** The short names @peculiar/x509 prints (its default NameIdentifier table); other types print as dotted OIDs. */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'E',
  '2.5.4.42': 'G',
  '2.5.4.43': 'I',
  '2.5.4.4': 'SN',
  '2.5.4.12': 'T',
};

/**
 * RFC 4514-style escaping as @peculiar/x509 applies it: the specials
 * `,+"\<>;`, a leading space or `#`, and a trailing space. Values with
 * control characters are left to the fallback.
 */
function escapeValue(value: string): string {
  if (/[\r\n\t]/.test(value)) throw new NameTextUnsupported('control character in a name');
  return value
    .replace(/([,+"\\<>;])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/([ ]$)/, '\\$1');
}

function attributeValue(buf: Uint8Array, el: DerElement): string {
  const bytes = contentOf(buf, el);
  if (el.tag === Tag.UTF8_STRING) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    if (text.includes('\ufffd')) throw new NameTextUnsupported('invalid UTF-8 in a name');
    return text;
  }
  if (el.tag === Tag.PRINTABLE_STRING || el.tag === Tag.IA5_STRING) {
    for (const b of bytes) if (b > 0x7e || b < 0x20) throw new NameTextUnsupported('non-ASCII byte in a PrintableString or IA5String');
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  }
  // TeletexString, BMPString, UniversalString and the rest: the fallback decodes them.
  throw new NameTextUnsupported(`string type 0x${el.tag.toString(16)} in a name`);
}

/** Formats a DER Name (`C=US, O=Example, CN=leaf`, in DER order) as @peculiar/x509's Name.toString() does. */
export function nameText(nameDer: Uint8Array): string {
  const name = readElement(nameDer, 0);
  if (name.tag !== Tag.SEQUENCE || name.end !== nameDer.length) throw new DerError('Name is not a SEQUENCE');
  const rdns = children(nameDer, name);
  if (rdns.length === 0) throw new NameTextUnsupported('empty name');
  const parts: string[] = [];
  for (const rdn of rdns) {
    if (rdn.tag !== Tag.SET) throw new DerError('RelativeDistinguishedName is not a SET');
    const atvs = children(nameDer, rdn);
    if (atvs.length !== 1) throw new NameTextUnsupported('multi-valued RDN');
    const [typeEl, valueEl, extra] = children(nameDer, atvs[0]!);
    if (!typeEl || !valueEl || extra) throw new DerError('malformed AttributeTypeAndValue');
    const type = readOid(nameDer, typeEl);
    parts.push(`${SHORT_NAMES[type] ?? type}=${escapeValue(attributeValue(nameDer, valueEl))}`);
  }
  return parts.join(', ');
}

const URI = 0x86; // GeneralName uniformResourceIdentifier [6] IMPLICIT IA5String
/** The GeneralName CHOICE tags (RFC 5280 4.2.1.6); anything else does not decode. */
const GENERAL_NAME_TAGS = new Set([0xa0, 0x81, 0x82, 0xa3, 0xa4, 0xa5, 0x86, 0x87, 0x88]);

function checkGeneralName(el: DerElement): void {
  if (!GENERAL_NAME_TAGS.has(el.tag)) throw new DerError(`GeneralName with tag 0x${el.tag.toString(16)}`);
}

function uriText(buf: Uint8Array, el: DerElement): string {
  // IA5String: anything outside printable ASCII is left to the full model's decoder.
  for (let i = el.contentStart; i < el.end; i++)
    if (buf[i]! > 0x7e || buf[i]! < 0x20) throw new NameTextUnsupported('non-ASCII byte in a URI');
  return Buffer.from(buf.buffer, buf.byteOffset + el.contentStart, el.end - el.contentStart).toString('latin1');
}

function extensionRoot(cert: RawCertificate, oid: string): { value: Uint8Array; root: DerElement } | null {
  const ext = cert.extensions.get(oid);
  if (!ext) return null;
  const root = readElement(ext.value, 0);
  if (root.end !== ext.value.length) throw new DerError(`trailing bytes in extension ${oid}`);
  return { value: ext.value, root };
}

/** AuthorityInfoAccess URIs, by access method, in order. */
export function authorityInfoAccessUrls(cert: RawCertificate): { ocsp: string[]; caIssuers: string[] } {
  const out = { ocsp: [] as string[], caIssuers: [] as string[] };
  const ext = extensionRoot(cert, Oid.authorityInfoAccess);
  if (!ext) return out;
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('AuthorityInfoAccess is not a SEQUENCE');
  for (const ad of children(ext.value, ext.root)) {
    const [methodEl, nameEl, extra] = children(ext.value, ad);
    if (ad.tag !== Tag.SEQUENCE || !methodEl || !nameEl || extra) throw new DerError('malformed AccessDescription');
    const method = readOid(ext.value, methodEl);
    checkGeneralName(nameEl);
    if (nameEl.tag !== URI) continue;
    if (method === Oid.accessOcsp) out.ocsp.push(uriText(ext.value, nameEl));
    else if (method === Oid.accessCaIssuers) out.caIssuers.push(uriText(ext.value, nameEl));
  }
  return out;
}

/** URIs of every DistributionPoint's fullName, in order (RFC 5280 4.2.1.13). */
export function crlDistributionPointUrls(cert: RawCertificate): string[] {
  const out: string[] = [];
  const ext = extensionRoot(cert, Oid.crlDistributionPoints);
  if (!ext) return out;
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('CRLDistributionPoints is not a SEQUENCE');
  for (const dp of children(ext.value, ext.root)) {
    if (dp.tag !== Tag.SEQUENCE) throw new DerError('DistributionPoint is not a SEQUENCE');
    for (const field of children(ext.value, dp)) {
      if (field.tag === 0x81 || field.tag === 0xa2) continue; // reasons [1], cRLIssuer [2]
      if (field.tag !== 0xa0) throw new DerError(`DistributionPoint field with tag 0x${field.tag.toString(16)}`);
      const dpName = readElement(ext.value, field.contentStart, field.end);
      if (dpName.end !== field.end) throw new DerError('trailing bytes in distributionPoint');
      if (dpName.tag === 0xa1) continue; // nameRelativeToCRLIssuer [1]
      if (dpName.tag !== 0xa0) throw new DerError(`DistributionPointName with tag 0x${dpName.tag.toString(16)}`);
      for (const gn of children(ext.value, dpName)) {
        checkGeneralName(gn);
        if (gn.tag === URI) out.push(uriText(ext.value, gn));
      }
    }
  }
  return out;
}

/** BasicConstraints cA (DEFAULT FALSE); false when the extension is absent. */
export function basicConstraintsCa(cert: RawCertificate): boolean {
  const ext = extensionRoot(cert, Oid.basicConstraints);
  if (!ext) return false;
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('BasicConstraints is not a SEQUENCE');
  const fields = children(ext.value, ext.root);
  let i = 0;
  const ca = fields[0]?.tag === Tag.BOOLEAN ? readBoolean(ext.value, fields[i++]!) : false;
  if (fields[i]?.tag === Tag.INTEGER) i++; // pathLenConstraint
  if (i !== fields.length) throw new DerError('malformed BasicConstraints');
  return ca;
}

/**
 * The policyIdentifiers of certificatePolicies (RFC 5280 4.2.1.4), in
 * certificate order; empty when the extension is absent. The S/MIME BR reads
 * the generation from them (7.1.6.1). Throws DerError on a malformed extension.
 */
export function certificatePolicyOids(cert: RawCertificate): string[] {
  const ext = extensionRoot(cert, Oid.certificatePolicies);
  if (!ext) return [];
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('CertificatePolicies is not a SEQUENCE');
  return children(ext.value, ext.root).map((info) => {
    if (info.tag !== Tag.SEQUENCE) throw new DerError('PolicyInformation is not a SEQUENCE');
    const id = children(ext.value, info)[0];
    if (id?.tag !== Tag.OID) throw new DerError('PolicyInformation has no policyIdentifier');
    return readOid(ext.value, id);
  });
}

/** SubjectKeyIdentifier as lowercase hex, or null. */
export function subjectKeyId(cert: RawCertificate): string | null {
  const ext = extensionRoot(cert, Oid.subjectKeyIdentifier);
  if (!ext) return null;
  if (ext.root.tag !== Tag.OCTET_STRING) throw new DerError('SubjectKeyIdentifier is not an OCTET STRING');
  return Buffer.from(contentOf(ext.value, ext.root)).toString('hex');
}

/** AuthorityKeyIdentifier keyIdentifier [0] as lowercase hex, or null. */
export function authorityKeyId(cert: RawCertificate): string | null {
  const ext = extensionRoot(cert, Oid.authorityKeyIdentifier);
  if (!ext) return null;
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('AuthorityKeyIdentifier is not a SEQUENCE');
  const fields = children(ext.value, ext.root);
  // keyIdentifier [0], authorityCertIssuer [1], authorityCertSerialNumber [2]
  for (const el of fields)
    if (el.tag !== 0x80 && el.tag !== 0xa1 && el.tag !== 0x82)
      throw new DerError(`AuthorityKeyIdentifier field with tag 0x${el.tag.toString(16)}`);
  const keyId = fields.find((el) => el.tag === 0x80);
  return keyId ? Buffer.from(contentOf(ext.value, keyId)).toString('hex') : null;
}

/** ExtendedKeyUsage OIDs; empty when the extension is absent. */
export function extendedKeyUsageOids(cert: RawCertificate): string[] {
  const ext = extensionRoot(cert, Oid.extKeyUsage);
  if (!ext) return [];
  if (ext.root.tag !== Tag.SEQUENCE) throw new DerError('ExtendedKeyUsage is not a SEQUENCE');
  return children(ext.value, ext.root).map((el) => readOid(ext.value, el));
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
 * The subjectAltName entries (RFC 5280 4.2.1.6) a reader of a report
 * recognises: DNS names, IP addresses and email addresses (prefixed
 * "email:"), in certificate order. Throws DerError on a malformed extension.
 */
export function subjectAltNameTexts(cert: RawCertificate): string[] {
  const ext = cert.extensions.get(Oid.subjectAltName);
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
}
