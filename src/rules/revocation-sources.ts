/**
 * Where a tracked certificate's revocation status is read, and by which
 * route each source was reached:
 *
 * - `cdp`: the certificate's own CRL Distribution Points (RFC 5280 4.2.1.13);
 * - `aia`: the OCSP responder of its Authority Information Access (RFC 5280 4.2.2.1);
 * - `given`: a CRL or OCSP URL given by hand at `track` (`--crl-url`, `--ocsp-url`),
 *   for certificates whose own extensions lack them or are wrong;
 * - `ccadb`: a CRL its issuer disclosed in the CCADB (full, or every shard of a
 *   partitioned set), used for certificates that carry no CDP. CRLs are
 *   mandatory and OCSP optional since BR 2.0.1 (SC063), so a certificate with
 *   neither extension is still covered by its issuer's disclosed CRLs.
 *
 * A URL reached by two routes counts once, under the first of cdp, aia, given, ccadb:
 * the certificate's own claim is the stronger evidence.
 */
import type { TrackedCertificate } from '../domain.js';

export type SourceRoute = 'cdp' | 'aia' | 'given' | 'ccadb';

export interface RevocationSource {
  readonly kind: 'crl' | 'ocsp';
  readonly url: string;
  readonly route: SourceRoute;
}

export type SourcedCertificate = Pick<
  TrackedCertificate,
  'crlUrls' | 'ocspUrls' | 'givenCrlUrls' | 'givenOcspUrls' | 'disclosedCrlUrls' | 'disclosedCrlsPartitioned'
>;

/**
 * The most URLs of one kind read from one route of a certificate: its CRL
 * Distribution Points, its AIA OCSP responders, and each kind given by hand.
 * Real certificates name one or two of each (BR 7.1.2.11.2 asks for one
 * HTTP CDP); a certificate that names thousands is built to make every run
 * fetch thousands of URLs and write an evidence record past the store's item
 * size. The URLs past the cap are refused (refusedSources), not read.
 * Disclosed CCADB shards are capped where they are imported (ccadb/report.ts).
 */
export const MAX_URLS_PER_ROUTE = 10;

/** The URLs of a certificate's routes past MAX_URLS_PER_ROUTE, each once, in route order. */
export interface RefusedSources {
  readonly kind: 'crl' | 'ocsp';
  readonly route: SourceRoute;
  /** How many distinct URLs the route names, read and refused. */
  readonly named: number;
  readonly refused: readonly string[];
}

/** Every source of a certificate, each URL once per kind, in route order, at most MAX_URLS_PER_ROUTE per route. */
export function revocationSources(cert: SourcedCertificate): RevocationSource[] {
  return collectSources(cert, null);
}

/** The sources a certificate names beyond the cap: recorded as refused by `check`, never asked. */
export function refusedSources(cert: SourcedCertificate): RefusedSources[] {
  const refused: RefusedSources[] = [];
  collectSources(cert, refused);
  return refused;
}

function collectSources(cert: SourcedCertificate, refused: RefusedSources[] | null): RevocationSource[] {
  const out: RevocationSource[] = [];
  addSources(out, refused, 'crl', 'cdp', cert.crlUrls);
  addSources(out, refused, 'ocsp', 'aia', cert.ocspUrls);
  addSources(out, refused, 'crl', 'given', cert.givenCrlUrls);
  addSources(out, refused, 'ocsp', 'given', cert.givenOcspUrls);
  // Which disclosed CRLs a certificate is checked against is decided where they are attached (ccadb/match.ts):
  // every one for a certificate without a CDP, the full CRL only (for comparison) for one with a CDP.
  addSources(out, refused, 'crl', 'ccadb', cert.disclosedCrlUrls);
  return out;
}

/**
 * One route's URLs added to `out`, each (kind, URL) once across routes. A certificate names a handful, so `out`
 * is searched rather than a set made: every certificate status judges lists its sources several times.
 */
function addSources(
  out: RevocationSource[],
  refused: RefusedSources[] | null,
  kind: 'crl' | 'ocsp',
  route: SourceRoute,
  urls: readonly string[] | undefined,
): void {
  if (!urls || urls.length === 0) return;
  // Disclosed shards can be hundreds: past a few URLs a set finds the ones already added.
  const seen = out.length + urls.length > 16 ? new Set(out.map((s) => `${s.kind} ${s.url}`)) : null;
  const added = (url: string): boolean => {
    if (seen) return seen.has(`${kind} ${url}`);
    for (const s of out) if (s.kind === kind && s.url === url) return true;
    return false;
  };
  let taken = 0;
  let over: Set<string> | null = null;
  for (const url of urls) {
    if (added(url)) continue;
    if (route !== 'ccadb' && taken >= MAX_URLS_PER_ROUTE) {
      // Not marked seen: a later route that names the same URL still reaches it.
      if (refused) {
        over ??= new Set();
        over.add(url);
      }
      continue;
    }
    seen?.add(`${kind} ${url}`);
    taken++;
    out.push({ kind, url, route });
  }
  if (over) refused!.push({ kind, route, named: taken + over.size, refused: [...over] });
}

/**
 * True when the CRL at `url` reaches the certificate as a shard of a partitioned CCADB disclosure: it must
 * then carry a critical issuingDistributionPoint naming exactly that URL (RFC 5280 5.2.5; Apple Root
 * Program 2.1.2 and the CCADB require partitioned CRLs to be scoped this way), or it proves nothing.
 */
export function isDisclosedShard(cert: SourcedCertificate, url: string): boolean {
  return cert.disclosedCrlsPartitioned === true && routeOf(cert, 'crl', url) === 'ccadb';
}

/** The CRL URLs a certificate is checked against, every route. */
export function crlSourceUrls(cert: SourcedCertificate): string[] {
  return revocationSources(cert)
    .filter((s) => s.kind === 'crl')
    .map((s) => s.url);
}

/** True when at least one OCSP responder is known for the certificate (its AIA or given by hand). */
export function hasOcspSource(cert: SourcedCertificate): boolean {
  return cert.ocspUrls.length > 0 || (cert.givenOcspUrls?.length ?? 0) > 0;
}

/** The route by which a source of this certificate was reached; null when the URL is none of its sources. */
export function routeOf(cert: SourcedCertificate, kind: 'crl' | 'ocsp', url: string): SourceRoute | null {
  return revocationSources(cert).find((s) => s.kind === kind && s.url === url)?.route ?? null;
}
