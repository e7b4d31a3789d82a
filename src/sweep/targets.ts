/**
 * What a sweep reads: every CRL URL of every imported CCADB disclosure (the
 * full CRL and each partitioned one), once, with the disclosed CA
 * certificates that may have signed it.
 */
import { createHash } from 'node:crypto';
import type { StoredDisclosure } from '../ccadb/store.js';
import { readCertificateBlocks } from '../pki/certificate.js';
import { parseRawCertificate, sameBytes, type RawCertificate } from '../pki/raw-certificate.js';

export interface CaCertificate {
  readonly sha256: string;
  readonly raw: RawCertificate;
  /** SHA-256 of the subjectPublicKeyInfo: the revocation index's issuer key. */
  readonly issuerKey: string;
  readonly subjectKeyId: string | null;
  readonly name: string;
  readonly owner: string;
  /** Self-issued (a root): its CRL lists CA certificates (BR 4.9.7's 12 months). */
  readonly root: boolean;
}

export interface SweepTarget {
  readonly url: string;
  /** Disclosed as one of a partitioned set. */
  readonly shard: boolean;
  readonly owner: string;
  /** The other URLs of its partitioned set (a serial on two of them is a health finding). */
  readonly siblings: readonly string[];
  /** The disclosures naming it, and the CA certificates among them that carry a PEM. */
  readonly disclosures: readonly string[];
  readonly caCertificates: readonly CaCertificate[];
}

export interface TargetFilter {
  /** CA owners (case-insensitive, a part of the name is enough). */
  readonly owners?: readonly string[];
  /** CA certificates by SHA-256, or a part of their name (case-insensitive). */
  readonly cas?: readonly string[];
}

/**
 * The CA certificate a disclosure carries, from its PEM cell (the sweep fills
 * that cell from the CCADB's PEM report before it gets here, see
 * withCaCertificates in sweep.ts); without one, its CRLs are recorded as having
 * no disclosed CA certificate to verify them with.
 */
export function caCertificateOf(d: StoredDisclosure): CaCertificate | null {
  if (!d.pem) return null;
  try {
    const [der] = readCertificateBlocks(Buffer.from(d.pem, 'latin1'), d.sha256);
    const raw = parseRawCertificate(der!);
    return {
      sha256: d.sha256,
      raw,
      issuerKey: createHash('sha256').update(raw.spki).digest('hex'),
      subjectKeyId: d.subjectKeyId,
      name: d.name,
      owner: d.owner,
      root: sameBytes(raw.issuerName, raw.subjectName),
    };
  } catch {
    return null;
  }
}

const matches = (value: string, wanted: readonly string[] | undefined): boolean =>
  !wanted || wanted.length === 0 || wanted.some((w) => value.toLowerCase().includes(w.toLowerCase()));

export function sweepTargets(disclosures: readonly StoredDisclosure[], filter: TargetFilter = {}): SweepTarget[] {
  const byUrl = new Map<string, { shard: boolean; owner: string; siblings: Set<string>; disclosures: string[]; certs: CaCertificate[] }>();
  for (const d of disclosures) {
    if (!matches(d.owner, filter.owners)) continue;
    if (
      filter.cas &&
      filter.cas.length > 0 &&
      !filter.cas.some((c) => c.toLowerCase() === d.sha256 || d.name.toLowerCase().includes(c.toLowerCase()))
    )
      continue;
    const cert = caCertificateOf(d);
    const urls: [string, boolean][] = [
      ...(d.fullCrls ?? (d.fullCrl ? [d.fullCrl] : [])).map((u) => [u, false] as [string, boolean]),
      ...d.partitionedCrls.map((u) => [u, true] as [string, boolean]),
    ];
    for (const [url, shard] of urls) {
      const t = byUrl.get(url) ?? { shard, owner: d.owner, siblings: new Set<string>(), disclosures: [], certs: [] };
      if (shard) for (const s of d.partitionedCrls) if (s !== url) t.siblings.add(s);
      t.disclosures.push(d.sha256);
      if (cert && !t.certs.some((c) => c.sha256 === cert.sha256)) t.certs.push(cert);
      byUrl.set(url, t);
    }
  }
  return [...byUrl.entries()]
    .map(([url, t]) => ({
      url,
      shard: t.shard,
      owner: t.owner,
      siblings: [...t.siblings],
      disclosures: t.disclosures,
      caCertificates: t.certs,
    }))
    .sort((a, b) => (a.url < b.url ? -1 : 1));
}
