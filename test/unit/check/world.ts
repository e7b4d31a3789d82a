/**
 * A small world for unit tests of the check pipeline: an in-process CA whose
 * CRL and OCSP answers come from a canned Fetcher, the store over a MemoryTable, and a
 * FakeClock. No sockets, no dynalite, no openssl.
 */
import { FakeClock } from '../../../src/adapters/system-clock.js';
import type { Case } from '../../../src/domain.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import type { CertificateInfo } from '../../../src/pki/certificate.js';
import { trackCertificates } from '../../../src/track/track.js';
import { runCheck, type CheckOptions } from '../../../src/check/run-check.js';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import type { TableStore } from '../../../src/store/table-store.js';
import { CannedCaFetcher } from '../../helpers/canned-ca.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2026-05-01T00:00:00Z');

let sharedCa: Promise<LocalCa> | null = null;
/** One CA for every test in a file: key generation is the slow part. */
export const testCa = (): Promise<LocalCa> =>
  (sharedCa ??= LocalCa.create({ name: 'Unit CA', notBefore: T0 - 400 * DAY, notAfter: T0 + 800 * DAY }));

export interface CertSpec {
  readonly name: string;
  readonly notBefore?: number;
  readonly notAfter?: number;
  readonly ocsp?: boolean;
  readonly crl?: boolean;
  readonly serial?: string;
  readonly dnsNames?: readonly string[];
}

export interface World {
  readonly clock: FakeClock;
  readonly store: TableStore;
  readonly fetcher: CannedCaFetcher;
  readonly kase: Case;
  readonly certs: Record<string, CertificateInfo>;
  check(options?: CheckOptions): ReturnType<typeof runCheck>;
}

export async function makeWorld(specs: readonly CertSpec[], kase: Partial<Case> = {}): Promise<World> {
  const ca = await testCa();
  const clock = new FakeClock(T0);
  const store = memoryStore();
  const fetcher = new CannedCaFetcher(ca, () => clock.now().getTime());
  const certs: Record<string, CertificateInfo> = {};
  for (const s of specs) {
    const issued = await ca.issue({
      subject: `CN=${s.name}.example`,
      serial: s.serial,
      dnsNames: s.dnsNames,
      notBefore: s.notBefore ?? T0 - DAY,
      notAfter: s.notAfter ?? T0 + 90 * DAY,
      ocspUrls: s.ocsp === false ? [] : [fetcher.ocspUrl],
      crlUrls: s.crl === false ? [] : [fetcher.crlUrl],
    });
    fetcher.issued(issued.info.serial);
    certs[s.name] = issued.info;
  }
  const theCase: Case = {
    id: 'c1',
    title: 'Key compromise at Unit CA',
    reportedAt: T0,
    reason: 'key-compromise',
    kind: 'tls-subscriber',
    ...kase,
  };
  await trackCertificates(
    { store, clock },
    theCase,
    Object.values(certs).map((certificate) => ({ certificate, bundle: [], source: 'test' })),
    [ca.info],
  );
  return { clock, store, fetcher, kase: theCase, certs, check: (options) => runCheck({ store, fetcher, clock }, options) };
}
