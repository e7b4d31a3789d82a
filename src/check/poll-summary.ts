/**
 * Planning from the narrow polling index (issue 29): a due certificate's polling summary (store/layout.ts) turned
 * into what the planner decides on: the certificate's sources and issuer (resolved from the summary's short hashes),
 * the latest answers per source, whether it was revoked in its life, and its verdicts. A summary that cannot be
 * resolved (a source or issuer not seen yet, or a hash two keys share) is read whole instead, and what a whole
 * item says is learned for the summaries after it.
 */
import type { Observation } from '../domain.js';
import type { EvidenceRecord, latestAnswers } from '../rules/evidence.js';
import { revocationSources } from '../rules/revocation-sources.js';
import type { VerdictPlan } from '../rules/verdict.js';
import {
  sourceKey,
  type CaseCertificate,
  type PollSummary,
  type SourceState,
  type StoredCertificate,
  type SummaryAnswer,
} from '../ports/store.js';
import { sourceHash } from '../store/layout.js';

type Facts = ReturnType<typeof latestAnswers>;

/** A summary resolved: shaped like a CaseCertificate for the planner, with what it decides on beside. */
export interface SummaryCertificate extends CaseCertificate {
  readonly facts: Facts;
  readonly revokedInLife: boolean;
  readonly verdicts: VerdictPlan | null;
}

export const isSummaryCertificate = (cc: CaseCertificate): cc is SummaryCertificate => 'facts' in cc;

export class PollSummaryResolver {
  /** Short hash to source key or issuer SHA-256; null where two differ. */
  private readonly names = new Map<string, string | null>();

  constructor(states: ReadonlyMap<string, SourceState>) {
    for (const [key, state] of states) {
      this.learnName(key);
      if (state.issuerSha256) this.learnName(state.issuerSha256);
    }
  }

  private learnName(name: string): void {
    const hash = sourceHash(name);
    const known = this.names.get(hash);
    if (known === undefined) this.names.set(hash, name);
    else if (known !== null && known !== name) this.names.set(hash, null);
  }

  /** Learns the sources and issuer of a certificate read whole. */
  learn(cert: StoredCertificate): void {
    this.learnName(cert.issuerSha256);
    for (const s of revocationSources(cert)) this.learnName(sourceKey(s.kind, s.url));
  }

  /** The summary as the planner reads it, or null when it must be read whole. */
  resolve(s: PollSummary, needVerdicts: boolean): SummaryCertificate | null {
    if (s.refused || (needVerdicts && !s.verdicts)) return null;
    const issuerSha256 = this.names.get(s.issuerHash);
    if (!issuerSha256) return null;
    const urls = { cdp: [] as string[], aia: [] as string[], givenCrl: [] as string[], givenOcsp: [] as string[], ccadb: [] as string[] };
    const facts: Facts = new Map();
    const sources: Record<string, Observation[]> = {};
    for (const src of s.sources) {
      const key = this.names.get(src.hash);
      if (!key?.startsWith(`${src.kind} `)) return null;
      const url = key.slice(src.kind.length + 1);
      (src.route === 'cdp'
        ? urls.cdp
        : src.route === 'aia'
          ? urls.aia
          : src.route === 'ccadb'
            ? urls.ccadb
            : src.kind === 'crl'
              ? urls.givenCrl
              : urls.givenOcsp
      ).push(url);
      const source = { kind: src.kind, url };
      const latest = src.latest ? answerOf(src.latest, source) : null;
      const verified =
        src.latestVerifiedAt === null
          ? null
          : latest && latest.status !== 'error' && latest.observedAt === src.latestVerifiedAt
            ? latest
            : stub(source, src.latestVerifiedAt, 'good');
      const definite =
        src.latestDefiniteStatus === null
          ? null
          : latest && latest.status === src.latestDefiniteStatus
            ? latest
            : stub(source, verified?.observedAt ?? latest?.observedAt ?? 0, src.latestDefiniteStatus);
      facts.set(key, { latest, latestVerified: verified, latestDefinite: definite });
      sources[key] = [...new Set([latest, verified, definite].filter((o): o is Observation => o !== null))];
    }
    // Only what planning reads: the rest of a StoredCertificate is never read from a summary (a job of a
    // summary carries no `cases`, so the executor reads the whole item before writing a record).
    const cert = {
      caseId: s.caseId,
      sha256: s.sha256,
      serial: s.serial,
      notAfter: s.notAfter,
      issuerSha256,
      isCA: s.isCA,
      crlUrls: urls.cdp,
      ocspUrls: urls.aia,
      ...(urls.givenCrl.length ? { givenCrlUrls: urls.givenCrl } : {}),
      ...(urls.givenOcsp.length ? { givenOcspUrls: urls.givenOcsp } : {}),
      ...(urls.ccadb.length ? { disclosedCrlUrls: urls.ccadb } : {}),
      subject: '',
      issuer: '',
      notBefore: 0,
      precertificate: false,
      trackedAt: 0,
    } satisfies StoredCertificate;
    const record: EvidenceRecord = { sources };
    return {
      cert,
      record,
      rev: s.rev,
      pollDue: s.pollDue,
      ...(s.pollSettled ? { pollSettled: true } : {}),
      facts,
      revokedInLife: s.revokedInLife,
      verdicts: s.verdicts,
    };
  }
}

function answerOf(a: SummaryAnswer, source: Observation['source']): Observation {
  return {
    observedAt: a.observedAt,
    source,
    status: a.status,
    revocationTime: a.revocationTime,
    reasonCode: a.reasonCode,
    thisUpdate: null,
    // Served past its nextUpdate (jobs.ts servedStale): all `previous` needs of it.
    nextUpdate: a.stale ? a.observedAt - 1 : null,
    producedAt: null,
    crlNumber: null,
    signer: null,
    sha256: null,
    error: a.errorKind === null ? null : { kind: a.errorKind, message: '' },
  };
}

function stub(source: Observation['source'], observedAt: number, status: Observation['status']): Observation {
  return answerOf({ observedAt, status, revocationTime: null, reasonCode: null, errorKind: null, stale: false }, source);
}
