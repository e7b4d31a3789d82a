/**
 * A minimal DER (X.690) reader and writer.
 *
 * Why hand-written: parsing CRLs and OCSP responses through object-building
 * ASN.1 libraries is too slow and too memory-hungry for real CRLs (tens of
 * megabytes, millions of entries). This reader never copies: every element is
 * an offset range into the caller's buffer. The writer is used by the local CA
 * (tests, demo, benchmarks) to produce CRLs of any size quickly.
 */

export class DerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DerError';
  }
}

/** Universal and context tags used by X.509, CRLs and OCSP. */
export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number n, constructed (EXPLICIT or IMPLICIT SEQUENCE). */
export const ctxConstructed = (n: number): number => 0xa0 | n;

/** One element: `start` is where its tag is, `contentStart..end` its value. */
export interface DerElement {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/**
 * Reads the element at `offset`, which must end at or before `limit`.
 * Rejects indefinite lengths and high tag numbers, which DER does not use in
 * any structure revwatch reads.
 */
export function readElement(buf: Uint8Array, offset: number, limit: number = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError(`truncated DER at byte ${offset}`);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at byte ${offset}`);
  let p = offset + 1;
  let len = buf[p++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at byte ${offset} is not DER`);
    if (n > 4) throw new DerError(`length of ${n} bytes at byte ${offset} is too large`);
    if (p + n > limit) throw new DerError(`truncated DER length at byte ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > limit) throw new DerError(`element at byte ${offset} runs past its container (${end} > ${limit})`);
  return { tag, start: offset, contentStart: p, end };
}

/** Reads an element and checks its tag. */
export function expectElement(buf: Uint8Array, offset: number, limit: number, tag: number, what: string): DerElement {
  const el = readElement(buf, offset, limit);
  if (el.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${el.tag.toString(16)} at byte ${offset}`);
  }
  return el;
}

/** The children of a constructed element, in order. */
export function children(buf: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  let p = parent.contentStart;
  while (p < parent.end) {
    const el = readElement(buf, p, parent.end);
    out.push(el);
    p = el.end;
  }
  return out;
}

export const contentOf = (buf: Uint8Array, el: DerElement): Uint8Array => buf.subarray(el.contentStart, el.end);
export const bytesOf = (buf: Uint8Array, el: DerElement): Uint8Array => buf.subarray(el.start, el.end);

/** Decodes an OBJECT IDENTIFIER's content to dotted form. */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < content.length; i++) {
    const b = content[i]!;
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

export function readOid(buf: Uint8Array, el: DerElement): string {
  if (el.tag !== Tag.OID) throw new DerError(`expected OBJECT IDENTIFIER, found tag 0x${el.tag.toString(16)}`);
  return decodeOid(contentOf(buf, el));
}

/** Reads a small non-negative INTEGER or ENUMERATED (reason codes, versions). */
export function readSmallInt(buf: Uint8Array, el: DerElement): number {
  const len = el.end - el.contentStart;
  if (len < 1 || len > 6) throw new DerError(`integer of ${len} bytes is not a small integer`);
  let v = 0;
  for (let i = el.contentStart; i < el.end; i++) v = v * 256 + buf[i]!;
  if (buf[el.contentStart]! & 0x80) v -= 2 ** (8 * len);
  return v;
}

/**
 * The serial number form revwatch uses everywhere: lowercase hex, no
 * separators, no leading zero bytes. RFC 5280 4.1.2.2 requires positive
 * serials, but negative ones exist (PKITS 4.4.14/15 test them): those keep
 * their sign as `-` and the magnitude, as openssl prints them, so +255 (DER
 * 00 ff) and -1 (DER ff) never collide.
 */
export function serialHex(content: Uint8Array): string {
  if (content.length === 0) return '00';
  if (content[0]! & 0x80) {
    const value = BigInt(`0x${Buffer.from(content).toString('hex')}`) - (1n << BigInt(content.length * 8));
    const magnitude = (-value).toString(16);
    return `-${magnitude.length % 2 ? `0${magnitude}` : magnitude}`;
  }
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return Buffer.from(content.buffer, content.byteOffset + i, content.length - i).toString('hex');
}

/** The minimal DER INTEGER content for a serial in serialHex form (inverse of serialHex). */
export function serialContent(serial: string): Buffer {
  if (!serial.startsWith('-')) return integerContent(serial);
  const magnitude = BigInt(`0x${serial.slice(1)}`);
  let bytes = 1;
  while (-magnitude < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  const twos = (1n << BigInt(bytes * 8)) - magnitude;
  return Buffer.from(twos.toString(16).padStart(bytes * 2, '0'), 'hex');
}

/** Reads a BOOLEAN (DER: 0x00 or 0xff; any non-zero is accepted as true). */
export function readBoolean(buf: Uint8Array, el: DerElement): boolean {
  if (el.tag !== Tag.BOOLEAN || el.end - el.contentStart !== 1) throw new DerError('malformed BOOLEAN');
  return buf[el.contentStart] !== 0;
}

/** The bytes of a BIT STRING after its unused-bits octet. */
export function bitStringBytes(buf: Uint8Array, el: DerElement): Uint8Array {
  if (el.tag !== Tag.BIT_STRING || el.end <= el.contentStart) throw new DerError('malformed BIT STRING');
  return buf.subarray(el.contentStart + 1, el.end);
}

// ---------------------------------------------------------------------------
// Time (RFC 5280 section 4.1.2.5)
// ---------------------------------------------------------------------------

const digit = (buf: Uint8Array, i: number): number => {
  const d = buf[i]! - 0x30;
  if (d < 0 || d > 9) throw new DerError(`non-digit in time at byte ${i}`);
  return d;
};
const two = (buf: Uint8Array, i: number): number => digit(buf, i) * 10 + digit(buf, i + 1);

const isLeapYear = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses UTCTime or GeneralizedTime to epoch milliseconds.
 *
 * RFC 5280 requires `YYMMDDHHMMSSZ` / `YYYYMMDDHHMMSSZ`; real responders also
 * send fractional seconds, and some CRLs omit seconds or carry an offset. Those
 * are accepted here (the value is unambiguous); conformance linting is not
 * this function's job. UTCTime years 50-99 are 19xx (RFC 5280 4.1.2.5.1).
 */
export function parseTime(buf: Uint8Array, el: DerElement): number {
  let p = el.contentStart;
  const end = el.end;
  let year: number;
  if (el.tag === Tag.UTC_TIME) {
    if (end - p < 11) throw new DerError('UTCTime too short');
    const yy = two(buf, p);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  } else if (el.tag === Tag.GENERALIZED_TIME) {
    if (end - p < 13) throw new DerError('GeneralizedTime too short');
    year = two(buf, p) * 100 + two(buf, p + 2);
    p += 4;
  } else {
    throw new DerError(`expected a time, found tag 0x${el.tag.toString(16)}`);
  }
  const month = two(buf, p);
  const day = two(buf, p + 2);
  const hour = two(buf, p + 4);
  const minute = two(buf, p + 6);
  p += 8;
  let second = 0;
  let millis = 0;
  if (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
    second = two(buf, p);
    p += 2;
  }
  if (p < end && (buf[p] === 0x2e || buf[p] === 0x2c)) {
    p++;
    let scale = 100;
    while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) {
      millis += digit(buf, p) * scale;
      scale /= 10;
      p++;
    }
    millis = Math.floor(millis);
  }
  let offsetMinutes = 0;
  if (p < end && buf[p] === 0x5a) {
    p++;
  } else if (p < end && (buf[p] === 0x2b || buf[p] === 0x2d)) {
    if (end - p < 5) throw new DerError('truncated time zone offset');
    const sign = buf[p] === 0x2b ? 1 : -1;
    const offsetHours = two(buf, p + 1);
    const offsetRest = two(buf, p + 3);
    if (offsetHours > 23 || offsetRest > 59) throw new DerError('time zone offset out of range');
    offsetMinutes = sign * (offsetHours * 60 + offsetRest);
    p += 5;
  } else {
    throw new DerError('time without a zone (Z or offset)');
  }
  if (p !== end) throw new DerError('trailing bytes in time');
  // Refused, not rolled over by Date.UTC: 2022-02-30 would become 2022-03-02
  // and move a revocation date by days (openssl: "Bad time value"). RFC 5280
  // 4.1.2.5 times are UTC with no leap seconds, so second 60 is refused too,
  // and hour 24 is not a spelling of midnight.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new DerError(`time field out of range (${year}-${month}-${day} ${hour}:${minute}:${second})`);
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC reads years 0-99 as 1900-1999; a GeneralizedTime "0001" is
    // year 1, and must never be printed as 1901.
    const exact = new Date(ms);
    exact.setUTCFullYear(year, month - 1, day);
    ms = exact.getTime();
  }
  return ms - offsetMinutes * 60_000;
}

/**
 * The earliest instant RFC 5280 times can carry: UTCTime covers 1950-2049
 * and GeneralizedTime is used only from 2050 on (RFC 5280 4.1.2.5, 5.1.2.4,
 * 5.1.2.6), so an earlier date in a certificate or CRL is not a real date.
 */
export const RFC5280_EARLIEST_TIME = Date.UTC(1950, 0, 1);

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

export function encodeLength(len: number): Uint8Array {
  if (len < 0x80) return Uint8Array.of(len);
  const bytes: number[] = [];
  let v = len;
  while (v > 0) {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Uint8Array.of(tag), encodeLength(body.length), body]);
}

export const seq = (...content: Uint8Array[]): Buffer => tlv(Tag.SEQUENCE, ...content);
export const set = (...content: Uint8Array[]): Buffer => tlv(Tag.SET, ...content);
export const octetString = (bytes: Uint8Array): Buffer => tlv(Tag.OCTET_STRING, bytes);
export const derNull = (): Buffer => Buffer.from([Tag.NULL, 0]);
export const derBoolean = (v: boolean): Buffer => Buffer.from([Tag.BOOLEAN, 1, v ? 0xff : 0]);
export const explicit = (n: number, ...content: Uint8Array[]): Buffer => tlv(ctxConstructed(n), ...content);

export function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((s) => Number(s));
  if (parts.length < 2 || parts.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new DerError(`bad OID "${dotted}"`);
  }
  const out: number[] = [];
  const push = (v: number): void => {
    const stack = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      stack.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(...stack);
  };
  push(parts[0]! * 40 + parts[1]!);
  for (const n of parts.slice(2)) push(n);
  return tlv(Tag.OID, Uint8Array.from(out));
}

/** Minimal two's-complement content for a non-negative integer given as hex or number. */
export function integerContent(value: bigint | number | string): Buffer {
  let hex = typeof value === 'string' ? value.replace(/^0x/i, '').toLowerCase() : BigInt(value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && !(bytes[i + 1]! & 0x80)) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) return Buffer.from([0]);
  return bytes[0]! & 0x80 ? Buffer.concat([Uint8Array.of(0), bytes]) : Buffer.from(bytes);
}

export const integer = (value: bigint | number | string): Buffer => tlv(Tag.INTEGER, integerContent(value));
export const enumerated = (value: number): Buffer => tlv(Tag.ENUMERATED, integerContent(value));

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5). */
export function x509Time(ms: number): Buffer {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, Buffer.from(`${pad(y % 100)}${rest}`, 'latin1'));
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(`${pad(y, 4)}${rest}`, 'latin1'));
}

export function generalizedTime(ms: number): Buffer {
  const d = new Date(ms);
  const s = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(s, 'latin1'));
}
