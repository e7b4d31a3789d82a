/**
 * One name normaliser (pki/name-key.ts) for both places a name comes as text: an appendix's Issuer column
 * (track/appendix-issuer.ts byName) and the CCADB's CA certificates kept and looked up by subject text
 * (ccadb/issuers.ts subjectTextKey). Each still matches every spelling it matched before, the two agree on
 * every spelling, and each now also matches the other's.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { findDisclosedIssuer, subjectTextKey, toKeep } from '../../../src/ccadb/issuers.js';
import { DisclosureStore } from '../../../src/ccadb/store.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { toPem } from '../../../src/pki/certificate.js';
import { nameKey } from '../../../src/pki/name-key.js';
import { appendixIssuers } from '../../../src/track/appendix-issuer.js';
import { DAY, T0 } from '../../helpers/pki-fixtures.js';

/** Spellings of one name: those each normaliser's tests matched before, then the other's. */
const SPELLINGS: readonly (readonly string[])[] = [
  [
    // appendix (nameKey) before
    'C=US, O=Example Trust, CN=Example  TLS CA',
    'CN=Example TLS CA, O=Example Trust, C=US',
    '/C=US/O=Example Trust/CN=example tls ca',
    'commonName = Example TLS CA, organizationName=Example Trust, countryName=US',
    // CCADB by text (subjectTextKey) before
    'C = US, O = Example Trust, CN = Example TLS CA',
    'CN=Example TLS CA,O=Example Trust,C=US',
  ],
  ['CN=CA, O=Example\\, Inc.', 'O=Example, Inc., CN=CA', 'CN=CA, O="Example, Inc."', 'cn = ca , o = example\\, inc.'],
  ['CN=Example Issuing CA', 'cn = Example  Issuing CA', '2.5.4.3=Example Issuing CA'],
  ['CN=A, O=B, C=US', 'C = US, O = B, CN = A'],
  ['CN=A, O=B'],
  ['CN=A, O=C'],
];

describe('one name key for the appendix and the CCADB lookup by text', () => {
  it('every spelling of a name gives one key, in both; different names give different keys', () => {
    const keys = SPELLINGS.map((group) => {
      const names = new Set(group.map((s) => nameKey(s)));
      const texts = new Set(group.map((s) => subjectTextKey(s)));
      expect(names.size, group[0]).toBe(1);
      expect(texts.size, group[0]).toBe(1);
      expect([...names][0]).not.toBeNull();
      return [...texts][0];
    });
    expect(new Set(keys).size).toBe(SPELLINGS.length);
    // Text that is no name: no nameKey (an appendix row naming no issuer), a key of its own for the CCADB.
    expect(nameKey('Example CA')).toBeNull();
    expect(subjectTextKey('Example  CA')).toBe(subjectTextKey('example ca'));
  });

  it('the appendix and the CCADB lookup both find the same disclosed CA from the same spellings', async () => {
    const ca = await LocalCa.create({ name: 'Example Issuing CA', keyType: 'ec-p256', notBefore: T0 - DAY, notAfter: T0 + 900 * DAY });
    const kept = toKeep(ca.info.der, toPem(ca.info.der), ca.info.sha256);
    const store = new DisclosureStore(new MemoryTable());
    await store.keepCaCertificates([kept]);
    const issuers = appendixIssuers([], [], [{ sha256: ca.info.sha256, pem: kept.pem }]);
    for (const spelling of [
      ca.info.subject,
      ' O = revwatch local CA,  CN = Example Issuing CA ',
      '/O=revwatch local CA/CN=Example Issuing CA',
      'commonName=example issuing ca, organizationName=REVWATCH LOCAL CA',
    ]) {
      expect(
        issuers.byName(spelling).map((c) => c.sha256),
        spelling,
      ).toEqual([ca.info.sha256]);
      expect(
        (await findDisclosedIssuer(store, { issuerText: spelling })).map((c) => c.sha256),
        spelling,
      ).toEqual([ca.info.sha256]);
    }
    for (const other of ['CN=Another CA', 'CN=Example Issuing CA', 'CN=Example Issuing CA, O=revwatch local CA, C=US']) {
      expect(issuers.byName(other), other).toEqual([]);
      expect(await findDisclosedIssuer(store, { issuerText: other }), other).toEqual([]);
    }
  });
});
