/**
 * The sweep's PEM-report path: a V5 records report carries no certificates, so
 * a disclosure's CA certificate comes from the imported "All Certificate PEMs"
 * report, found by its fingerprint in one read of the kept certificates. Its
 * CRL must then verify and be indexed; without the PEM report the same CRL is
 * a no-ca-certificate fault, and a kept certificate of another fingerprint is
 * not taken for it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryRevocationIndex } from '../../../src/adapters/memory/memory-revocation-index.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { toPem } from '../../../src/pki/certificate.js';
import { emptySweepState, type SweepState } from '../../../src/ports/revocation-index.js';
import type { StoredDisclosure } from '../../../src/ccadb/store.js';
import { runSweep, type SweepDeps } from '../../../src/sweep/sweep.js';
import { serving } from '../../helpers/pki-fixtures.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const CRL_URL = 'http://crl.example/v5.crl';

async function setUp(kept: ((ca: LocalCa) => { sha256: string; pem: string }[]) | null, copies = 1) {
  const root = await LocalCa.create({ name: 'PEM Report Root', notBefore: NOW - 400 * DAY, notAfter: NOW + 400 * DAY });
  const ca = await LocalCa.create({ name: 'PEM Report CA', notBefore: NOW - 400 * DAY, notAfter: NOW + 400 * DAY, parent: root });
  const crl = ca.crl({
    entries: [{ serial: '0a1b2c', revocationDate: NOW - DAY, reasonCode: 1 }],
    thisUpdate: NOW - 3_600_000,
    nextUpdate: NOW + 6 * DAY,
    crlNumber: 1,
  });
  // As a V5 records row gives it: fingerprint, key identifier and CRL, no PEM.
  const disclosure: StoredDisclosure = {
    sha256: ca.info.sha256,
    name: 'PEM Report CA',
    owner: 'PEM Report Owner',
    subjectKeyId: ca.info.subjectKeyId,
    fullCrl: CRL_URL,
    fullCrls: [CRL_URL],
    partitionedCrls: [],
    pem: null,
    subjectNameHash: null,
    importedAt: NOW - DAY,
  };
  const certificates = kept ? kept(ca) : null;
  const reads = { caCertificates: 0 };
  let state: SweepState = emptySweepState();
  const crls = new Map<string, Uint8Array>();
  const index = new MemoryRevocationIndex();
  const deps: SweepDeps = {
    disclosures: {
      // `copies` disclosures of one CA, each with a CRL URL of its own.
      current: async () =>
        Array.from({ length: copies }, (_, i) =>
          i === 0 ? disclosure : { ...disclosure, fullCrl: `${CRL_URL}?${i}`, fullCrls: [`${CRL_URL}?${i}`] },
        ),
      ...(certificates
        ? {
            caCertificates: async () => {
              reads.caCertificates++;
              return certificates;
            },
          }
        : {}),
    },
    fetcher: serving(() => crl),
    clock: { now: () => new Date(NOW), sleep: async () => {} },
    index,
    state: {
      load: async () => state,
      save: async (next) => {
        state = next;
      },
    },
    evidence: {
      saveCrl: async (sha256, bytes) => {
        crls.set(sha256, bytes);
      },
      crlPath: (sha256) => (crls.has(sha256) ? `/crls/${sha256}` : null),
      readCrl: (sha256) => crls.get(sha256) ?? null,
    },
  };
  return { deps, index, ca, reads };
}

describe('sweep: a CA certificate known only from the PEM report', () => {
  it('verifies and indexes its CRL', async () => {
    const { deps, index, ca } = await setUp((c) => [{ sha256: c.info.sha256, pem: toPem(c.info.der) }]);
    const summary = await runSweep(deps);
    expect(summary.results.map((r) => [r.url, r.outcome, r.fault])).toEqual([[CRL_URL, 'changed', null]]);
    expect(summary.added).toBe(1);
    const issuerKey = createHash('sha256').update(ca.info.raw.spki).digest('hex');
    const [serial] = await index.issuerKeys().then(async (keys) => {
      expect(keys).toEqual([issuerKey]);
      return [...(await index.segments(CRL_URL))[0]!.added.map((a) => a[0])];
    });
    expect((await index.records(issuerKey, [serial!])).get(serial!)?.listings.map((l) => l.url)).toEqual([CRL_URL]);
  });

  it('reads the kept certificates once for every disclosure, not once per disclosure', async () => {
    const { deps, reads } = await setUp((c) => [{ sha256: c.info.sha256, pem: toPem(c.info.der) }], 3);
    const summary = await runSweep(deps);
    expect(summary.results.map((r) => r.fault)).toEqual([null, null, null]);
    expect(reads.caCertificates).toBe(1);
  });

  it('without the PEM report, or with only another fingerprint kept, the CRL has no CA certificate', async () => {
    for (const kept of [null, (c: LocalCa) => [{ sha256: 'ff'.repeat(32), pem: toPem(c.info.der) }]]) {
      const { deps } = await setUp(kept);
      const summary = await runSweep(deps);
      expect(summary.results.map((r) => r.fault?.kind)).toEqual(['no-ca-certificate']);
      expect(summary.added).toBe(0);
    }
  });
});
