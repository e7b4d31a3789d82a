/**
 * One key for a distinguished name written as text, whatever its spelling: RFC 4514 (`CN=X, O=Y, C=US`, most
 * specific first), OpenSSL's (`C = US, O = Y, CN = X`, or `/C=US/O=Y/CN=X`), long attribute names
 * (`commonName=X`) or OIDs (`2.5.4.3=X`). A name is compared as the set of its attributes, types folded to their
 * short names, values unescaped (RFC 4514 2.4: `\,` and `\2C`) and unquoted, with case and runs of spaces
 * folded: RFC 5280 7.1 compares names after case-folding and whitespace compression too.
 *
 * Text is only ever a way to find candidates: an incident appendix's Issuer column (track/appendix-issuer.ts)
 * and the CCADB's CA certificates looked up by subject text (ccadb/issuers.ts) both still decide by the
 * certificate itself (its key, its signature).
 */

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
