/**
 * Every entry of a CRL, for the revocation index: serial, claimed
 * revocationDate and reasonCode (RFC 5280 5.1.2.6, 5.3.1). The probe's
 * scanner (pki/crl.ts) decodes only the serials it is asked about; a sweep
 * needs them all, sorted, so two snapshots of one URL can be compared by a
 * merge (sweep/revocation-index.ts). Call it on a CRL scanCrl has already
 * read: this walks the same TBSCertList fields and throws DerError on damage.
 */
import { DerError, Tag, expectElement, parseTime, readElement, readOid, readSmallInt, serialHex, type DerElement } from '../pki/der.js';
import { Oid } from '../pki/oids.js';

export interface CrlEntry {
  /** Lowercase hex, no leading zero bytes (der.ts serialHex). */
  readonly serial: string;
  readonly revocationDate: number;
  /** null when the entry carries no reasonCode (RFC 5280 5.3.1: then "unspecified" by omission). */
  readonly reasonCode: number | null;
}

/** The entries in serial order (plain string order of the hex form); a serial listed twice keeps its earliest claim. */
export function readCrlEntries(der: Uint8Array): CrlEntry[] {
  const outer = expectElement(der, 0, der.length, Tag.SEQUENCE, 'CertificateList');
  const tbs = expectElement(der, outer.contentStart, outer.end, Tag.SEQUENCE, 'TBSCertList');
  // version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, crlExtensions? (RFC 5280 5.1)
  let el = readElement(der, tbs.contentStart, tbs.end);
  if (el.tag === Tag.INTEGER) el = readElement(der, el.end, tbs.end);
  const issuer = readElement(der, el.end, tbs.end);
  let p = readElement(der, issuer.end, tbs.end).end;
  let list = null;
  while (p < tbs.end) {
    el = readElement(der, p, tbs.end);
    if (el.tag === Tag.SEQUENCE) list = el;
    p = el.end;
  }
  if (!list) return [];
  // One pass over the entries with no array per entry and no string per extension OID: a first sweep reads
  // every entry of every CRL, millions of them (the OID is compared as its DER bytes, 55 1d 15 = 2.5.29.21).
  const text = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const entries: CrlEntry[] = [];
  for (let p = list.contentStart; p < list.end; ) {
    const entry = readElement(der, p, list.end);
    p = entry.end;
    const serialEl = entry.contentStart < entry.end ? readElement(der, entry.contentStart, entry.end) : null;
    const dateEl = serialEl && serialEl.end < entry.end ? readElement(der, serialEl.end, entry.end) : null;
    if (!serialEl || serialEl.tag !== Tag.INTEGER || !dateEl) throw new DerError('a revokedCertificates entry without serial or date');
    let reasonCode: number | null = null;
    if (dateEl.end < entry.end) {
      const extList = readElement(der, dateEl.end, entry.end);
      // Anything after crlEntryExtensions is read (and refused if damaged), as a walk over every child would.
      for (let q = extList.end; q < entry.end; ) q = readElement(der, q, entry.end).end;
      for (let q = extList.contentStart; q < extList.end; ) {
        const ext = readElement(der, q, extList.end);
        q = ext.end;
        // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 4.1)
        let first: DerElement | null = null;
        let value: DerElement | null = null;
        let count = 0;
        for (let r = ext.contentStart; r < ext.end; count++) {
          value = readElement(der, r, ext.end);
          first ??= value;
          r = value.end;
        }
        if (!first || !value || count < 2) continue;
        if (!isReasonCodeOid(der, first)) continue;
        const inner = readElement(der, value.contentStart, value.end);
        if (inner.tag === Tag.ENUMERATED) reasonCode = readSmallInt(der, inner);
      }
    }
    entries.push({ serial: serialText(text, serialEl), revocationDate: parseTime(der, dateEl), reasonCode });
  }
  if (!sortedBySerial(entries))
    entries.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : a.revocationDate - b.revocationDate));
  // One serial listed twice: the earliest claim stands (as pki/crl.ts decides for a probe).
  const unique: CrlEntry[] = [];
  for (const e of entries) if (unique.length === 0 || unique[unique.length - 1]!.serial !== e.serial) unique.push(e);
  return unique;
}

/** The serial as der.ts serialHex spells it, without a Buffer per entry for the common (positive) case. */
function serialText(der: Buffer, el: DerElement): string {
  let start = el.contentStart;
  if (el.end === start || der[start]! & 0x80) return serialHex(der.subarray(el.contentStart, el.end));
  while (start < el.end - 1 && der[start] === 0) start++;
  return der.toString('hex', start, el.end);
}

/** Whether an extension's first element is the reasonCode OID; any other OID is decoded (a damaged one throws). */
function isReasonCodeOid(der: Uint8Array, el: DerElement): boolean {
  if (el.tag === Tag.OID && el.end - el.contentStart === 3) {
    const at = el.contentStart;
    if (der[at] === 0x55 && der[at + 1] === 0x1d && der[at + 2] === 0x15) return true;
  }
  return readOid(der, el) === Oid.reasonCode;
}

/** Already in order, each serial once (many CRLs list their entries by serial): the sort is then skipped. */
function sortedBySerial(entries: readonly CrlEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]!.serial < entries[i]!.serial)) return false;
  return true;
}
