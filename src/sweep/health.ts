/**
 * CRL health: what a sweep finds wrong with each disclosed CRL, as findings
 * with their citations (one table, as rules/verdict.ts's FINDING_CHECKS is
 * for certificates). A finding stays open while sweeps keep finding it and
 * is resolved by the first read that no longer does; what a read can say
 * depends on what it saw, so each check names its basis:
 *
 *   reach    evaluated on every read (a fetch failure opens it, any answer resolves it)
 *   verify   evaluated whenever a CRL came back (a 304 means the last verified CRL still stands)
 *   time     evaluated on every read that has a verified CRL, from its dates and the time read
 *   content  evaluated when the CRL changed; carried while it does not
 *   event    about the change into the current snapshot; resolved by the next change
 */
import { SHA1_SUNSET, SHA1_WITH_RSA } from '../rules/sha1-sunset.js';
import type { CrlScan } from '../pki/crl.js';
import type { HealthFindingState, UrlState } from '../ports/revocation-index.js';
import { iso } from '../time.js';
import type { CrlEntry } from './crl-entries.js';

export type HealthSeverity = 'violation' | 'warning' | 'info';
export type HealthBasis = 'reach' | 'verify' | 'time' | 'content' | 'event';

export interface HealthCheck {
  readonly severity: HealthSeverity;
  readonly basis: HealthBasis;
  readonly citation: string;
  readonly summary: string;
}

const DAY = 86_400_000;
/** BR 4.9.7: a CRL for subscriber certificates is reissued at least every 7 days, nextUpdate at most 10 days after thisUpdate. */
export const SUBSCRIBER_REISSUE_MS = 7 * DAY;
export const SUBSCRIBER_VALIDITY_MS = 10 * DAY;
/** BR 4.9.7: a CRL for CA certificates at least every 12 months, nextUpdate at most 12 months after thisUpdate. */
export const CA_REISSUE_MS = 365 * DAY;
/** BR 6.3.2: a subscriber certificate is valid at most 398 days, so one revoked less long ago may not have expired. */
export const MAX_SUBSCRIBER_VALIDITY_MS = 398 * DAY;
/** Clock skew tolerated before a thisUpdate counts as in the future (as the probes allow). */
const FUTURE_SKEW_MS = 5 * 60_000;

export const CRL_HEALTH_CHECKS = {
  crl_unreachable: {
    severity: 'violation',
    basis: 'reach',
    citation: 'CCADB Policy 2.1 §6.2 (every disclosed CRL retrievable; the sweep reads every 4 hours)',
    summary: 'the CRL could not be fetched (HTTP error, timeout, refused, too large)',
  },
  crl_no_ca_certificate: {
    severity: 'warning',
    basis: 'verify',
    citation: 'RFC 5280 6.3.3 (f), (g): a CRL is used only once verified with its issuer key',
    summary: 'no disclosed CA certificate (PEM) to verify the CRL with',
  },
  crl_signature_invalid: {
    severity: 'violation',
    basis: 'verify',
    citation: "RFC 5280 5.1.1.3, 6.3.3 (g): the signature must verify with the issuer's key",
    summary: 'the signature does not verify with any disclosed CA certificate of the URL',
  },
  crl_not_der: {
    severity: 'violation',
    basis: 'verify',
    citation: 'RFC 5280 5 and 4.2.1.13: a CRL at an HTTP distribution point is a DER-encoded CertificateList',
    summary: 'the body is not DER (PEM, HTML, empty)',
  },
  crl_unparseable: {
    severity: 'violation',
    basis: 'verify',
    citation: 'RFC 5280 5.1 (CertificateList syntax)',
    summary: 'the body starts like a CRL but cannot be read as one',
  },
  crl_stale: {
    severity: 'violation',
    basis: 'time',
    citation: 'BR 4.9.7; RFC 5280 5.1.2.5 (a CRL read after its nextUpdate)',
    summary: 'read after its nextUpdate',
  },
  crl_this_update_future: {
    severity: 'violation',
    basis: 'time',
    citation: 'RFC 5280 5.1.2.4 (thisUpdate is the issue date of this CRL)',
    summary: 'thisUpdate lies in the future',
  },
  crl_validity_too_long: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 4.9.7 (nextUpdate at most 10 days after thisUpdate; 12 months for CRLs of CA certificates)',
    summary: 'nextUpdate too far after thisUpdate',
  },
  crl_not_reissued: {
    severity: 'violation',
    basis: 'time',
    citation: 'BR 4.9.7 (reissued at least every 7 days; every 12 months for CRLs of CA certificates)',
    summary: 'thisUpdate older than the reissue interval when read',
  },
  shard_idp_missing: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 7.2.2 (issuingDistributionPoint present in a partitioned CRL); CCADB Policy 2.1 §6.2',
    summary: 'a partitioned CRL without an issuingDistributionPoint',
  },
  idp_not_critical: {
    severity: 'violation',
    basis: 'content',
    citation: 'RFC 5280 5.2.5 and BR 7.2.2 (issuingDistributionPoint is critical)',
    summary: 'issuingDistributionPoint not marked critical',
  },
  idp_other_url: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 7.2.2 (the distributionPoint names the URI the CRL is published at); RFC 5280 5.2.5',
    summary: 'issuingDistributionPoint names other URLs than the one the CRL was read from',
  },
  serial_in_two_shards: {
    severity: 'warning',
    basis: 'event',
    citation: 'CCADB Policy 2.1 §6.2 (partitioned CRLs: together the full CRL, each revocation in one partition); RFC 5280 5.2.5',
    summary: 'a serial listed on two CRLs of one partitioned set',
  },
  crl_number_not_increasing: {
    severity: 'violation',
    basis: 'event',
    citation: 'RFC 5280 5.2.3 (cRLNumber monotonically increasing)',
    summary: 'a newer snapshot whose cRLNumber is not greater than the previous one',
  },
  this_update_backwards: {
    severity: 'violation',
    basis: 'event',
    citation: 'RFC 5280 5.2.3, 5.1.2.4 (a later CRL is issued later)',
    summary: 'a newer snapshot whose thisUpdate is earlier than the previous one',
  },
  entry_removed_early: {
    severity: 'warning',
    basis: 'event',
    citation: 'BR 4.10.1 (entries not removed before the revoked certificate expires); BR 6.3.2 (398 days at most)',
    summary: 'an entry revoked less than 398 days ago was removed; unless its certificate had expired, too early',
  },
  forbidden_reason_code: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 7.2.2 (no certificateHold; unspecified (0) only by omission); BR 4.9.13 (no suspension)',
    summary: 'an entry with reasonCode certificateHold or an explicit unspecified',
  },
  ca_entry_without_reason: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 7.2.2 (entries for CA certificates carry a reasonCode)',
    summary: 'an entry of a CRL for CA certificates without reasonCode',
  },
  crl_signed_sha1: {
    severity: 'violation',
    basis: 'content',
    citation: 'BR 7.1.3.2.1 (RSASSA-PKCS1-v1_5 with SHA-1 in a CRL only until 2026-09-15; Ballot SC097)',
    summary: 'a CRL issued from 2026-09-15 signed sha1WithRSAEncryption',
  },
  delta_crl: {
    severity: 'info',
    basis: 'content',
    citation: 'RFC 5280 5.2.4 (a delta CRL lists changes only; the sweep does not index it)',
    summary: 'a delta CRL',
  },
  indirect_crl: {
    severity: 'info',
    basis: 'content',
    citation: 'RFC 5280 5.2.5, 5.3.3 (indirect CRL; the sweep does not index it)',
    summary: 'an indirect CRL',
  },
} as const satisfies Record<string, HealthCheck>;

export type HealthCode = keyof typeof CRL_HEALTH_CHECKS;

export interface HealthHit {
  readonly code: HealthCode;
  /** A serial, or '' for the CRL as a whole. */
  readonly subject: string;
  readonly message: string;
}

/** What one read of a URL tells about its CRL's scope and purpose. */
export interface CrlContext {
  readonly url: string;
  /** Disclosed as one of a partitioned set. */
  readonly shard: boolean;
  /** A CRL of CA certificates: its issuer is a root, or its IDP says onlyContainsCACerts (BR 4.9.7 then allows 12 months). */
  readonly forCaCertificates: boolean;
}

/** Findings read from a verified CRL's own content. */
export function contentFindings(ctx: CrlContext, scan: CrlScan, entries: readonly CrlEntry[]): HealthHit[] {
  const hits: HealthHit[] = [];
  const idp = scan.issuingDistributionPoint;
  if (ctx.shard && !idp)
    hits.push({ code: 'shard_idp_missing', subject: '', message: `partitioned CRL ${ctx.url} has no issuingDistributionPoint` });
  if (idp && idp.critical === false)
    hits.push({ code: 'idp_not_critical', subject: '', message: 'the issuingDistributionPoint extension is not critical' });
  if (idp && !idp.uris.includes(ctx.url)) {
    hits.push({
      code: 'idp_other_url',
      subject: '',
      message: `the issuingDistributionPoint names ${idp.uris.length ? idp.uris.join(', ') : 'no URI'}, not ${ctx.url}`,
    });
  }
  const limit = ctx.forCaCertificates ? CA_REISSUE_MS : SUBSCRIBER_VALIDITY_MS;
  if (scan.nextUpdate !== null && scan.nextUpdate - scan.thisUpdate > limit) {
    hits.push({
      code: 'crl_validity_too_long',
      subject: '',
      message: `nextUpdate ${iso(scan.nextUpdate)} is ${days(scan.nextUpdate - scan.thisUpdate)} after thisUpdate ${iso(scan.thisUpdate)} (at most ${days(limit)})`,
    });
  }
  for (const e of entries) {
    if (!ctx.forCaCertificates && (e.reasonCode === 6 || e.reasonCode === 0)) {
      hits.push({
        code: 'forbidden_reason_code',
        subject: e.serial,
        message: `serial ${e.serial} has reasonCode ${e.reasonCode === 6 ? 'certificateHold (6)' : 'unspecified (0), given explicitly'}`,
      });
    }
    if (ctx.forCaCertificates && e.reasonCode === null) {
      hits.push({ code: 'ca_entry_without_reason', subject: e.serial, message: `serial ${e.serial} has no reasonCode` });
    }
  }
  if (scan.signatureAlgorithm === SHA1_WITH_RSA && scan.thisUpdate >= SHA1_SUNSET) {
    hits.push({ code: 'crl_signed_sha1', subject: '', message: `thisUpdate ${iso(scan.thisUpdate)}, signed ${SHA1_WITH_RSA}` });
  }
  if (scan.deltaCrlIndicator !== null)
    hits.push({ code: 'delta_crl', subject: '', message: `delta CRL of base CRL ${scan.deltaCrlIndicator}` });
  if (scan.problems.some((p) => p.code === 'indirect-crl-unsupported')) {
    hits.push({ code: 'indirect_crl', subject: '', message: 'indirect CRL (certificateIssuer entries or indirectCRL)' });
  }
  return hits;
}

/** Findings from the dates of the CRL that stands at `at` (a fresh read or the one a 304 confirmed). */
export function timeFindings(ctx: CrlContext, crl: { thisUpdate: number; nextUpdate: number | null }, at: number): HealthHit[] {
  const hits: HealthHit[] = [];
  if (crl.nextUpdate !== null && at > crl.nextUpdate) {
    hits.push({ code: 'crl_stale', subject: '', message: `read ${iso(at)}, after its nextUpdate ${iso(crl.nextUpdate)}` });
  }
  if (crl.thisUpdate > at + FUTURE_SKEW_MS) {
    hits.push({
      code: 'crl_this_update_future',
      subject: '',
      message: `thisUpdate ${iso(crl.thisUpdate)} is after the read at ${iso(at)}`,
    });
  }
  const reissue = ctx.forCaCertificates ? CA_REISSUE_MS : SUBSCRIBER_REISSUE_MS;
  if (at - crl.thisUpdate > reissue) {
    hits.push({
      code: 'crl_not_reissued',
      subject: '',
      message: `read ${iso(at)}, ${days(at - crl.thisUpdate)} after its thisUpdate ${iso(crl.thisUpdate)} (reissue at least every ${days(reissue)})`,
    });
  }
  return hits;
}

/** Findings about the change from the previous snapshot of the URL to this one. */
export function changeFindings(
  previous: Pick<UrlState, 'crlNumber' | 'thisUpdate'> | null,
  scan: CrlScan,
  removed: readonly CrlEntry[],
  at: number,
): HealthHit[] {
  const hits: HealthHit[] = [];
  if (previous?.crlNumber && scan.crlNumber && BigInt(scan.crlNumber) <= BigInt(previous.crlNumber)) {
    hits.push({ code: 'crl_number_not_increasing', subject: '', message: `cRLNumber ${scan.crlNumber} after ${previous.crlNumber}` });
  }
  if (previous?.thisUpdate && scan.thisUpdate < previous.thisUpdate) {
    hits.push({
      code: 'this_update_backwards',
      subject: '',
      message: `thisUpdate ${iso(scan.thisUpdate)} after ${iso(previous.thisUpdate)}`,
    });
  }
  for (const e of removed) {
    if (at - e.revocationDate < MAX_SUBSCRIBER_VALIDITY_MS) {
      hits.push({
        code: 'entry_removed_early',
        subject: e.serial,
        message: `serial ${e.serial} (revoked ${iso(e.revocationDate)}) was removed; revwatch does not know its notAfter`,
      });
    }
  }
  return hits;
}

export const findingKey = (code: string, url: string, subject: string): string => `${code} ${url} ${subject}`;

/**
 * Folds one read's findings into the open ones: each hit is opened or seen
 * again; an open finding of this URL whose basis the read evaluated and did
 * not hit is resolved. `evaluated` is what the read could judge.
 */
export function foldHealth(
  health: Record<string, HealthFindingState>,
  target: { url: string; owner: string },
  hits: readonly HealthHit[],
  evaluated: ReadonlySet<HealthBasis>,
  at: number,
): void {
  const hitKeys = new Set<string>();
  for (const h of hits) {
    const key = findingKey(h.code, target.url, h.subject);
    hitKeys.add(key);
    const open = health[key];
    health[key] =
      open && open.resolvedAt === null
        ? { ...open, lastSeen: at, message: h.message, owner: target.owner }
        : {
            code: h.code,
            owner: target.owner,
            url: target.url,
            subject: h.subject,
            message: h.message,
            firstSeen: at,
            lastSeen: at,
            resolvedAt: null,
          };
  }
  for (const [key, f] of Object.entries(health)) {
    if (f.url !== target.url || f.resolvedAt !== null || hitKeys.has(key)) continue;
    const basis = CRL_HEALTH_CHECKS[f.code as HealthCode]?.basis;
    if (basis && evaluated.has(basis)) health[key] = { ...f, resolvedAt: at };
    else if (basis === 'content' && evaluated.has('verify')) health[key] = { ...f, lastSeen: at };
  }
}

function days(ms: number): string {
  const d = ms / DAY;
  return `${Number.isInteger(d) ? d : d.toFixed(1)} days`;
}
