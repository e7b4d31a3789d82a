/**
 * The issuer of an appendix row (`track --appendix`), found by the name the CA
 * wrote in its Issuer column among the certificates given with `--issuer` and
 * the CA certificates the imported CCADB disclosures carry (their PEMs), each
 * read once per command.
 *
 * A name as text comes in several spellings; they are compared by
 * pki/name-key.ts's nameKey, the one key the CCADB issuer lookup by text
 * (ccadb/issuers.ts subjectTextKey) uses too.
 *
 * This is the one place `track --appendix` asks the CCADB for a CA
 * certificate: it reads the DisclosureStore as it is (the disclosures' `pem`),
 * so the lookup can be pointed at a richer store of disclosed CA certificates
 * without touching the rest.
 */
import { readCertificateBlocks, describeCertificate, type CertificateInfo } from '../pki/certificate.js';
import type { StoredDisclosure } from '../ccadb/store.js';
import type { DisclosedCaCertificate } from '../ccadb/issuers.js';
import { nameKey } from '../pki/name-key.js';

export { nameKey };

/** Issuer spellings remembered at once (a malformed appendix may spell every row's issuer differently). */
const MAX_SPELLINGS = 10_000;

export interface AppendixIssuers {
  /** The CA certificates whose subject is `name`: the `--issuer` ones when any matches, else the disclosed ones. */
  byName(name: string): CertificateInfo[];
  /** How many disclosed CA certificates were read (for the summary). */
  readonly disclosedCount: number;
}

/**
 * Indexes `given` (--issuer) and the disclosed CA certificates by subject name: those of the "All
 * Certificate PEMs" report (`kept`), and the PEMs of records reports that carried them (V4). A disclosure
 * without a readable PEM is left out.
 */
export function appendixIssuers(
  given: readonly CertificateInfo[],
  disclosures: readonly StoredDisclosure[],
  kept: readonly DisclosedCaCertificate[] = [],
): AppendixIssuers {
  const index = (certs: Iterable<CertificateInfo>): Map<string, CertificateInfo[]> => {
    const out = new Map<string, CertificateInfo[]>();
    for (const c of certs) {
      const key = nameKey(c.subject);
      if (!key) continue;
      const list = out.get(key) ?? [];
      if (!list.some((x) => x.sha256 === c.sha256)) list.push(c);
      out.set(key, list);
    }
    return out;
  };
  const disclosed: CertificateInfo[] = [];
  const pems = [
    ...disclosures.flatMap((d) => (d.pem ? [{ pem: d.pem, label: d.name }] : [])),
    ...kept.map((c) => ({ pem: c.pem, label: c.sha256 })),
  ];
  for (const { pem, label } of pems) {
    try {
      const [der] = readCertificateBlocks(Buffer.from(pem, 'latin1'), label);
      if (der) disclosed.push(describeCertificate(der, `CCADB ${label}`));
    } catch {
      // A PEM that does not parse names no issuer; the rows it would have served are reported as such.
    }
  }
  const givenIndex = index(given);
  const disclosedIndex = index(disclosed);
  // An appendix names the same few issuers on every row, spelled the same way: each spelling is folded once.
  const bySpelling = new Map<string, CertificateInfo[]>();
  return {
    disclosedCount: new Set(disclosed.map((c) => c.sha256)).size,
    byName(name) {
      const known = bySpelling.get(name);
      if (known) return known;
      const key = nameKey(name);
      const found = key ? (givenIndex.get(key) ?? disclosedIndex.get(key) ?? []) : [];
      if (bySpelling.size >= MAX_SPELLINGS) bySpelling.clear();
      bySpelling.set(name, found);
      return found;
    },
  };
}
