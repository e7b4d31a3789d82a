import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DerError, Tag, parseTime, readElement, serialContent, serialHex, tlv } from '../../../src/pki/der.js';
import { normalizeSerialHex } from '../../../src/pki/crl.js';
import { parseInstant } from '../../../src/time.js';

const time = (tag: number, text: string) => {
  const der = tlv(tag, Buffer.from(text, 'latin1'));
  return parseTime(der, readElement(der, 0));
};

describe('DER', () => {
  it.each([
    [Tag.UTC_TIME, '240731193000Z', '2024-07-31T19:30:00.000Z'],
    [Tag.UTC_TIME, '500101000000Z', '1950-01-01T00:00:00.000Z'],
    [Tag.UTC_TIME, '491231235959Z', '2049-12-31T23:59:59.000Z'],
    [Tag.UTC_TIME, '2407311930Z', '2024-07-31T19:30:00.000Z'],
    [Tag.GENERALIZED_TIME, '20510601120000Z', '2051-06-01T12:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '20210819121804.364362Z', '2021-08-19T12:18:04.364Z'],
    [Tag.GENERALIZED_TIME, '20240731153000-0400', '2024-07-31T19:30:00.000Z'],
    // Years 0-99 must not be read as 1900-1999 (Date.UTC's legacy mapping).
    [Tag.GENERALIZED_TIME, '00010101000000Z', '0001-01-01T00:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '00990615120000Z', '0099-06-15T12:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '00040229000000Z', '0004-02-29T00:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '00000101000000Z', '0000-01-01T00:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '01000101000000Z', '0100-01-01T00:00:00.000Z'],
    [Tag.GENERALIZED_TIME, '19491231235959Z', '1949-12-31T23:59:59.000Z'],
  ])('reads time 0x%s %s', (tag, text, expected) => {
    expect(new Date(time(tag, text)).toISOString()).toBe(expected);
  });

  it.each(['240731193000', '24073119300Z', '241331193000Z', 'abcdefghijklZ'])('rejects malformed UTCTime %s', (text) => {
    expect(() => time(Tag.UTC_TIME, text)).toThrow(DerError);
  });

  // issue 23 §3: Date.UTC rolled these over (2022-02-30 read as 2022-03-02) and a revocation date moved by days.
  it.each([
    [Tag.UTC_TIME, '220230000000Z'],
    [Tag.UTC_TIME, '220229000000Z'],
    [Tag.UTC_TIME, '220431000000Z'],
    [Tag.UTC_TIME, '220101240000Z'],
    [Tag.UTC_TIME, '220101006000Z'],
    [Tag.UTC_TIME, '220101000060Z'],
    [Tag.UTC_TIME, '221301000000Z'],
    [Tag.UTC_TIME, '220100000000Z'],
    [Tag.GENERALIZED_TIME, '21000229000000Z'],
    [Tag.GENERALIZED_TIME, '20230229000000Z'],
    [Tag.GENERALIZED_TIME, '20240731153000+2400'],
    [Tag.GENERALIZED_TIME, '20240731153000+0160'],
  ])('refuses the impossible time 0x%s %s', (tag, text) => {
    expect(() => time(tag, text)).toThrow(/out of range/);
  });

  it.each([
    [Tag.UTC_TIME, '240229235959Z', '2024-02-29T23:59:59.000Z'],
    [Tag.GENERALIZED_TIME, '20000229000000Z', '2000-02-29T00:00:00.000Z'],
    [Tag.UTC_TIME, '220430000000Z', '2022-04-30T00:00:00.000Z'],
    [Tag.UTC_TIME, '221231235959Z', '2022-12-31T23:59:59.000Z'],
  ])('keeps the last valid instant of a month 0x%s %s', (tag, text, expected) => {
    expect(new Date(time(tag, text)).toISOString()).toBe(expected);
  });

  it('keeps the sign of serials so that +255 and -1 differ (PKITS 4.4.14/15)', () => {
    expect(serialHex(Buffer.from('00ff', 'hex'))).toBe('ff');
    expect(serialHex(Buffer.from('ff', 'hex'))).toBe('-01');
    expect(serialHex(Buffer.from('ff7f', 'hex'))).toBe('-81');
    expect(serialHex(Buffer.from('7f', 'hex'))).toBe('7f');
    expect(normalizeSerialHex('00:FF')).toBe('ff');
    expect(normalizeSerialHex('-1')).toBe('-01');
  });

  it('round-trips any serial between its DER content and its hex form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 159n), max: (1n << 159n) - 1n }), (n) => {
        const hex = n < 0n ? `-${(-n).toString(16)}` : n.toString(16);
        const canonical = normalizeSerialHex(hex);
        expect(serialHex(serialContent(canonical))).toBe(canonical);
      }),
    );
  });

  it('accepts only ISO-8601 instants with a zone', () => {
    expect(parseInstant('2024-07-31T19:30:00Z', 't')).toBe(Date.UTC(2024, 6, 31, 19, 30));
    expect(parseInstant('2024-07-31T21:30+02:00', 't')).toBe(Date.UTC(2024, 6, 31, 19, 30));
    for (const bad of ['2024-07-31T19:30:00', '2024-07-31', 'yesterday', '2023-02-30T00:00:00Z', '2024-13-01T00:00:00Z']) {
      expect(() => parseInstant(bad, '--reported-at')).toThrow(/--reported-at/);
    }
  });
});
