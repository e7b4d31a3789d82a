/**
 * Every entry of a CRL, for the revocation index: serial, claimed
 * revocationDate and reasonCode (RFC 5280 5.1.2.6, 5.3.1). The probe's
 * scanner (pki/crl.ts) decodes only the serials it is asked about; a sweep
 * needs them all, sorted, so two snapshots of one URL can be compared by a
 * merge (sweep/revocation-index.ts). Call it on a CRL scanCrl has already
 * read: this walks the same TBSCertList fields and throws DerError on damage.
 */
import { DerError, Tag, children, expectElement, parseTime, readElement, readOid, readSmallInt, serialHex } from '../pki/der.js';
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
  const entries: CrlEntry[] = [];
  for (const entry of children(der, list)) {
    const parts = children(der, entry);
    const serialEl = parts[0];
    const dateEl = parts[1];
    if (!serialEl || serialEl.tag !== Tag.INTEGER || !dateEl) throw new DerError('a revokedCertificates entry without serial or date');
    let reasonCode: number | null = null;
    const extList = parts[2];
    if (extList) {
      for (const ext of children(der, extList)) {
        const extParts = children(der, ext);
        const value = extParts[extParts.length - 1];
        if (!value || extParts.length < 2) continue;
        if (readOid(der, extParts[0]!) !== Oid.reasonCode) continue;
        const inner = readElement(der, value.contentStart, value.end);
        if (inner.tag === Tag.ENUMERATED) reasonCode = readSmallInt(der, inner);
      }
    }
    entries.push({
      serial: serialHex(der.subarray(serialEl.contentStart, serialEl.end)),
      revocationDate: parseTime(der, dateEl),
      reasonCode,
    });
  }
  entries.sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : a.revocationDate - b.revocationDate));
  // One serial listed twice: the earliest claim stands (as pki/crl.ts decides for a probe).
  const unique: CrlEntry[] = [];
  for (const e of entries) if (unique.length === 0 || unique[unique.length - 1]!.serial !== e.serial) unique.push(e);
  return unique;
}
