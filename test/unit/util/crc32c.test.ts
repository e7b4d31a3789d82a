/** CRC-32C against the test vectors of RFC 3720 B.4 (iSCSI), the ones LevelDB's own crc32c_test uses. */
import { describe, expect, it } from 'vitest';
import { crc32c, maskCrc32c } from '../../../src/util/crc32c.js';

describe('crc32c', () => {
  it('gives RFC 3720 B.4 values', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    // An iSCSI SCSI Read (10) command PDU.
    const pdu = Uint8Array.from([
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00,
    ]);
    expect(crc32c(pdu)).toBe(0xd9963a56);
  });

  it('gives the check value of "123456789" and nothing changes for an empty input', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(0), 0x12345678)).toBe(0x12345678);
  });

  it('continues a CRC over a split input, at every split (the 8-byte and the 1-byte paths agree)', () => {
    const data = Uint8Array.from({ length: 77 }, (_, i) => (i * 37 + 11) & 0xff);
    const whole = crc32c(data);
    for (let at = 0; at <= data.length; at++) expect(crc32c(data.subarray(at), crc32c(data.subarray(0, at)))).toBe(whole);
  });

  it('masks as LevelDB does: rotated, offset, and different from the CRC', () => {
    const crc = crc32c(Buffer.from('foo'));
    expect(maskCrc32c(crc)).not.toBe(crc);
    expect(maskCrc32c(maskCrc32c(crc))).not.toBe(maskCrc32c(crc));
    const unmask = (m: number): number => {
      const rot = (m - 0xa282ead8) >>> 0;
      return ((rot >>> 17) | (rot << 15)) >>> 0;
    };
    expect(unmask(maskCrc32c(crc))).toBe(crc);
    expect(unmask(maskCrc32c(maskCrc32c(crc)))).toBe(maskCrc32c(crc));
  });
});
