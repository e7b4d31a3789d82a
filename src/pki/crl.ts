/**
 * A streaming-style CRL scanner (RFC 5280 section 5).
 *
 * Real CRLs reach 17-100 MB and millions of entries; object-building parsers
 * need tens of seconds and gigabytes for them (see issue #2's measurements).
 * This scanner walks the TBSCertList once, builds no object per entry, and
 * only decodes the entries whose serials were asked for. The signature is
 * verified over the TBS bytes with node:crypto, synchronously: the callback
 * form of crypto.verify() was measured to block this thread for as long as
 * the digest itself (Node copies and prepares the input up front), so it
 * bought no overlap and cost a thread hop.
 */
import type { KeyObject } from 'node:crypto';
import { x509 } from './x509-lazy.js';
import { nameText } from './certificate-fields.js';
import {
  DerError,
  Tag,
  bytesOf,
  children,
  contentOf,
  expectElement,
  parseTime,
  RFC5280_EARLIEST_TIME,
  readBoolean,
  readElement,
  readOid,
  readSmallInt,
  serialContent,
  type DerElement,
} from './der.js';
import { Oid } from './oids.js';
import { md5Refusal, parseSignatureAlgorithm, signatureBytes, verifySignature, type SignatureAlgorithm } from './signature.js';
import { KeyUsageBit, certificateKey, keyUsageAllows, sameBytes, type RawCertificate } from './raw-certificate.js';
import { iso } from '../time.js';

export type CrlProblemCode =
  | 'unknown-critical-extension'
  | 'unknown-critical-entry-extension'
  | 'indirect-crl-unsupported'
  | 'delta-crl'
  | 'partial-reasons'
  | 'weak-signature-algorithm'
  | 'unsupported-signature-algorithm'
  | 'bad-signature'
  | 'issuer-name-mismatch'
  | 'issuer-not-crl-signer'
  | 'stale'
  | 'not-yet-valid'
  | 'no-next-update'
  | 'invalid-reason-code'
  | 'time-before-1950'
  | 'empty-issuing-distribution-point'
  | 'revocation-after-this-update'
  | 'duplicate-entry';

/** Problems that make a CRL unusable as evidence, whatever the time. */
export const CRL_UNUSABLE_CODES: ReadonlySet<CrlProblemCode> = new Set<CrlProblemCode>([
  'unknown-critical-extension',
  'unknown-critical-entry-extension',
  'indirect-crl-unsupported',
  'delta-crl',
  'bad-signature',
  'issuer-name-mismatch',
  'issuer-not-crl-signer',
  'unsupported-signature-algorithm',
  'time-before-1950',
  'empty-issuing-distribution-point',
]);

export interface CrlProblem {
  readonly code: CrlProblemCode;
  readonly message: string;
}

export interface CrlEntryMatch {
  readonly serial: string;
  readonly revocationDate: number;
  /** CRLReason code; null when the entry has no reasonCode (RFC 5280 5.3.1: unspecified by omission). */
  readonly reasonCode: number | null;
  readonly invalidityDate: number | null;
}

export interface IssuingDistributionPoint {
  readonly uris: string[];
  readonly onlyContainsUserCerts: boolean;
  readonly onlyContainsCACerts: boolean;
  readonly onlyContainsAttributeCerts: boolean;
  readonly onlySomeReasons: boolean;
  readonly indirectCRL: boolean;
  /** Whether the extension was marked critical (RFC 5280 5.2.5 requires it; set when read from a CRL). */
  readonly critical?: boolean;
}

export interface CrlScan {
  readonly version: number;
  readonly issuer: string;
  readonly issuerName: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly thisUpdate: number;
  readonly nextUpdate: number | null;
  /** Decimal, as CRL numbers can be 20 octets (RFC 5280 5.2.3). */
  readonly crlNumber: string | null;
  readonly deltaCrlIndicator: string | null;
  readonly issuingDistributionPoint: IssuingDistributionPoint | null;
  readonly entries: number;
  readonly matches: ReadonlyMap<string, CrlEntryMatch>;
  /** Serials looked up that the CRL lists more than once: every revocationDate given, in the order listed. */
  readonly duplicates: ReadonlyMap<string, readonly number[]>;
  /** true/false once checked against an issuer; null when no issuer was given. */
  readonly signatureValid: boolean | null;
  /** False when the CRL must not be relied on: bad signature, unknown critical extension, indirect or delta CRL. */
  readonly usable: boolean;
  readonly problems: readonly CrlProblem[];
}

export interface ScanCrlOptions {
  /** Serials to look up, as hex (any case, leading zeros ignored). */
  readonly serials?: Iterable<string>;
  /** The CRL issuer's certificate; without it the signature is not checked. */
  readonly issuer?: RawCertificate | null;
  /** The time freshness is judged at (epoch ms). */
  readonly at: number;
}

/**
 * How far an entry's revocationDate may lie after the CRL's thisUpdate before
 * the CRL counts as contradicting itself. Not zero: CAs date thisUpdate back
 * for relying parties with slow clocks (Microsoft AD CS by 10 minutes by
 * default), so a CRL published minutes after a revocation can carry an
 * earlier thisUpdate. An hour covers that and still refuses an entry dated
 * days ahead, whose lateness would count from a time that has not come.
 */
export const REVOCATION_AFTER_THIS_UPDATE_MS = 60 * 60_000;

// Entry extension OIDs end in one byte under 2.5.29 (06 03 55 1d xx).
const ENTRY_REASON = 0x15;
const ENTRY_HOLD = 0x17;
const ENTRY_INVALIDITY = 0x18;
const ENTRY_CERT_ISSUER = 0x1d;

interface WantedSerial {
  readonly serial: string;
  readonly bytes: Buffer;
}

/**
 * Serials to find, indexed for a scan that touches each entry once: a 64 Ki
 * bitmap over the last two bytes rejects almost every entry with one load,
 * and a map keyed by length and last three bytes resolves the rest.
 */
class WantedIndex {
  readonly bitmap = new Uint8Array(8192);
  readonly byKey = new Map<number, WantedSerial[]>();

  constructor(serials: Iterable<string>) {
    for (const raw of serials) {
      const hex = normalizeSerialHex(raw);
      const bytes = serialContent(hex);
      const key = WantedIndex.key(bytes, 0, bytes.length);
      const low = WantedIndex.low16(bytes, 0, bytes.length);
      this.bitmap[low >>> 3]! |= 1 << (low & 7);
      const list = this.byKey.get(key) ?? [];
      if (!list.some((w) => w.serial === hex)) list.push({ serial: hex, bytes });
      this.byKey.set(key, list);
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  static low16(buf: Uint8Array, start: number, len: number): number {
    const end = start + len;
    return (len > 1 ? buf[end - 2]! << 8 : 0) | buf[end - 1]!;
  }

  static key(buf: Uint8Array, start: number, len: number): number {
    const end = start + len;
    const b2 = len > 2 ? buf[end - 3]! : 0;
    const b1 = len > 1 ? buf[end - 2]! : 0;
    return (len & 0xff) * 0x1000000 + (b2 << 16) + ((b1 << 8) | buf[end - 1]!);
  }
}

/** Lowercase hex without separators or leading zero bytes; throws on anything else. */
export function normalizeSerialHex(input: string): string {
  let hex = input.trim().toLowerCase().replace(/[:\s]/g, '');
  const negative = hex.startsWith('-');
  hex = hex.replace(/^-/, '').replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(hex)) throw new DerError(`"${input}" is not a hexadecimal serial number`);
  const stripped = hex.replace(/^0+/, '');
  if (stripped === '') return '00';
  const even = stripped.length % 2 ? `0${stripped}` : stripped;
  return negative ? `-${even}` : even;
}

/**
 * Scans a DER CRL. Structural damage throws DerError; everything a CRL can
 * legitimately say that makes it unusable is returned as a problem instead.
 */
export async function scanCrl(der: Uint8Array, options: ScanCrlOptions): Promise<CrlScan> {
  const problems: CrlProblem[] = [];
  const outer = expectElement(der, 0, der.length, Tag.SEQUENCE, 'CertificateList');
  if (outer.end !== der.length) throw new DerError('trailing bytes after the CRL');
  const tbsEl = expectElement(der, outer.contentStart, outer.end, Tag.SEQUENCE, 'TBSCertList');
  const algEl = expectElement(der, tbsEl.end, outer.end, Tag.SEQUENCE, 'signatureAlgorithm');
  const sigEl = expectElement(der, algEl.end, outer.end, Tag.BIT_STRING, 'signatureValue');

  let signatureAlgorithm: SignatureAlgorithm | null = null;
  let algorithmName: string;
  try {
    signatureAlgorithm = parseSignatureAlgorithm(der, algEl);
    algorithmName = signatureAlgorithm.name;
    if (signatureAlgorithm.hash === 'md5') {
      problems.push({ code: 'unsupported-signature-algorithm', message: md5Refusal(algorithmName) });
    } else if (signatureAlgorithm.weak) {
      problems.push({
        code: 'weak-signature-algorithm',
        message: `signed with ${algorithmName}, which the Baseline Requirements (7.1.3.2) do not allow`,
      });
    }
  } catch (err) {
    algorithmName = readOid(der, readElement(der, algEl.contentStart, algEl.end));
    problems.push({ code: 'unsupported-signature-algorithm', message: (err as Error).message });
  }

  // TBSCertList header fields, in order (RFC 5280 5.1).
  let p = tbsEl.contentStart;
  let el = readElement(der, p, tbsEl.end);
  let version = 1;
  if (el.tag === Tag.INTEGER) {
    version = readSmallInt(der, el) + 1;
    p = el.end;
    el = readElement(der, p, tbsEl.end);
  }
  if (el.tag !== Tag.SEQUENCE) throw new DerError('TBSCertList signature is not an AlgorithmIdentifier');
  const innerAlg = bytesOf(der, el);
  if (!sameBytes(innerAlg, bytesOf(der, algEl))) {
    throw new DerError('TBSCertList signature algorithm differs from the outer signatureAlgorithm (RFC 5280 5.1.1.2)');
  }
  const issuerEl = expectElement(der, el.end, tbsEl.end, Tag.SEQUENCE, 'issuer');
  const issuerName = bytesOf(der, issuerEl);
  const thisUpdateEl = readElement(der, issuerEl.end, tbsEl.end);
  const thisUpdate = parseTime(der, thisUpdateEl);
  p = thisUpdateEl.end;
  let nextUpdate: number | null = null;
  let revokedEl: DerElement | null = null;
  let extensionsEl: DerElement | null = null;
  // After thisUpdate: nextUpdate, revokedCertificates and crlExtensions, each
  // optional, each at most once, in this order (RFC 5280 5.1). A second
  // revokedCertificates list (openssl refuses to load such a CRL) must not be
  // read as the only one: which list counts would decide "good" or "revoked".
  let stage = 0;
  while (p < tbsEl.end) {
    el = readElement(der, p, tbsEl.end);
    const at = el.tag === Tag.UTC_TIME || el.tag === Tag.GENERALIZED_TIME ? 1 : el.tag === Tag.SEQUENCE ? 2 : el.tag === 0xa0 ? 3 : 0;
    if (at === 0) throw new DerError(`unexpected tag 0x${el.tag.toString(16)} in TBSCertList`);
    if (at <= stage) throw new DerError(`TBSCertList field with tag 0x${el.tag.toString(16)} repeated or out of order (RFC 5280 5.1)`);
    stage = at;
    if (at === 1) nextUpdate = parseTime(der, el);
    else if (at === 2) revokedEl = el;
    else extensionsEl = el;
    p = el.end;
  }

  let signatureValid: boolean | null = null;
  if (options.issuer) {
    if (!sameBytes(options.issuer.subjectName, issuerName) && !sameName(options.issuer.subjectName, issuerName)) {
      problems.push({ code: 'issuer-name-mismatch', message: "the CRL issuer name is not the given issuer certificate's subject" });
      signatureValid = false;
    } else if (!signatureAlgorithm) {
      signatureValid = false;
    } else if (!crlSignAllowed(options.issuer)) {
      // RFC 5280 6.3.3(f): with keyUsage present, the CRL issuer's certificate must assert cRLSign
      // (openssl verify -crl_check refuses it). The key may still have made the signature; it was not allowed to.
      problems.push({
        code: 'issuer-not-crl-signer',
        message: "the issuer certificate's keyUsage does not include cRLSign, so its key may not sign CRLs (RFC 5280 6.3.3(f))",
      });
      signatureValid = false;
    } else {
      let key: KeyObject | null = null;
      try {
        key = certificateKey(options.issuer);
      } catch {
        key = null;
      }
      signatureValid = key ? verifySignature(signatureAlgorithm, bytesOf(der, tbsEl), key, signatureBytes(der, sigEl)) : false;
    }
  }

  const ext = extensionsEl ? readCrlExtensions(der, extensionsEl, problems) : emptyCrlExtensions();
  const wanted = new WantedIndex(options.serials ?? []);
  const matches = new Map<string, CrlEntryMatch>();
  const duplicates = new Map<string, number[]>();
  const scan = revokedEl
    ? scanEntries(der, revokedEl.contentStart, revokedEl.end, wanted.size ? wanted : null, matches, duplicates)
    : { count: 0, unknownCriticalEntry: false, certificateIssuerSeen: false };
  for (const [serial, dates] of duplicates) {
    problems.push({
      code: 'duplicate-entry',
      message: `serial ${serial} is listed ${dates.length} times (revocationDate ${dates.map(iso).join(', ')}); the earliest is taken`,
    });
  }
  // An entry cannot record a revocation after the CRL that lists it was
  // issued (RFC 5280 5.1.2.6: the date on which the revocation occurred).
  for (const m of matches.values()) {
    if (m.revocationDate > thisUpdate + REVOCATION_AFTER_THIS_UPDATE_MS) {
      problems.push({
        code: 'revocation-after-this-update',
        message: `serial ${m.serial} has revocationDate ${iso(m.revocationDate)}, after the CRL's own thisUpdate ${iso(thisUpdate)}`,
      });
    }
  }

  if (scan.unknownCriticalEntry) {
    problems.push({
      code: 'unknown-critical-entry-extension',
      message: 'an entry carries an unrecognised critical extension, so the CRL cannot be relied on (RFC 5280 5.3)',
    });
  }
  if (scan.certificateIssuerSeen || ext.idp?.indirectCRL) {
    problems.push({
      code: 'indirect-crl-unsupported',
      message: 'indirect CRL (certificateIssuer entries) is not supported: entries may belong to another issuer',
    });
  }
  for (const m of matches.values()) {
    if (m.reasonCode !== null && (m.reasonCode === 7 || m.reasonCode < 0 || m.reasonCode > 10)) {
      problems.push({
        code: 'invalid-reason-code',
        message: `serial ${m.serial} has reasonCode ${m.reasonCode}, which RFC 5280 5.3.1 does not define`,
      });
    }
  }
  if (nextUpdate === null) {
    problems.push({ code: 'no-next-update', message: 'the CRL has no nextUpdate (RFC 5280 5.1.2.5 requires one)' });
  } else if (options.at > nextUpdate) {
    problems.push({ code: 'stale', message: `stale: nextUpdate ${iso(nextUpdate)} has passed` });
  }
  if (thisUpdate > options.at) {
    problems.push({ code: 'not-yet-valid', message: `thisUpdate ${iso(thisUpdate)} is in the future` });
  }

  // RFC 5280 5.1.2.4-5.1.2.6: CRL times are UTCTime through 2049 and
  // GeneralizedTime from 2050, so nothing before 1950 is a real date. Such a
  // CRL cannot say when it was issued, so it is not evidence.
  const earlyTimes: [string, number | null][] = [
    ['thisUpdate', thisUpdate],
    ['nextUpdate', nextUpdate],
  ];
  for (const m of matches.values()) earlyTimes.push([`revocationDate of serial ${m.serial}`, m.revocationDate]);
  for (const [field, time] of earlyTimes) {
    if (time !== null && time < RFC5280_EARLIEST_TIME) {
      problems.push({ code: 'time-before-1950', message: `${field} ${iso(time)} is before 1950, which RFC 5280 5.1.2.4 does not allow` });
    }
  }

  if (signatureValid === false && !problems.some((x) => x.code === 'issuer-name-mismatch' || x.code === 'issuer-not-crl-signer')) {
    problems.push({ code: 'bad-signature', message: "the CRL signature does not verify with the issuer's key" });
  }
  return {
    version,
    issuer: nameToString(issuerName),
    issuerName,
    signatureAlgorithm: algorithmName,
    thisUpdate,
    nextUpdate,
    crlNumber: ext.crlNumber,
    deltaCrlIndicator: ext.deltaCrlIndicator,
    issuingDistributionPoint: ext.idp,
    entries: scan.count,
    matches,
    duplicates,
    signatureValid,
    usable: !problems.some((x) => CRL_UNUSABLE_CODES.has(x.code)),
    problems,
  };
}

interface EntryScan {
  count: number;
  unknownCriticalEntry: boolean;
  certificateIssuerSeen: boolean;
}

/**
 * Throws for a malformed entry. Kept out of line on purpose: `throw new
 * DerError(`...`)` written inside the hot loops below made V8 compile them
 * several times slower (measured: 22 ms against 7 ms per million entries).
 */
function malformedEntry(index: number, what: string): never {
  throw new DerError(`revokedCertificates entry ${index}: ${what}`);
}

/**
 * The hot loop: one pass over revokedCertificates with inline DER header
 * decoding. Only entries whose serial is wanted are decoded further.
 */
function scanEntries(
  buf: Uint8Array,
  start: number,
  end: number,
  wanted: WantedIndex | null,
  out: Map<string, CrlEntryMatch>,
  duplicates: Map<string, number[]>,
): EntryScan {
  let p = start;
  let count = 0;
  let unknownCriticalEntry = false;
  let certificateIssuerSeen = false;
  const bitmap = wanted ? wanted.bitmap : null;
  while (p < end) {
    if (buf[p] !== 0x30) malformedEntry(count, 'not a SEQUENCE');
    let len = buf[p + 1]!;
    let q = p + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4) malformedEntry(count, 'bad length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[q++]!;
    }
    const entryEnd = q + len;
    if (entryEnd > end) malformedEntry(count, 'runs past revokedCertificates');
    if (buf[q] !== 0x02) malformedEntry(count, 'no serial number');
    let slen = buf[q + 1]!;
    q += 2;
    if (slen & 0x80) {
      const n = slen & 0x7f;
      if (n === 0 || n > 2) malformedEntry(count, 'bad serial length');
      slen = 0;
      for (let i = 0; i < n; i++) slen = slen * 256 + buf[q++]!;
    }
    let sStart = q;
    q += slen;
    const timeTag = buf[q];
    if ((timeTag !== 0x17 && timeTag !== 0x18) || q >= entryEnd) malformedEntry(count, 'no revocationDate');
    const timeStart = q;
    if (buf[q + 1]! & 0x80) malformedEntry(count, 'revocationDate length is not DER');
    q += 2 + buf[q + 1]!;
    if (q > entryEnd) malformedEntry(count, 'revocationDate runs past the entry');
    if (q < entryEnd) {
      // crlEntryExtensions: only the critical flags and certificateIssuer
      // matter for every entry (RFC 5280 5.3: an unrecognised critical entry
      // extension makes the CRL unusable for that certificate and, for a
      // relying party that cannot tell, for all of them).
      const flags = checkEntryExtensions(buf, q, entryEnd, count);
      if (flags & 1) unknownCriticalEntry = true;
      if (flags & 2) certificateIssuerSeen = true;
    }
    if (bitmap !== null) {
      // Compare minimal two's-complement forms: drop redundant sign bytes
      // (BER leniency in some CRLs) but keep the one that carries the sign.
      while (slen > 1 && ((buf[sStart] === 0 && !(buf[sStart + 1]! & 0x80)) || (buf[sStart] === 0xff && buf[sStart + 1]! & 0x80))) {
        sStart++;
        slen--;
      }
      const sEnd = sStart + slen;
      const low = slen > 1 ? (buf[sEnd - 2]! << 8) | buf[sEnd - 1]! : buf[sEnd - 1]!;
      if (bitmap[low >>> 3]! & (1 << (low & 7))) matchCandidates(buf, wanted!, sStart, slen, timeStart, q, entryEnd, out, duplicates);
    }
    count++;
    p = entryEnd;
  }
  return { count, unknownCriticalEntry, certificateIssuerSeen };
}

/** The cold path: an entry passed the bitmap; confirm it byte for byte. */
function matchCandidates(
  buf: Uint8Array,
  wanted: WantedIndex,
  sStart: number,
  slen: number,
  timeStart: number,
  extStart: number,
  entryEnd: number,
  out: Map<string, CrlEntryMatch>,
  duplicates: Map<string, number[]>,
): void {
  const candidates = wanted.byKey.get(WantedIndex.key(buf, sStart, slen));
  if (!candidates) return;
  for (const c of candidates) {
    if (c.bytes.length === slen && sameBytes(c.bytes, buf.subarray(sStart, sStart + slen))) {
      const entry = decodeEntry(buf, c.serial, timeStart, extStart, entryEnd);
      const earlier = out.get(c.serial);
      if (!earlier) {
        out.set(c.serial, entry);
        continue;
      }
      // One serial listed twice: the earliest claim stands, whatever the order of the entries, and is flagged.
      const dates = duplicates.get(c.serial) ?? [earlier.revocationDate];
      dates.push(entry.revocationDate);
      duplicates.set(c.serial, dates);
      if (entry.revocationDate < earlier.revocationDate) out.set(c.serial, entry);
    }
  }
}

/**
 * Returns bit 1 for an unknown critical extension, bit 2 for certificateIssuer.
 * Runs for every entry that has extensions (about half of a real CRL), so it
 * decodes headers inline and allocates nothing.
 */
function checkEntryExtensions(buf: Uint8Array, start: number, end: number, index: number): number {
  if (buf[start] !== 0x30) malformedEntry(index, 'extensions are not a SEQUENCE');
  let p = start + 1;
  let len = buf[p++]!;
  if (len & 0x80) {
    // DER means DER: an indefinite length (n = 0) read as empty hid every
    // extension behind it, a critical unknown one included.
    const n = len & 0x7f;
    if (n === 0 || n > 4) malformedEntry(index, 'extensions length is not DER');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const listEnd = p + len;
  if (listEnd !== end) malformedEntry(index, listEnd > end ? 'extensions run past the entry' : 'bytes after the extensions');
  let flags = 0;
  while (p < listEnd) {
    if (buf[p] !== 0x30) malformedEntry(index, 'malformed extension');
    let q = p + 1;
    let extLen = buf[q++]!;
    if (extLen & 0x80) {
      const n = extLen & 0x7f;
      if (n === 0 || n > 4) malformedEntry(index, 'extension length is not DER');
      extLen = 0;
      for (let i = 0; i < n; i++) extLen = extLen * 256 + buf[q++]!;
    }
    const extEnd = q + extLen;
    if (extEnd > listEnd || buf[q] !== 0x06 || buf[q + 1]! & 0x80) malformedEntry(index, 'malformed extension');
    const oidLen = buf[q + 1]!;
    const oidStart = q + 2;
    q = oidStart + oidLen;
    // Entry extensions revwatch knows are all 2.5.29.x: 06 03 55 1d xx.
    const last = oidLen === 3 && buf[oidStart] === 0x55 && buf[oidStart + 1] === 0x1d ? buf[oidStart + 2]! : -1;
    if (last === ENTRY_CERT_ISSUER) flags |= 2;
    if (buf[q] === 0x01 && buf[q + 1] === 1 && buf[q + 2] !== 0) {
      if (last !== ENTRY_REASON && last !== ENTRY_INVALIDITY && last !== ENTRY_CERT_ISSUER && last !== ENTRY_HOLD) flags |= 1;
    }
    p = extEnd;
  }
  return flags;
}

function decodeEntry(buf: Uint8Array, serial: string, timeStart: number, extStart: number, entryEnd: number): CrlEntryMatch {
  const revocationDate = parseTime(buf, readElement(buf, timeStart, extStart));
  let reasonCode: number | null = null;
  let invalidityDate: number | null = null;
  if (extStart < entryEnd) {
    const list = readElement(buf, extStart, entryEnd);
    for (const ext of children(buf, list)) {
      const parts = children(buf, ext);
      const value = parts[parts.length - 1];
      if (!value || parts.length < 2 || value.tag !== Tag.OCTET_STRING) throw new DerError(`entry ${serial} extension without a value`);
      const oid = readOid(buf, parts[0]!);
      const inner = readElement(buf, value.contentStart, value.end);
      if (oid === Oid.reasonCode) {
        if (inner.tag !== Tag.ENUMERATED) throw new DerError(`entry ${serial} reasonCode is not ENUMERATED`);
        reasonCode = readSmallInt(buf, inner);
      } else if (oid === Oid.invalidityDate) {
        invalidityDate = parseTime(buf, inner);
      }
    }
  }
  return { serial, revocationDate, reasonCode, invalidityDate };
}

interface CrlExtensions {
  crlNumber: string | null;
  deltaCrlIndicator: string | null;
  idp: IssuingDistributionPoint | null;
}

const emptyCrlExtensions = (): CrlExtensions => ({ crlNumber: null, deltaCrlIndicator: null, idp: null });

/** CRL extensions revwatch understands (RFC 5280 5.2); others that are critical make the CRL unusable. */
const KNOWN_CRL_EXTENSIONS = new Set<string>([
  Oid.authorityKeyIdentifier,
  Oid.issuerAltName,
  Oid.crlNumber,
  Oid.deltaCrlIndicator,
  Oid.issuingDistributionPoint,
  Oid.freshestCrl,
  Oid.authorityInfoAccess,
]);

function readCrlExtensions(buf: Uint8Array, wrapper: DerElement, problems: CrlProblem[]): CrlExtensions {
  const result = emptyCrlExtensions();
  const list = expectElement(buf, wrapper.contentStart, wrapper.end, Tag.SEQUENCE, 'crlExtensions');
  for (const ext of children(buf, list)) {
    // Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 4.1):
    // an empty or short one is damage, refused like any other.
    if (ext.tag !== Tag.SEQUENCE) throw new DerError('crlExtensions: an extension is not a SEQUENCE');
    const parts = children(buf, ext);
    const [oidEl, second] = parts;
    const valueEl = parts[parts.length - 1];
    if (!oidEl || !valueEl || parts.length < 2 || parts.length > 3 || valueEl.tag !== Tag.OCTET_STRING) {
      throw new DerError('crlExtensions: an extension is not { extnID, critical, extnValue }');
    }
    const oid = readOid(buf, oidEl);
    const critical = parts.length === 3 && second ? readBoolean(buf, second) : false;
    const value = contentOf(buf, valueEl);
    if (!KNOWN_CRL_EXTENSIONS.has(oid) && critical) {
      problems.push({ code: 'unknown-critical-extension', message: `unrecognised critical CRL extension ${oid} (RFC 5280 5.2)` });
      continue;
    }
    if (oid === Oid.crlNumber) {
      result.crlNumber = bigIntegerDecimal(value);
    } else if (oid === Oid.deltaCrlIndicator) {
      result.deltaCrlIndicator = bigIntegerDecimal(value);
      problems.push({
        code: 'delta-crl',
        message: `delta CRL (base CRL ${result.deltaCrlIndicator}): a delta alone cannot show that a certificate is not revoked`,
      });
    } else if (oid === Oid.issuingDistributionPoint) {
      result.idp = { ...parseIssuingDistributionPoint(value), critical };
      if (isEmptySequence(value)) {
        // RFC 5280 5.2.5: "conforming CRL issuers MUST NOT issue CRLs where
        // the DER encoding of the issuing distribution point extension is an
        // empty sequence". Its scope is then unknown (openssl's crltest
        // kEmptyIdpCRL expects the CRL to be refused), so it proves nothing.
        problems.push({
          code: 'empty-issuing-distribution-point',
          message: "the issuingDistributionPoint extension is an empty SEQUENCE (RFC 5280 5.2.5 forbids it), so the CRL's scope is unknown",
        });
      }
      if (result.idp.onlySomeReasons) {
        problems.push({ code: 'partial-reasons', message: 'the CRL covers only some revocation reasons (onlySomeReasons)' });
      }
    }
  }
  return result;
}

function bigIntegerDecimal(value: Uint8Array): string {
  const el = readElement(value, 0);
  if (el.tag !== Tag.INTEGER) throw new DerError('expected an INTEGER');
  const hex = Buffer.from(contentOf(value, el)).toString('hex');
  return BigInt(`0x${hex || '0'}`).toString(10);
}

function isEmptySequence(value: Uint8Array): boolean {
  const el = readElement(value, 0);
  return el.tag === Tag.SEQUENCE && el.contentStart === el.end;
}

/** IssuingDistributionPoint (RFC 5280 5.2.5). */
export function parseIssuingDistributionPoint(value: Uint8Array): IssuingDistributionPoint {
  const seqEl = readElement(value, 0);
  const idp = {
    uris: [] as string[],
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    onlyContainsAttributeCerts: false,
    onlySomeReasons: false,
    indirectCRL: false,
  };
  for (const field of children(value, seqEl)) {
    const flag = (): boolean => field.end - field.contentStart === 1 && value[field.contentStart] !== 0;
    switch (field.tag) {
      case 0xa0: {
        const dpName = readElement(value, field.contentStart, field.end);
        if (dpName.tag === 0xa0) {
          for (const gn of children(value, dpName)) {
            if (gn.tag === 0x86) idp.uris.push(Buffer.from(contentOf(value, gn)).toString('latin1'));
          }
        }
        break;
      }
      case 0x81:
        idp.onlyContainsUserCerts = flag();
        break;
      case 0x82:
        idp.onlyContainsCACerts = flag();
        break;
      case 0x83:
        idp.onlySomeReasons = true;
        break;
      case 0x84:
        idp.indirectCRL = flag();
        break;
      case 0x85:
        idp.onlyContainsAttributeCerts = flag();
        break;
      default:
        break;
    }
  }
  return idp;
}

/** A Name as text: revwatch's own reader first (same output), @peculiar/x509 for what it does not render. */
export function nameToString(der: Uint8Array): string {
  try {
    return nameText(der);
  } catch {
    // multi-valued RDN, empty or malformed name: the library decides
  }
  try {
    return new (x509().Name)(Buffer.from(der)).toString();
  } catch {
    return Buffer.from(der).toString('hex');
  }
}

function crlSignAllowed(issuer: RawCertificate): boolean {
  try {
    return keyUsageAllows(issuer, KeyUsageBit.cRLSign);
  } catch {
    return false; // an unreadable keyUsage grants nothing
  }
}

function sameName(a: Uint8Array, b: Uint8Array): boolean {
  return nameToString(a) === nameToString(b);
}

/** True when `der` starts like a CRL: a SEQUENCE whose TBS holds an issuer and a time where a CRL has them. */
export function looksLikeCrl(der: Uint8Array): boolean {
  try {
    const outer = readElement(der, 0);
    const tbs = readElement(der, outer.contentStart, outer.end);
    if (tbs.tag !== Tag.SEQUENCE) return false;
    let el = readElement(der, tbs.contentStart, tbs.end);
    if (el.tag === Tag.INTEGER) el = readElement(der, el.end, tbs.end);
    if (el.tag !== Tag.SEQUENCE) return false;
    const issuer = readElement(der, el.end, tbs.end);
    if (issuer.tag !== Tag.SEQUENCE) return false;
    const t = readElement(der, issuer.end, tbs.end);
    return t.tag === Tag.UTC_TIME || t.tag === Tag.GENERALIZED_TIME;
  } catch {
    return false;
  }
}
