/**
 * `report --format irg-csv`: the affected-certificates appendix of the CCADB
 * Incident Reporting Guidelines ("Report field definitions and expectations",
 * Appendix), whose standard fields come first and in this order so that
 * automated parsing tools read it: precertificate SHA-256, certificate
 * SHA-256, Subject, Issuer, notBefore, notAfter, serial number (hex),
 * dNSNames, "Is revoked?", revocation date, revocation reason. revwatch's own
 * evidence columns follow them.
 *
 * Written as it is judged: status hands the verdicts over in serial order from
 * its spool (a temporary file in the CLI), and each row is written as it comes,
 * so a 3,000,000-certificate case never holds its rows or its text at once.
 */
import { APPENDIX_VALIDITY_NOTE, streamStatus, memorySpool } from '../status/status.js';
import type { CertificateStatus } from '../rules/verdict.js';
import type { StatusSpool, Store, StoredCertificate } from '../ports/store.js';
import type { DisclosureLookup } from '../ccadb/store.js';
import { formatDuration } from '../time.js';
import { csvCell } from './formats.js';

/**
 * The standard fields, spelled as the guidelines' field table spells them (the version revwatch could read,
 * IRG 3.0; 3.2 fixes their order, which is this one).
 */
export const IRG_STANDARD_COLUMNS = [
  'Precertificate SHA-256 hash',
  'Certificate SHA-256 hash',
  'Subject',
  'Issuer',
  'Not before',
  'Not after',
  'Serial #',
  'dNSNames',
  'Is revoked?',
  'Revocation date',
  'Revocation reason',
] as const;

/** revwatch's evidence, after the standard fields (the guidelines allow more columns after them). */
export const IRG_EVIDENCE_COLUMNS = ['First seen revoked', 'Last seen good', 'Verdict', 'Late by', 'Source', 'Validity from'] as const;

export const IRG_HEADER: readonly string[] = [...IRG_STANDARD_COLUMNS, ...IRG_EVIDENCE_COLUMNS];

export type IsRevoked = 'Yes' | 'Planned' | 'Delayed' | 'N/A';

/**
 * A verdict as the appendix's "Is revoked?" (docs/cli.md lists the mapping): revoked → Yes; past the MUST
 * deadline and not revoked → Delayed; expired without a revocation → N/A (the guidelines' value "for
 * expired"); still within the deadline, or without one → Planned. `undetermined` says what the CA's own
 * answers claim, as far as they go: Yes when one claims a revocation, N/A once expired, else Planned.
 */
export function isRevokedValue(s: Pick<CertificateStatus, 'verdict' | 'revocationTime' | 'notAfter'>, now: number): IsRevoked {
  switch (s.verdict) {
    case 'revoked_on_time':
    case 'revoked_late':
      return 'Yes';
    case 'overdue':
      return 'Delayed';
    case 'expired':
    case 'expired_overdue':
      return 'N/A';
    case 'pending':
      return 'Planned';
    case 'no_deadline':
    case 'undetermined':
      if (s.revocationTime !== null) return 'Yes';
      return Date.parse(s.notAfter) <= now ? 'N/A' : 'Planned';
  }
}

/** What a row needs of the certificate beside its status, kept with the status in the spool. */
interface RowExtras {
  readonly dnsNames: readonly string[];
  readonly precertificate: boolean;
  readonly idFromSerial: boolean;
}

type SpooledStatus = CertificateStatus & { readonly irg?: RowExtras };

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The dNSName entries of the SANs kept at track (IP addresses and "email:" entries are other name types). */
function dnsNamesOf(sans: readonly string[] | undefined): string[] {
  return (sans ?? []).filter((n) => !n.startsWith('email:') && !IPV4.test(n) && !n.includes(':'));
}

export function irgRow(s: SpooledStatus, now: number): string {
  const extras = s.irg ?? { dnsNames: [], precertificate: false, idFromSerial: false };
  const fingerprint = extras.idFromSerial ? '' : s.sha256;
  const revoked = isRevokedValue(s, now);
  const revocationDate = revoked === 'Yes' ? s.revocationTime : revoked === 'Planned' && s.deadline ? s.deadline : 'N/A';
  // RFC 5280 5.3.1: a CRL entry without a reasonCode means unspecified.
  const reason = revoked === 'Yes' ? (s.reasonCode ?? 'unspecified') : 'N/A';
  const answering = s.sources.filter((src) => (revoked === 'Yes' ? src.status === 'revoked' : src.status === 'good'));
  const cells: (string | number | null)[] = [
    extras.precertificate ? fingerprint : '',
    extras.precertificate ? '' : fingerprint,
    s.subject,
    s.issuer,
    s.notBefore,
    s.notAfter,
    s.serial,
    extras.dnsNames.join(' '),
    revoked,
    revocationDate,
    reason,
    s.firstSeenRevokedAt,
    s.lastSeenGoodAt,
    s.verdict,
    s.lateBySeconds === null ? null : formatDuration(s.lateBySeconds),
    answering.map((src) => `${src.kind} ${src.url}`).join(' '),
    s.validityFrom === 'appendix' ? APPENDIX_VALIDITY_NOTE : 'certificate',
  ];
  return cells.map(csvCell).join(',');
}

export interface IrgCsvOptions {
  readonly disclosures?: DisclosureLookup;
  /** Where verdicts wait to be handed out in serial order; the CLI's is a temporary file. */
  readonly openSpool?: () => StatusSpool;
  /** Rows per write: the writes wait on the reader (`write` may return a promise). */
  readonly rowsPerWrite?: number;
}

/** Writes the case's appendix through `write`, header first; returns the number of certificate rows. */
export async function writeIrgCsv(
  store: Store,
  caseId: string,
  now: number,
  write: (chunk: string) => void | Promise<void>,
  options: IrgCsvOptions = {},
): Promise<number> {
  const rowsPerWrite = options.rowsPerWrite ?? 2000;
  let rows: string[] = [];
  let count = 0;
  let headerWritten = false;
  const flush = (): void | Promise<void> => {
    if (rows.length === 0) return;
    const chunk = `${rows.join('\r\n')}\r\n`;
    rows = [];
    return write(chunk);
  };
  const openSpool = (): StatusSpool => {
    const inner = (options.openSpool ?? memorySpool)();
    return {
      add: (key: string, status: CertificateStatus, cert?: StoredCertificate) =>
        inner.add(key, cert ? ({ ...status, irg: extrasOf(cert) } as SpooledStatus) : status),
      inOrder: () => inner.inOrder(),
      close: () => inner.close(),
    };
  };
  await streamStatus(
    store,
    now,
    {
      caseStart: () => {
        rows.push(IRG_HEADER.map(csvCell).join(','));
        headerWritten = true;
      },
      certificate: (s) => {
        rows.push(irgRow(s as SpooledStatus, now));
        count++;
        if (rows.length >= rowsPerWrite) return flush();
      },
      caseEnd: () => undefined,
    },
    { caseId, rules: options.disclosures ? { disclosures: options.disclosures } : {}, openSpool },
  );
  if (!headerWritten) rows.push(IRG_HEADER.map(csvCell).join(','));
  await flush();
  return count;
}

function extrasOf(cert: StoredCertificate): RowExtras {
  return { dnsNames: dnsNamesOf(cert.sans), precertificate: cert.precertificate, idFromSerial: cert.idFromSerial === true };
}
