/**
 * Writes signed CRLs (RFC 5280 section 5) of any size.
 *
 * Entries are written straight into one preallocated buffer, so a
 * million-entry CRL takes about a second to produce. Used by the local CA,
 * the tests and the benchmarks.
 */
import type { KeyObject } from 'node:crypto';
import {
  Tag,
  encodeLength,
  encodeOid,
  explicit,
  integer,
  integerContent,
  octetString,
  seq,
  tlv,
  x509Time,
  derBoolean,
  enumerated,
} from '../pki/der.js';
import { signStructure, signatureAlgorithmDer, type KeyType } from './keys.js';

export interface CrlEntryInput {
  readonly serial: string | bigint;
  readonly revocationDate: number;
  /** CRLReason; omitted (unspecified by omission, BR 7.2.2) when null or undefined. */
  readonly reasonCode?: number | null;
  readonly invalidityDate?: number | null;
  /** Extra raw Extension DERs appended to the entry (tests of critical entry extensions). */
  readonly extraExtensions?: readonly Buffer[];
}

export interface CrlInput {
  readonly issuerName: Uint8Array;
  readonly keyType: KeyType;
  readonly privateKey: KeyObject;
  readonly thisUpdate: number;
  readonly nextUpdate?: number | null;
  readonly crlNumber: bigint | number;
  readonly entries: Iterable<CrlEntryInput>;
  /** Number of entries, when known: lets the writer size its buffer once. */
  readonly entryCount?: number;
  readonly idpUri?: string;
  readonly authorityKeyId?: Uint8Array;
  readonly extraExtensions?: readonly Buffer[];
  readonly corruptSignature?: boolean;
}

const REASON_OID = encodeOid('2.5.29.21');
const INVALIDITY_OID = encodeOid('2.5.29.24');

export function extensionDer(oid: string, value: Uint8Array, critical = false): Buffer {
  return critical ? seq(encodeOid(oid), derBoolean(true), octetString(value)) : seq(encodeOid(oid), octetString(value));
}

export function writeCrl(input: CrlInput): Buffer {
  const body = writeEntries(input.entries, input.entryCount);
  const exts: Buffer[] = [extensionDer('2.5.29.20', integer(BigInt(input.crlNumber)))];
  if (input.authorityKeyId) exts.unshift(extensionDer('2.5.29.35', seq(tlv(0x80, input.authorityKeyId))));
  if (input.idpUri) {
    // IssuingDistributionPoint { distributionPoint [0] { fullName [0] { uri [6] } }, onlyContainsUserCerts [1] TRUE }
    const idp = seq(explicit(0, explicit(0, tlv(0x86, Buffer.from(input.idpUri, 'latin1')))), tlv(0x81, Uint8Array.of(0xff)));
    exts.push(extensionDer('2.5.29.28', idp, true));
  }
  exts.push(...(input.extraExtensions ?? []));
  const headerParts = [
    integer(1), // v2
    signatureAlgorithmDer(input.keyType),
    Buffer.from(input.issuerName),
    x509Time(input.thisUpdate),
    ...(input.nextUpdate != null ? [x509Time(input.nextUpdate)] : []),
  ];
  const revoked = body.length ? [Buffer.concat([Uint8Array.of(Tag.SEQUENCE), encodeLength(body.length)]), body] : [];
  const extensions = explicit(0, seq(...exts));
  const tbsContent = [...headerParts, ...revoked, extensions];
  const tbsLength = tbsContent.reduce((n, b) => n + b.length, 0);
  const tbs = Buffer.concat([Uint8Array.of(Tag.SEQUENCE), encodeLength(tbsLength), ...tbsContent]);
  return signStructure(input.keyType, input.privateKey, tbs, input.corruptSignature);
}

function writeEntries(entries: Iterable<CrlEntryInput>, countHint?: number): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(1024, (countHint ?? 1024) * 64));
  let p = 0;
  const timeCache = new Map<number, Buffer>();
  const reasonCache = new Map<number, Buffer>();
  for (const entry of entries) {
    const serial = integerContent(entry.serial);
    let time = timeCache.get(entry.revocationDate);
    if (!time) {
      time = x509Time(entry.revocationDate);
      if (timeCache.size < 100_000) timeCache.set(entry.revocationDate, time);
    }
    const extParts: Buffer[] = [];
    if (entry.reasonCode != null) {
      let r = reasonCache.get(entry.reasonCode);
      if (!r) {
        r = seq(REASON_OID, octetString(enumerated(entry.reasonCode)));
        reasonCache.set(entry.reasonCode, r);
      }
      extParts.push(r);
    }
    if (entry.invalidityDate != null) {
      extParts.push(
        seq(
          INVALIDITY_OID,
          octetString(
            tlv(
              Tag.GENERALIZED_TIME,
              Buffer.from(
                new Date(entry.invalidityDate)
                  .toISOString()
                  .replace(/[-:T]/g, '')
                  .replace(/\.\d+Z$/, 'Z'),
                'latin1',
              ),
            ),
          ),
        ),
      );
    }
    extParts.push(...(entry.extraExtensions ?? []));
    const ext = extParts.length ? seq(...extParts) : null;
    const contentLen = 2 + serial.length + time.length + (ext ? ext.length : 0);
    const lenBytes = encodeLength(contentLen);
    const total = 1 + lenBytes.length + contentLen;
    if (p + total > buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2 + total);
      buf.copy(bigger, 0, 0, p);
      buf = bigger;
    }
    buf[p++] = Tag.SEQUENCE;
    buf.set(lenBytes, p);
    p += lenBytes.length;
    buf[p++] = Tag.INTEGER;
    buf[p++] = serial.length;
    serial.copy(buf, p);
    p += serial.length;
    time.copy(buf, p);
    p += time.length;
    if (ext) {
      ext.copy(buf, p);
      p += ext.length;
    }
  }
  return buf.subarray(0, p);
}
