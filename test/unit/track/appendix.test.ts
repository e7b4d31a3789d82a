/** The appendix reader's pieces: names in their spellings, serials as CAs write them, times, and headers. */
import { describe, expect, it } from 'vitest';
import { nameKey } from '../../../src/track/appendix-issuer.js';
import { normalizeSerial, parseAppendix, parseAppendixTime } from '../../../src/track/appendix.js';
import { isRevokedValue } from '../../../src/report/irg-csv.js';

describe('nameKey', () => {
  it('one name whatever its order, spelling, case and spacing', () => {
    const key = nameKey('C=US, O=Example Trust, CN=Example  TLS CA');
    expect(nameKey('CN=Example TLS CA, O=Example Trust, C=US')).toBe(key);
    expect(nameKey('/C=US/O=Example Trust/CN=example tls ca')).toBe(key);
    expect(nameKey('commonName = Example TLS CA, organizationName=Example Trust, countryName=US')).toBe(key);
    expect(nameKey('CN=Example TLS CA, O=Example Trust')).not.toBe(key);
  });

  it('keeps escaped and unescaped commas inside a value', () => {
    expect(nameKey('CN=CA, O=Example\\, Inc.')).toBe(nameKey('O=Example, Inc., CN=CA'));
    expect(nameKey('CN=CA, O="Example, Inc."')).toBe(nameKey('CN=CA, O=Example\\, Inc.'));
  });

  it('is null for text that is no name', () => {
    expect(nameKey('')).toBeNull();
    expect(nameKey('Example CA')).toBeNull();
  });
});

describe('normalizeSerial', () => {
  it('reads serials as CAs write them, in CertificateInfo.serial form', () => {
    expect(normalizeSerial('0A:1B:2C')).toBe('0a1b2c');
    expect(normalizeSerial('0x00A1B2')).toBe('a1b2');
    expect(normalizeSerial('a1b')).toBe('0a1b');
    expect(normalizeSerial('00')).toBe('00');
    expect(normalizeSerial('zz')).toBeNull();
    expect(normalizeSerial('-0a')).toBeNull();
  });
});

describe('parseAppendixTime', () => {
  it('ISO 8601 (UTC when no zone), and OpenSSL text', () => {
    expect(parseAppendixTime('2026-01-02T03:04:05Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseAppendixTime('2026-01-02 03:04:05')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseAppendixTime('2026-01-02')).toBe(Date.UTC(2026, 0, 2));
    expect(parseAppendixTime('2026-01-02T03:04:05+02:00')).toBe(Date.UTC(2026, 0, 2, 1, 4, 5));
    expect(parseAppendixTime('Jan  2 03:04:05 2026 GMT')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseAppendixTime('soon')).toBeNull();
  });
});

describe('parseAppendix', () => {
  it('reads the standard columns by header in any order and spelling, ignores others, reports bad rows by line', () => {
    const text = [
      'Internal,serial number,notAfter,ISSUER,notBefore,Certificate SHA-256,dNSNames',
      `x,0A:01,2026-03-01T00:00:00Z,CN=CA,2026-01-01T00:00:00Z,${'AB'.repeat(32)},a.example b.example`,
      'y,0a02,2026-03-01T00:00:00Z,CN=CA,2026-04-01T00:00:00Z,,',
      '',
      'z,0a03,2026-03-01T00:00:00Z,"CN=CA, O=X",2026-01-01T00:00:00Z,,',
    ].join('\r\n');
    const { rows, bad } = parseAppendix(text, 'a.csv');
    expect(rows.map((r) => [r.line, r.serial, r.issuer, r.certificateSha256])).toEqual([
      [2, '0a01', 'CN=CA', 'ab'.repeat(32)],
      [5, '0a03', 'CN=CA, O=X', null],
    ]);
    expect(rows[0]!.dnsNames).toEqual(['a.example', 'b.example']);
    expect(bad).toEqual([{ line: 3, why: 'Not after is before Not before' }]);
  });

  it('refuses a file without the required columns with one message naming them', () => {
    expect(() => parseAppendix('Subject,Serial #\r\nCN=x,0a\r\n', 'b.csv')).toThrow(
      'b.csv is not an incident appendix: no "Issuer", "Not before", "Not after" column',
    );
  });
});

describe('isRevokedValue (the IRG "Is revoked?")', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const at = (verdict: string, revocationTime: string | null = null, notAfter = '2026-12-01T00:00:00Z') =>
    isRevokedValue({ verdict: verdict as never, revocationTime, notAfter }, now);
  it('maps every verdict', () => {
    expect(at('revoked_on_time', '2026-05-01T00:00:00Z')).toBe('Yes');
    expect(at('revoked_late', '2026-05-01T00:00:00Z')).toBe('Yes');
    expect(at('overdue')).toBe('Delayed');
    expect(at('pending')).toBe('Planned');
    expect(at('expired')).toBe('N/A');
    expect(at('expired_overdue')).toBe('N/A');
    expect(at('no_deadline')).toBe('Planned');
    expect(at('no_deadline', '2026-05-01T00:00:00Z')).toBe('Yes');
    expect(at('undetermined', null, '2026-01-01T00:00:00Z')).toBe('N/A');
  });
});

describe('appendixIssuers', () => {
  it('finds an issuer among the CA certificates of the PEM report, not only in the records that carry a PEM', async () => {
    const { appendixIssuers } = await import('../../../src/track/appendix-issuer.js');
    const { LocalCa } = await import('../../../src/local-ca/ca.js');
    const { toPem } = await import('../../../src/pki/certificate.js');
    const t0 = Date.UTC(2026, 0, 1);
    const ca = await LocalCa.create({ name: 'Appendix PEM Report CA', notBefore: t0, notAfter: t0 + 400 * 86_400_000 });
    const kept = [{ sha256: ca.info.sha256, pem: toPem(ca.info.der) }];
    // A V5 records report carries no PEM: the disclosure alone names no issuer.
    const disclosure = {
      sha256: ca.info.sha256,
      name: 'Appendix PEM Report CA',
      owner: 'Owner',
      subjectKeyId: null,
      fullCrl: null,
      partitionedCrls: [],
      pem: null,
      subjectNameHash: null,
      importedAt: t0,
    };
    expect(appendixIssuers([], [disclosure]).byName('CN=Appendix PEM Report CA, O=revwatch local CA')).toEqual([]);
    const issuers = appendixIssuers([], [disclosure], [...kept, ...kept]);
    expect(issuers.byName('O=revwatch local CA,  cn=appendix pem report ca').map((c) => c.sha256)).toEqual([ca.info.sha256]);
    expect(issuers.disclosedCount).toBe(1);
  });
});
