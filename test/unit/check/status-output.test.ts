import { describe, expect, it } from 'vitest';
import { formatStatus, jsonStatusSink, textStatusSink, type StatusReport } from '../../../src/status/status.js';
import type { CertificateStatus } from '../../../src/rules/verdict.js';

const cert = (serial: string, verdict: CertificateStatus['verdict']): CertificateStatus => ({
  sha256: serial.repeat(32).slice(0, 64),
  serial,
  subject: 'CN="quoted" \\ name\nwith newline',
  issuer: 'CN=CA',
  notBefore: '2025-01-01T00:00:00Z',
  notAfter: '2025-04-01T00:00:00Z',
  deadline: '2025-02-01T00:00:00Z',
  shouldDeadline: null,
  verdict,
  revocationTime: null,
  effectiveRevocationTime: null,
  reasonCode: null,
  firstSeenRevokedAt: null,
  lastSeenGoodAt: '2025-01-20T00:00:00Z',
  lateBySeconds: verdict === 'overdue' ? 7200 : null,
  sources: [
    {
      kind: 'crl',
      url: 'http://crl.example/1.crl',
      status: 'good',
      checkedAt: '2025-01-20T00:00:00Z',
      thisUpdate: null,
      nextUpdate: null,
      error: null,
    },
  ],
  findings: [{ code: 'stale_response', severity: 'warning', message: 'x' }],
});

const reports: [string, StatusReport][] = [
  ['no cases', { cases: [] }],
  [
    'a case without certificates',
    {
      cases: [{ id: 'a', title: 'A', reportedAt: '2025-01-01T00:00:00Z', reason: 'misissuance', kind: 'tls-subscriber', certificates: [] }],
    },
  ],
  [
    'two cases',
    {
      cases: [
        {
          id: 'a',
          title: 'A "quoted"',
          reportedAt: '2025-01-01T00:00:00Z',
          reason: 'misissuance',
          kind: 'tls-subscriber',
          certificates: [cert('01', 'pending'), cert('02', 'overdue')],
        },
        {
          id: 'b',
          title: 'B',
          reportedAt: '2025-01-02T00:00:00Z',
          reason: 'key-compromise',
          kind: 'tls-subca',
          certificates: [cert('03', 'revoked_late')],
        },
      ],
    },
  ],
];

const feed = (report: StatusReport, sink: ReturnType<typeof jsonStatusSink>): void => {
  for (const c of report.cases) {
    const { certificates, ...header } = c;
    sink.caseStart(header, certificates.length);
    for (const s of certificates) sink.certificate(s);
    sink.caseEnd();
  }
  sink.end();
};

describe('status written as it is judged', () => {
  it.each(reports)('--json, %s: byte for byte what JSON.stringify(report, null, 2) prints', (_name, report) => {
    let out = '';
    feed(
      report,
      jsonStatusSink((chunk) => (out += chunk)),
    );
    expect(out).toBe(`${JSON.stringify(report, null, 2)}\n`);
  });

  it.each(reports)('text, %s: the same table as formatStatus', (_name, report) => {
    let out = '';
    feed(
      report,
      textStatusSink((chunk) => (out += chunk)),
    );
    expect(out).toBe(`${formatStatus(report)}\n`);
  });
});
