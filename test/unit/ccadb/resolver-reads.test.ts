/**
 * Checking against CCADB disclosures must not cost a read per certificate
 * per run: 101,000 certificates took 282 s to plan when it did.
 */
import { describe, expect, it } from 'vitest';
import { DisclosureResolver } from '../../../src/ccadb/match.js';
import type { DisclosureLookup } from '../../../src/ccadb/store.js';
import type { StoredCertificate } from '../../../src/ports/store.js';

const cert = (sha256: string, crlUrls: string[]): StoredCertificate =>
  ({
    sha256,
    serial: sha256,
    caseId: 'c',
    issuerSha256: 'issuer',
    crlUrls,
    ocspUrls: [],
    notBefore: 0,
    notAfter: 1,
    isCA: false,
    trackedAt: 0,
  }) as unknown as StoredCertificate;

function lookup(imported: boolean): DisclosureLookup & { calls: number } {
  const l = {
    calls: 0,
    lastImport: async () => (imported ? { at: 1, source: 'x' } : null),
    byKeyId: async () => {
      l.calls++;
      return [];
    },
    bySubjectName: async () => {
      l.calls++;
      return [];
    },
  };
  return l;
}

describe('DisclosureResolver reads', () => {
  it('reads nothing for any certificate when no disclosure was ever imported', async () => {
    const reads: string[] = [];
    const l = lookup(false);
    const resolver = new DisclosureResolver(l, async (sha) => {
      reads.push(sha);
      return null;
    });
    for (let i = 0; i < 100; i++) {
      const c = cert(`c${i}`, i % 2 ? [] : ['http://crl.example/1.crl']);
      expect(await resolver.attach(c)).toBe(c);
    }
    expect(reads).toEqual([]);
    expect(l.calls).toBe(0);
  });

  it('reads the issuer once, and no certificate that has a CRL of its own, when its issuer disclosed nothing', async () => {
    const reads: string[] = [];
    const resolver = new DisclosureResolver(lookup(true), async (sha) => {
      reads.push(sha);
      return null;
    });
    for (let i = 0; i < 100; i++) await resolver.attach(cert(`c${i}`, ['http://crl.example/1.crl']));
    expect(reads).toEqual(['issuer']);
    // A certificate without one is still matched on its own (AKI, or issuer name and signature).
    await resolver.attach(cert('bare', []));
    expect(reads).toEqual(['issuer', 'bare']);
  });
});
