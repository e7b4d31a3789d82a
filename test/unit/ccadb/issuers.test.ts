/**
 * Disclosed CA certificates as issuers (ccadb/issuers.ts): found by key identifier, then by name; with the
 * certificate at hand only a CA whose key verifies its signature is returned, so two CAs that share a name
 * are told apart; a name given as text matches whatever its attribute order and spacing.
 */
import { describe, expect, it } from 'vitest';
import { DisclosureStore } from '../../../src/ccadb/store.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { disclosedIssuersOf, findDisclosedIssuer, subjectTextKey, toKeep } from '../../../src/ccadb/issuers.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { toPem } from '../../../src/pki/certificate.js';
import { DAY, T0 } from '../../helpers/pki-fixtures.js';

const ca = (name: string) => LocalCa.create({ name, keyType: 'ec-p256', notBefore: T0 - DAY, notAfter: T0 + 900 * DAY });
const keep = (c: LocalCa) => toKeep(c.info.der, toPem(c.info.der), c.info.sha256);

describe('findDisclosedIssuer', () => {
  it('finds the issuer by AKI, and by name with the signature deciding between two CAs of one name', async () => {
    const [twinA, twinB, other] = await Promise.all([ca('Twin CA'), ca('Twin CA'), ca('Other CA')]);
    const store = new DisclosureStore(new MemoryTable());
    await store.keepCaCertificates([keep(twinA), keep(twinB), keep(other)]);
    const leaf = (await twinB.issue({ subject: 'CN=leaf.example', notBefore: T0, notAfter: T0 + 30 * DAY })).info;

    const found = await disclosedIssuersOf(store)(leaf);
    expect(found.map((c) => c.sha256)).toEqual([twinB.info.sha256]);

    // By name only (no key identifier): both twins are candidates until the signature is checked.
    const byName = await findDisclosedIssuer(store, { issuerNameDer: leaf.raw.issuerName });
    expect(byName.map((c) => c.sha256).sort()).toEqual([twinA.info.sha256, twinB.info.sha256].sort());
    const verified = await findDisclosedIssuer(store, { issuerNameDer: leaf.raw.issuerName, signed: leaf });
    expect(verified.map((c) => c.sha256)).toEqual([twinB.info.sha256]);

    // By key identifier alone: exactly the CA with that SKI.
    const byKey = await findDisclosedIssuer(store, { keyId: other.info.subjectKeyId });
    expect(byKey.map((c) => c.sha256)).toEqual([other.info.sha256]);

    // A certificate signed by a CA the CCADB does not disclose has no disclosed issuer.
    const stranger = await ca('Twin CA');
    const orphan = (await stranger.issue({ subject: 'CN=orphan.example', notBefore: T0, notAfter: T0 + 30 * DAY })).info;
    expect(await disclosedIssuersOf(store)(orphan)).toEqual([]);
  });

  it('matches a name given as text whatever its order and spacing', async () => {
    const c = await LocalCa.create({
      name: 'Example Issuing CA',
      keyType: 'ec-p256',
      notBefore: T0 - DAY,
      notAfter: T0 + 900 * DAY,
    });
    const store = new DisclosureStore(new MemoryTable());
    await store.keepCaCertificates([keep(c)]);
    expect(subjectTextKey('CN=Example Issuing CA')).toBe(subjectTextKey('cn = Example  Issuing CA'));
    expect(subjectTextKey('CN=A, O=B, C=US')).toBe(subjectTextKey('C = US, O = B, CN = A'));
    expect(subjectTextKey('CN=A, O=B')).not.toBe(subjectTextKey('CN=A, O=C'));
    const found = await findDisclosedIssuer(store, { issuerText: ' O = revwatch local CA,  CN = Example Issuing CA ' });
    expect(found.map((x) => x.sha256)).toEqual([c.info.sha256]);
    expect(await findDisclosedIssuer(store, { issuerText: 'CN=Another CA' })).toEqual([]);
  });
});
