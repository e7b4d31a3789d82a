/**
 * The issuer of an appendix row (`track --appendix`), found by the name the CA
 * wrote in its Issuer column among the certificates given with `--issuer` and
 * the CA certificates the imported CCADB disclosures carry (their PEMs), each
 * read once per command.
 *
 * A name as text comes in several spellings: RFC 4514 (`CN=X, O=Y, C=US`,
 * most specific first), OpenSSL's (`C=US, O=Y, CN=X`, or `/C=US/O=Y/CN=X`),
 * long attribute names (`commonName=X`). Names are compared as the set of
 * their attributes, types folded to their short names, values unescaped, with
 * case and runs of spaces folded: RFC 5280 7.1 compares names after
 * case-folding and whitespace compression too.
 *
 * This is the one place `track --appendix` asks the CCADB for a CA
 * certificate: it reads the DisclosureStore as it is (the disclosures' `pem`),
 * so the lookup can be pointed at a richer store of disclosed CA certificates
 * without touching the rest.
 */
import { readCertificateBlocks, describeCertificate, type CertificateInfo } from '../pki/certificate.js';
import type { StoredDisclosure } from '../ccadb/store.js';
import type { DisclosedCaCertificate } from '../ccadb/issuers.js';

const LONG_NAMES: Record<string, string> = {
  COMMONNAME: 'CN',
  ORGANIZATIONNAME: 'O',
  ORGANIZATIONALUNITNAME: 'OU',
  COUNTRYNAME: 'C',
  LOCALITYNAME: 'L',
  STATEORPROVINCENAME: 'ST',
  S: 'ST',
  SERIALNUMBER: 'SERIALNUMBER',
  EMAILADDRESS: 'E',
  EMAIL: 'E',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  DOMAINCOMPONENT: 'DC',
  STREET: 'STREET',
  '2.5.4.3': 'CN',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
};

/** Splits on separators not escaped by a backslash nor inside double quotes. */
function splitUnescaped(text: string, separators: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (!quoted && separators.includes(ch)) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** A name as text, as a key that equal names share whatever their spelling; null when it is no name. */
export function nameKey(text: string): string | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const parts = trimmed.startsWith('/') ? splitUnescaped(trimmed.slice(1), '/+') : splitUnescaped(trimmed, ',;+');
  const attributes: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      // A comma inside a value that was not escaped (`O=Example, Inc.`): part of the previous value.
      if (attributes.length === 0 || !part.trim()) return null;
      attributes[attributes.length - 1] += `, ${foldValue(part)}`;
      continue;
    }
    const rawType = part.slice(0, eq).trim().toUpperCase();
    const type = LONG_NAMES[rawType] ?? rawType;
    attributes.push(`${type}=${foldValue(part.slice(eq + 1))}`);
  }
  return attributes.length ? attributes.sort().join('\n') : null;
}

function foldValue(value: string): string {
  let v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  return v
    .replace(/\\([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/\\(.)/g, '$1')
    .replace(/\s+/g, ' ')
    .replace(/ ?, ?/g, ', ')
    .trim()
    .toLowerCase();
}

/** Issuer spellings remembered at once (a malformed appendix may spell every row's issuer differently). */
const MAX_SPELLINGS = 10_000;

export interface AppendixIssuers {
  /** The CA certificates whose subject is `name`: the `--issuer` ones when any matches, else the disclosed ones. */
  byName(name: string): CertificateInfo[];
  /** How many disclosed CA certificates were read (for the summary). */
  readonly disclosedCount: number;
}

/**
 * Indexes `given` (--issuer) and the disclosed CA certificates by subject name: those of the "All
 * Certificate PEMs" report (`kept`), and the PEMs of records reports that carried them (V4). A disclosure
 * without a readable PEM is left out.
 */
export function appendixIssuers(
  given: readonly CertificateInfo[],
  disclosures: readonly StoredDisclosure[],
  kept: readonly DisclosedCaCertificate[] = [],
): AppendixIssuers {
  const index = (certs: Iterable<CertificateInfo>): Map<string, CertificateInfo[]> => {
    const out = new Map<string, CertificateInfo[]>();
    for (const c of certs) {
      const key = nameKey(c.subject);
      if (!key) continue;
      const list = out.get(key) ?? [];
      if (!list.some((x) => x.sha256 === c.sha256)) list.push(c);
      out.set(key, list);
    }
    return out;
  };
  const disclosed: CertificateInfo[] = [];
  const pems = [
    ...disclosures.flatMap((d) => (d.pem ? [{ pem: d.pem, label: d.name }] : [])),
    ...kept.map((c) => ({ pem: c.pem, label: c.sha256 })),
  ];
  for (const { pem, label } of pems) {
    try {
      const [der] = readCertificateBlocks(Buffer.from(pem, 'latin1'), label);
      if (der) disclosed.push(describeCertificate(der, `CCADB ${label}`));
    } catch {
      // A PEM that does not parse names no issuer; the rows it would have served are reported as such.
    }
  }
  const givenIndex = index(given);
  const disclosedIndex = index(disclosed);
  // An appendix names the same few issuers on every row, spelled the same way: each spelling is folded once.
  const bySpelling = new Map<string, CertificateInfo[]>();
  return {
    disclosedCount: new Set(disclosed.map((c) => c.sha256)).size,
    byName(name) {
      const known = bySpelling.get(name);
      if (known) return known;
      const key = nameKey(name);
      const found = key ? (givenIndex.get(key) ?? disclosedIndex.get(key) ?? []) : [];
      if (bySpelling.size >= MAX_SPELLINGS) bySpelling.clear();
      bySpelling.set(name, found);
      return found;
    },
  };
}
