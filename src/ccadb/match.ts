/**
 * Which CCADB disclosure covers a certificate: its issuing CA, found by the
 * certificate's Authority Key Identifier equal to a disclosed Subject Key
 * Identifier (RFC 5280 4.2.1.1: the AKI names the key that signed it), or,
 * for certificates without an AKI, by issuer name equal to a disclosed
 * certificate's subject with the certificate's signature verified under that
 * certificate's key (names alone are not unique across CAs).
 *
 * A certificate without a CDP of its own is checked against its issuer's
 * disclosed full CRLs (each one: since CCADB Policy 2.1 a CA may disclose
 * several), or, when the issuer disclosed only a partitioned set, against
 * every shard (their union is the full CRL). One with a CDP is also checked
 * against the disclosed full CRLs, so that they can be compared
 * (crl_sources_disagree). Shards are only polled for certificates without a
 * CDP, and never next to a full CRL: a CA that partitions names the shard in
 * the certificate, and a shard must carry an IDP a full CRL does not.
 */
import type { StoredCertificate } from '../ports/store.js';
import { readCertificateBlocks } from '../pki/certificate.js';
import { authorityKeyId, subjectKeyId } from '../pki/certificate-fields.js';
import { certificateKey, isSignedBy, parseRawCertificate, type RawCertificate } from '../pki/raw-certificate.js';
import { nameHash } from './issuers.js';
import { disclosedUrls, fullCrlsOf } from './report.js';
import type { DisclosureLookup, StoredDisclosure } from './store.js';

/** The disclosure-derived fields the planner and status attach to a tracked certificate. */
export interface DisclosedSources {
  readonly disclosedCrlUrls: readonly string[];
  /** The disclosure is a partitioned set: each shard must name itself in a critical IDP (RFC 5280 5.2.5). */
  readonly disclosedCrlsPartitioned: boolean;
}

/** The disclosure of the CA that issued `cert`, or null. `issuerSha256` breaks ties between CA certificates that share a key. */
export async function disclosureFor(
  lookup: DisclosureLookup,
  cert: RawCertificate,
  issuerSha256?: string,
): Promise<StoredDisclosure | null> {
  let aki: string | null = null;
  try {
    aki = authorityKeyId(cert);
  } catch {
    aki = null; // a malformed AKI: fall back to the name and signature
  }
  const pick = (found: StoredDisclosure[]): StoredDisclosure | null => {
    const withUrls = found.filter((d) => disclosedUrls(d).length > 0).sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
    return withUrls.find((d) => d.sha256 === issuerSha256) ?? withUrls[0] ?? null;
  };
  if (aki) {
    const byKey = pick(await lookup.byKeyId(aki));
    if (byKey) return byKey;
  }
  const signers = (await lookup.bySubjectName(nameHash(cert.issuerName))).filter((d) => {
    if (!d.pem) return false;
    try {
      const [der] = readCertificateBlocks(Buffer.from(d.pem, 'latin1'), d.name);
      return isSignedBy(cert, certificateKey(parseRawCertificate(der!)));
    } catch {
      return false;
    }
  });
  return pick(signers);
}

/** The disclosed CRLs a certificate is checked against (see the module comment). */
export function disclosedSourcesOf(
  cert: Pick<StoredCertificate, 'crlUrls' | 'givenCrlUrls'>,
  d: StoredDisclosure | null,
): DisclosedSources {
  if (!d) return { disclosedCrlUrls: [], disclosedCrlsPartitioned: false };
  const ownCrl = cert.crlUrls.length > 0 || (cert.givenCrlUrls?.length ?? 0) > 0;
  const full = fullCrlsOf(d);
  if (ownCrl || full.length > 0) return { disclosedCrlUrls: [...full], disclosedCrlsPartitioned: false };
  return { disclosedCrlUrls: [...d.partitionedCrls], disclosedCrlsPartitioned: d.partitionedCrls.length > 0 };
}

/**
 * Attaches disclosed sources to stored certificates, reading each certificate's DER once and each
 * issuer's disclosure once per (AKI, issuer) in a run.
 */
export class DisclosureResolver {
  private readonly cache = new Map<string, Promise<StoredDisclosure | null>>();
  constructor(
    private readonly lookup: DisclosureLookup,
    private readonly certificateDer: (sha256: string) => Promise<Uint8Array | null>,
  ) {}

  private readonly byIssuer = new Map<string, Promise<StoredDisclosure | null>>();

  /**
   * The disclosure found through the stored issuer, which `track` proved signed the certificate: its
   * Subject Key Identifier is the one the certificate's AKI must carry (RFC 5280 4.2.1.1). One read per
   * issuer, however many certificates it issued.
   */
  private viaIssuer(issuerSha256: string): Promise<StoredDisclosure | null> {
    let found = this.byIssuer.get(issuerSha256);
    if (!found) {
      found = (async () => {
        const der = await this.certificateDer(issuerSha256);
        if (!der) return null;
        let ski: string | null;
        try {
          ski = subjectKeyId(parseRawCertificate(der));
        } catch {
          return null;
        }
        if (!ski) return null;
        const withUrls = (await this.lookup.byKeyId(ski))
          .filter((d) => disclosedUrls(d).length > 0)
          .sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
        return withUrls.find((d) => d.sha256 === issuerSha256) ?? withUrls[0] ?? null;
      })();
      this.byIssuer.set(issuerSha256, found);
    }
    return found;
  }

  /** When the disclosures were last imported; null when never. */
  private imported: Promise<number | null> | null = null;

  async attach<C extends StoredCertificate>(cert: C): Promise<C> {
    // Nothing imported (most homes): no certificate has a disclosure to look up, and no read is spent on one.
    this.imported ??= this.lookup.lastImport().then((last) => last?.at ?? null);
    const importedAt = await this.imported;
    if (importedAt === null) return cert;
    const viaIssuer = await this.viaIssuer(cert.issuerSha256);
    if (viaIssuer) return withSources(cert, viaIssuer, importedAt);
    // The fallback below reads each certificate (one item per certificate per run). A certificate with its
    // own CDP gets only the disclosed full CRL, for comparison, from a disclosure found through its issuer;
    // the per-certificate match is kept for those that have no CRL of their own.
    if (cert.crlUrls.length > 0) return cert;
    const der = await this.certificateDer(cert.sha256);
    if (!der) return cert;
    let raw: RawCertificate;
    try {
      raw = parseRawCertificate(der);
    } catch {
      return cert;
    }
    let aki: string | null = null;
    try {
      aki = authorityKeyId(raw);
    } catch {
      aki = null;
    }
    // Without an AKI the match depends on the signature, so it is cached per certificate.
    const key = aki ? `${aki}|${cert.issuerSha256}` : `cert|${cert.sha256}`;
    let found = this.cache.get(key);
    if (!found) {
      found = disclosureFor(this.lookup, raw, cert.issuerSha256);
      this.cache.set(key, found);
    }
    return withSources(cert, await found, importedAt);
  }
}

function withSources<C extends StoredCertificate>(cert: C, d: StoredDisclosure | null, importedAt: number): C {
  const sources = disclosedSourcesOf(cert, d);
  return sources.disclosedCrlUrls.length === 0 ? cert : { ...cert, ...sources, disclosureImportedAt: importedAt };
}
