import { describe, expect, it } from 'vitest';
import { LocalCa } from '../../../src/local-ca/ca.js';
import type { CrlEntryInput } from '../../../src/local-ca/crl-writer.js';
import { readCrlEntries } from '../../../src/sweep/crl-entries.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

describe('readCrlEntries', () => {
  it('gives a large unsorted CRL in serial order, a serial listed twice with its earliest claim, as a plain sort would', async () => {
    const ca = await LocalCa.create({ name: 'Entries Order CA', notBefore: NOW - 400 * DAY, notAfter: NOW + 400 * DAY });
    const input: CrlEntryInput[] = [];
    // Random-looking serials of several lengths (one byte, a leading zero nibble, 16 bytes), past the size
    // where the entries are dealt into buckets before they are compared.
    for (let k = 0; k < 5000; k++) {
      const h = (Math.imul(k + 1, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
      const serial = k % 97 === 0 ? h.slice(0, 2) : k % 13 === 0 ? `0${h.slice(1)}` : `${h}${h}${h}${h}`;
      input.push({ serial, revocationDate: NOW - (k % 50) * DAY, reasonCode: k % 3 === 0 ? 1 : null });
    }
    // The same serial again, claimed earlier and later than its first listing.
    input.push({ ...input[10]!, revocationDate: input[10]!.revocationDate - DAY, reasonCode: 4 });
    input.push({ ...input[20]!, revocationDate: input[20]!.revocationDate + DAY });
    const der = ca.crl({ entries: input, thisUpdate: NOW, nextUpdate: NOW + 7 * DAY, crlNumber: 1 });

    const hex = (s: string | bigint): string => {
      const t = typeof s === 'bigint' ? s.toString(16) : s.replace(/^(00)+(?=..)/, '');
      return t.length % 2 ? `0${t}` : t;
    };
    const expected = input
      .map((e) => ({ serial: hex(e.serial), revocationDate: Math.floor(e.revocationDate / 1000) * 1000, reasonCode: e.reasonCode ?? null }))
      .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : a.revocationDate - b.revocationDate))
      .filter((e, i, all) => i === 0 || all[i - 1]!.serial !== e.serial);

    const entries = readCrlEntries(der);
    expect(entries).toEqual(expected);
    expect(entries.find((e) => e.serial === hex(input[10]!.serial))).toMatchObject({ reasonCode: 4 });
  });
});
