/**
 * Tracking: validate everything first, then write. Bad input (no issuer, no
 * revocation source, a case that exists with other facts) fails before
 * anything is stored; tracking a certificate twice in a case is a no-op.
 */
import { createHash } from 'node:crypto';
import type { Case } from '../domain.js';
import { InputError } from '../errors.js';
import { resolveIssuer, type CaIssuersFetch, type CertificateInfo, type DisclosedIssuers } from '../pki/certificate.js';
import { certificatePolicyOids, subjectAltNameTexts } from '../pki/certificate-fields.js';
import type { Clock } from '../ports/index.js';
import type { ProgressSink } from '../check/execute.js';
import type { CaseStore, StoredCertificate } from '../ports/store.js';
import { iso } from '../time.js';

export interface TrackEntry {
  readonly certificate: CertificateInfo;
  /** Other certificates from the same input (issuer candidates). */
  readonly bundle: readonly CertificateInfo[];
  readonly source: string;
  readonly crtshId?: string | null;
}

export interface TrackResult {
  readonly caseId: string;
  readonly caseCreated: boolean;
  readonly added: number;
  readonly alreadyTracked: number;
  /** Certificates already tracked that took sources given with --crl-url / --ocsp-url this time (absent when none). */
  readonly sourcesAdded?: number;
}

/** A stable id for a case given its facts, so that re-running the same `track` reaches the same case. */
export function defaultCaseId(kase: Pick<Case, 'reportedAt' | 'reason' | 'kind' | 'title' | 'notifiedBy'>): string {
  // A program's notice is hashed only when given, so ids of cases without one stay as they were.
  const facts = kase.notifiedBy
    ? [kase.reportedAt, kase.reason, kase.kind, kase.title, kase.notifiedBy]
    : [kase.reportedAt, kase.reason, kase.kind, kase.title];
  const h = createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 10);
  return `case-${new Date(kase.reportedAt).toISOString().slice(0, 10)}-${h}`;
}

export function splitBundle(certs: readonly CertificateInfo[]): { targets: CertificateInfo[]; issuers: CertificateInfo[] } {
  // A certificate that issued another one in the same bundle is an issuer candidate, not a target.
  const issuers = certs.filter((c) =>
    certs.some((o) => o !== c && o.authorityKeyId !== null && o.authorityKeyId === c.subjectKeyId && o.issuer === c.subject),
  );
  const targets = certs.filter((c) => !issuers.includes(c));
  return { targets: targets.length ? targets : [...certs], issuers };
}

/** Sources given by hand at `track` (--crl-url, --ocsp-url), for every certificate of the command. */
export interface GivenSources {
  readonly crlUrls?: readonly string[];
  readonly ocspUrls?: readonly string[];
}

/** SANs are context for the report, not evidence: an unreadable extension gives none rather than refusing the certificate. */
function sansOf(c: CertificateInfo): string[] {
  try {
    return subjectAltNameTexts(c.raw);
  } catch {
    return [];
  }
}

/**
 * Its certificatePolicies OIDs (the S/MIME generation, S/MIME BR 7.1.6.1); a malformed extension leaves them
 * unknown, as for a certificate tracked before they were kept, rather than refusing a certificate to track.
 */
function policyOidsOf(c: CertificateInfo): string[] {
  try {
    return certificatePolicyOids(c.raw);
  } catch {
    return [];
  }
}

/** Certificate DERs stored per call when tracking: large enough that slicing costs nothing measurable. */
const DER_SLICE = 2000;

/**
 * The largest certificate tracked, and the most its stored record may take. Real certificates are a few
 * KB (a few hundred SANs stay under 20 KB); each is stored as one item of at most 400 KB, so a 1.3 MB
 * certificate with 50,000 SANs is refused as input, before anything is written, not failed half-way.
 */
export const MAX_CERTIFICATE_BYTES = 256 * 1024;
export const MAX_STORED_CERTIFICATE_BYTES = 256 * 1024;

export async function trackCertificates(
  deps: {
    store: CaseStore;
    clock: Clock;
    fetchCaIssuers?: CaIssuersFetch;
    /** The CA certificates imported from the CCADB that may have issued a certificate: tried after --issuer and the bundle, before AIA. */
    disclosedIssuers?: DisclosedIssuers;
    /** The CRLs the issuer disclosed in the CCADB, when an import holds a disclosure for it (ccadb/). */
    disclosedCrlsOf?: (cert: CertificateInfo, issuer: CertificateInfo) => Promise<readonly string[]>;
    /** Counts certificates as they are checked, then as their DERs are stored (the CLI's bar on a terminal). */
    progress?: ProgressSink;
  },
  kase: Case,
  entries: readonly TrackEntry[],
  given: readonly CertificateInfo[],
  sources: GivenSources = {},
): Promise<TrackResult> {
  if (entries.length === 0) throw new InputError('no certificates to track');
  const existing = await existingCaseWithSameFacts(deps.store, kase);

  // Resolve and validate every certificate before writing anything.
  const now = deps.clock.now().getTime();
  const toStore: StoredCertificate[] = [];
  const ders = new Map<string, Uint8Array>();
  deps.progress?.start(entries.length, 'checking');
  for (const e of entries) {
    const c = e.certificate;
    const givenCrlUrls = [...(sources.crlUrls ?? [])];
    const givenOcspUrls = [...(sources.ocspUrls ?? [])];
    const sourceless = c.ocspUrls.length === 0 && c.crlUrls.length === 0 && givenCrlUrls.length === 0 && givenOcspUrls.length === 0;
    const refuse = (): never => {
      throw new InputError(
        `${e.source}: ${c.subject} (serial ${c.serial}) names no OCSP responder and no CRL distribution point, and no CCADB disclosure is imported for its issuer; give --crl-url or --ocsp-url, or run \`revwatch ccadb import\``,
      );
    };
    if (sourceless && !deps.disclosedCrlsOf) refuse();
    if (c.der.length > MAX_CERTIFICATE_BYTES)
      throw new InputError(
        `${e.source}: certificate ${c.serial} is ${c.der.length} bytes, more than the ${MAX_CERTIFICATE_BYTES} revwatch tracks`,
      );
    const resolution = await resolveIssuer(c, {
      given,
      bundle: e.bundle,
      disclosedIssuers: deps.disclosedIssuers,
      fetchCaIssuers: deps.fetchCaIssuers,
    });
    // No source of its own and none given: the issuer's CCADB disclosure is the last route (BR 2.0.1 made OCSP optional).
    if (sourceless && (await deps.disclosedCrlsOf!(c, resolution.revocationIssuer)).length === 0) refuse();
    if (resolution.revocationIssuer.der.length > MAX_CERTIFICATE_BYTES)
      throw new InputError(
        `${e.source}: its issuer certificate is ${resolution.revocationIssuer.der.length} bytes, more than the ${MAX_CERTIFICATE_BYTES} revwatch stores`,
      );
    ders.set(c.sha256, c.der);
    ders.set(resolution.revocationIssuer.sha256, resolution.revocationIssuer.der);
    const stored = storedCertificateOf(
      kase.id,
      c,
      resolution.revocationIssuer.sha256,
      { givenCrlUrls, givenOcspUrls },
      now,
      e.crtshId ?? null,
    );
    const storedBytes = Buffer.byteLength(JSON.stringify(stored));
    if (storedBytes > MAX_STORED_CERTIFICATE_BYTES)
      throw new InputError(
        `${e.source}: certificate ${c.serial} would take ${storedBytes} bytes stored (its URLs and names), more than the ${MAX_STORED_CERTIFICATE_BYTES} revwatch stores`,
      );
    toStore.push(stored);
    deps.progress?.increment();
  }
  const unique = new Map(toStore.map((c) => [c.sha256, c]));

  const { caseCreated, added, sourcesAdded } = await recordTracked(deps, kase, existing, [...unique.values()], ders, now);
  return { caseId: kase.id, caseCreated, added, alreadyTracked: unique.size - added, ...(sourcesAdded ? { sourcesAdded } : {}) };
}

/** The case as stored, or null when new; refused when it exists with other facts (before anything is written). */
export async function existingCaseWithSameFacts(store: CaseStore, kase: Case): Promise<Case | null> {
  const existing = await store.getCase(kase.id);
  if (
    existing &&
    (existing.reportedAt !== kase.reportedAt ||
      existing.reason !== kase.reason ||
      existing.kind !== kase.kind ||
      (existing.notifiedBy ?? null) !== (kase.notifiedBy ?? null))
  ) {
    throw new InputError(
      `case ${kase.id} exists with --reported-at ${iso(existing.reportedAt)}, --reason ${existing.reason}, --kind ${existing.kind}${existing.notifiedBy ? `, --notified-by ${existing.notifiedBy}` : ''}; give the same facts or another --case`,
    );
  }
  return existing;
}

/** A certificate read from its DER as the store keeps it in a case (its SANs and policies read once, here). */
export function storedCertificateOf(
  caseId: string,
  c: CertificateInfo,
  issuerSha256: string,
  given: { givenCrlUrls: readonly string[]; givenOcspUrls: readonly string[] },
  now: number,
  crtshId: string | null,
): StoredCertificate {
  const policyOids = policyOidsOf(c);
  const { givenCrlUrls, givenOcspUrls } = given;
  return {
    caseId,
    sha256: c.sha256,
    serial: c.serial,
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    precertificate: c.precertificate,
    ocspUrls: [...c.ocspUrls],
    crlUrls: [...c.crlUrls],
    ...(givenCrlUrls.length ? { givenCrlUrls: [...givenCrlUrls] } : {}),
    ...(givenOcspUrls.length ? { givenOcspUrls: [...givenOcspUrls] } : {}),
    issuerSha256,
    isCA: c.isCA,
    ...(c.raw.signatureAlgorithm ? { signatureAlgorithm: c.raw.signatureAlgorithm.name } : {}),
    ...(policyOids.length ? { policyOids } : {}),
    trackedAt: now,
    crtshId,
    sans: sansOf(c),
  };
}

/**
 * Writes what was validated: the case when new (or its delayed-revocation report URL), the DERs, then the
 * certificates in one batch (Store.addCertificates skips those the case already tracks).
 */
export async function recordTracked(
  deps: { store: CaseStore; progress?: ProgressSink },
  kase: Case,
  existing: Case | null,
  certificates: readonly StoredCertificate[],
  ders: ReadonlyMap<string, Uint8Array>,
  now: number,
): Promise<{ caseCreated: boolean; added: number; sourcesAdded: number }> {
  const caseCreated = existing ? false : await deps.store.createCase(kase, now);
  // The delayed-revocation report is filed after the deadline, so an existing case takes it on a later track.
  if (existing && kase.delayedReportUrl && existing.delayedReportUrl !== kase.delayedReportUrl)
    await deps.store.setDelayedReportUrl(kase.id, kase.delayedReportUrl);
  // The DERs go in slices so that a large folder's progress moves; each is a plain put, so slicing changes nothing stored.
  const derItems = [...ders].map(([sha256, der]) => ({ sha256, der }));
  deps.progress?.start(derItems.length, 'storing');
  for (let i = 0; i < derItems.length; i += DER_SLICE) {
    const slice = derItems.slice(i, i + DER_SLICE);
    await deps.store.putCertificateDers(slice);
    deps.progress?.increment(slice.length);
  }
  deps.progress?.stop();
  deps.progress?.note?.(`recording ${certificates.length} certificate(s) in case ${kase.id}`);
  const added = await deps.store.addCertificates(certificates);
  const sourcesAdded = certificates.some((c) => c.givenCrlUrls?.length || c.givenOcspUrls?.length)
    ? await addGivenSources(deps.store, certificates, added, now)
    : 0;
  deps.progress?.stop();
  return { caseCreated, added, sourcesAdded };
}

/**
 * Re-tracking a certificate already in the case with --crl-url / --ocsp-url adds those sources to it (a CA
 * that names a new CRL mid-incident, or a source the first track left out): the stored certificate takes
 * the union of what it had and what is given, and is made due so that the next check asks the new sources.
 * Returns how many certificates gained a source.
 */
export async function addGivenSources(
  store: CaseStore,
  tracked: readonly StoredCertificate[],
  added: number,
  now: number,
): Promise<number> {
  if (added === tracked.length) return 0; // every one is new: stored with the given sources already
  const stored = await store.getCaseCertificates(tracked.map((c) => ({ caseId: c.caseId, sha256: c.sha256 })));
  const given = new Map(tracked.map((c) => [c.sha256, c]));
  const union = (a: readonly string[] | undefined, b: readonly string[] | undefined): string[] => [
    ...new Set([...(a ?? []), ...(b ?? [])]),
  ];
  const writes = [];
  for (const cc of stored) {
    const want = given.get(cc.cert.sha256);
    if (!want) continue;
    const crl = union(cc.cert.givenCrlUrls, want.givenCrlUrls);
    const ocsp = union(cc.cert.givenOcspUrls, want.givenOcspUrls);
    if (crl.length === (cc.cert.givenCrlUrls?.length ?? 0) && ocsp.length === (cc.cert.givenOcspUrls?.length ?? 0)) continue;
    const cert: StoredCertificate = {
      ...cc.cert,
      ...(crl.length ? { givenCrlUrls: crl } : {}),
      ...(ocsp.length ? { givenOcspUrls: ocsp } : {}),
    };
    // The whole item is rewritten (the sources are part of the certificate), from a consistent read just
    // made. Not conditional on rev: a check that wrote this record in between would lose that one write,
    // and the certificate, now due, is asked again at the next check.
    writes.push({ cert, record: cc.record, rev: cc.rev, pollDue: now, soleWriter: true });
  }
  if (writes.length) await store.writeRecords(writes);
  return writes.length;
}
