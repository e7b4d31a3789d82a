/**
 * Every entry of a CRL, for the revocation index: serial, claimed
 * revocationDate and reasonCode (RFC 5280 5.1.2.6, 5.3.1). The probe's
 * scanner (pki/crl.ts) decodes only the serials it is asked about; a sweep
 * needs them all, sorted, so two snapshots of one URL can be compared by a
 * merge (sweep/revocation-index.ts). Call it on a CRL scanCrl has already
 * read: this walks the same TBSCertList fields and throws DerError on damage.
 */
import { DerError, Tag, expectElement, parseTime, readElement, readOid, readSmallInt, serialHex } from '../pki/der.js';
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
  // One pass over the entries with no object per DER element (the element's bounds are kept in `at`), no array
  // per entry and no string per extension OID: a first sweep reads every entry of every CRL, millions of them
  // (the OID is compared as its DER bytes, 55 1d 15 = 2.5.29.21).
  const text = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const entries: CrlEntry[] = [];
  const at = { contentStart: 0, end: 0 };
  for (let p = list.contentStart; p < list.end; ) {
    header(der, p, list.end, at);
    const entryStart = at.contentStart;
    const entryEnd = at.end;
    p = entryEnd;
    if (entryStart >= entryEnd) throw new DerError('a revokedCertificates entry without serial or date');
    const serialTag = header(der, entryStart, entryEnd, at);
    const serialStart = at.contentStart;
    const serialEnd = at.end;
    if (serialEnd >= entryEnd) throw new DerError('a revokedCertificates entry without serial or date');
    const dateTag = header(der, serialEnd, entryEnd, at);
    const dateStart = at.contentStart;
    const dateEnd = at.end;
    if (serialTag !== Tag.INTEGER) throw new DerError('a revokedCertificates entry without serial or date');
    let reasonCode: number | null = null;
    if (dateEnd < entryEnd) {
      header(der, dateEnd, entryEnd, at);
      const extsStart = at.contentStart;
      const extsEnd = at.end;
      // Anything after crlEntryExtensions is read (and refused if damaged), as a walk over every child would.
      for (let q = extsEnd; q < entryEnd; q = at.end) header(der, q, entryEnd, at);
      for (let q = extsStart; q < extsEnd; ) {
        header(der, q, extsEnd, at);
        const extStart = at.contentStart;
        const extEnd = at.end;
        q = extEnd;
        // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 4.1)
        let count = 0;
        let firstTag = 0;
        let firstStart = 0;
        let firstEnd = 0;
        let valueStart = 0;
        let valueEnd = 0;
        for (let r = extStart; r < extEnd; count++) {
          const tag = header(der, r, extEnd, at);
          if (count === 0) {
            firstTag = tag;
            firstStart = at.contentStart;
            firstEnd = at.end;
          }
          valueStart = at.contentStart;
          valueEnd = at.end;
          r = at.end;
        }
        if (count < 2) continue;
        if (!isReasonCodeOid(der, firstTag, firstStart, firstEnd)) continue;
        const innerTag = header(der, valueStart, valueEnd, at);
        if (innerTag === Tag.ENUMERATED) reasonCode = readSmallInt(der, { tag: innerTag, start: valueStart, ...at });
      }
    }
    const revocationDate = parseTime(der, { tag: dateTag, start: serialEnd, contentStart: dateStart, end: dateEnd });
    entries.push({ serial: serialText(text, serialStart, serialEnd), revocationDate, reasonCode });
  }
  if (!sortedBySerial(entries)) sortBySerial(entries);
  // One serial listed twice: the earliest claim stands (as pki/crl.ts decides for a probe).
  const unique: CrlEntry[] = [];
  for (const e of entries) if (unique.length === 0 || unique[unique.length - 1]!.serial !== e.serial) unique.push(e);
  return unique;
}

/** The serial as der.ts serialHex spells it, without a Buffer per entry for the common (positive) case. */
function serialText(der: Buffer, contentStart: number, end: number): string {
  let start = contentStart;
  if (end === start || der[start]! & 0x80) return serialHex(der.subarray(contentStart, end));
  while (start < end - 1 && der[start] === 0) start++;
  return der.toString('hex', start, end);
}

/** Whether an extension's first element is the reasonCode OID; any other OID is decoded (a damaged one throws). */
function isReasonCodeOid(der: Uint8Array, tag: number, contentStart: number, end: number): boolean {
  if (tag === Tag.OID && end - contentStart === 3) {
    if (der[contentStart] === 0x55 && der[contentStart + 1] === 0x1d && der[contentStart + 2] === 0x15) return true;
  }
  return readOid(der, { tag, start: contentStart, contentStart, end }) === Oid.reasonCode;
}

/**
 * readElement (pki/der.ts) without the object: the element at `offset` is checked as it checks it (same
 * errors) and its content bounds are put in `into`; its tag is returned.
 */
function header(buf: Uint8Array, offset: number, limit: number, into: { contentStart: number; end: number }): number {
  if (offset + 2 > limit) return readElement(buf, offset, limit).tag;
  const tag = buf[offset]!;
  let p = offset + 1;
  let len = buf[p++]!;
  if ((tag & 0x1f) === 0x1f || len === 0x80 || len > 0x84) return readElement(buf, offset, limit).tag;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (p + n > limit) return readElement(buf, offset, limit).tag;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > limit) return readElement(buf, offset, limit).tag;
  into.contentStart = p;
  into.end = end;
  return tag;
}

const bySerial = (a: CrlEntry, b: CrlEntry): number =>
  a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : a.revocationDate - b.revocationDate;

const hexValue = (c: number): number => (c <= 0x39 ? c - 0x30 : c - 0x57);

/**
 * Sorts by serial (then revocationDate), in place. Serials are random (BR 7.1: 64 bits of CSPRNG output), so
 * the entries are first dealt into buckets by their leading bits (up to the first two bytes, about one bucket an entry) and only each bucket is sorted by
 * comparison: a CRL of a million entries costs about 4 string comparisons an entry, not 20. String order of
 * the hex form is the order of the bytes, a shorter serial first among equal leading bytes: a one-byte serial
 * goes in its byte's first bucket, where the comparison puts it first. A negative serial ("-…") is sorted by
 * comparison alone.
 */
function sortBySerial(entries: CrlEntry[]): void {
  const n = entries.length;
  // About one bucket per entry (at most 65,536, the first two bytes): a small CRL does not pay for empty buckets.
  const bits = Math.min(16, Math.max(1, Math.ceil(Math.log2(n))));
  if (n < 1024) {
    entries.sort(bySerial);
    return;
  }
  const shift = 16 - bits;
  const buckets = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = entries[i]!.serial;
    if (s.charCodeAt(0) === 0x2d) {
      entries.sort(bySerial);
      return;
    }
    const high = (hexValue(s.charCodeAt(0)) << 4) | hexValue(s.charCodeAt(1));
    const key = s.length >= 4 ? (high << 8) | (hexValue(s.charCodeAt(2)) << 4) | hexValue(s.charCodeAt(3)) : high << 8;
    buckets[i] = key >>> shift;
  }
  const count = 1 << bits;
  const starts = new Uint32Array(count + 1);
  for (let i = 0; i < n; i++) starts[buckets[i]! + 1]!++;
  for (let b = 1; b <= count; b++) starts[b]! += starts[b - 1]!;
  const next = starts.slice(0, count);
  const dealt: CrlEntry[] = entries.slice();
  for (let i = 0; i < n; i++) dealt[next[buckets[i]!]!++] = entries[i]!;
  for (let b = 0; b < count; b++) {
    const from = starts[b]!;
    const to = starts[b + 1]!;
    if (to - from <= 24) {
      // Insertion sort: a bucket holds a handful of entries.
      for (let i = from + 1; i < to; i++) {
        const e = dealt[i]!;
        let j = i - 1;
        while (j >= from && bySerial(dealt[j]!, e) > 0) {
          dealt[j + 1] = dealt[j]!;
          j--;
        }
        dealt[j + 1] = e;
      }
    } else {
      const part = dealt.slice(from, to).sort(bySerial);
      for (let i = 0; i < part.length; i++) dealt[from + i] = part[i]!;
    }
  }
  for (let i = 0; i < n; i++) entries[i] = dealt[i]!;
}

/** Already in order, each serial once (many CRLs list their entries by serial): the sort is then skipped. */
function sortedBySerial(entries: readonly CrlEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]!.serial < entries[i]!.serial)) return false;
  return true;
}
