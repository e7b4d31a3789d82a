/**
 * The single table's keys and item formats: every key the store (table-store.ts and its parts) and the
 * CCADB disclosures (ccadb/store.ts) read or write is built here, so the DynamoDB table and the in-memory
 * one hold the same items in the same order (test/unit/store/key-literals.test.ts keeps key strings out of
 * every other file).
 *
 *   pk                      sk                                   item
 *   CASES                   CASE#<id>                            case (the list of cases)
 *   CASE#<id>               CERT#<sha256>                        tracked certificate (`c`, packed JSON) with its
 *                                                                evidence record (`ev`, packed JSON) and revision (`rev`)
 *   CERT#<sha256>           DER                                  certificate DER (also issuers)
 *   CERT#<sha256>           OBS#<time>#<kind>#<urlhash>#<hash>   observation (append-only)
 *   SOURCES                 <kind> <url>                         source state (heartbeat)
 *   SNAP#<url>              SNAP#<thisUpdate>#<sha256>           CRL snapshot (evidence)
 *   RUNS                    RUN#<startedAt>#<runId>              run record
 *   DIGESTS                 DIGEST#<at>                          digest produced
 *   DIGESTED                <case>#<sha256>#<code>               finding reported in a digest (so it is not "new" again)
 *   CASE#<id>               NOTICE#<key>                         notice ledger
 *   CHANGED                 CASE#<id>                            case changed since the notifier last looked
 *   OPENRUNS                RUN#<runId>                          fan-out run in progress (jobs left, counters; TTL)
 *   MIGRATIONS              <job>                                a maintenance job's progress and counts (store/poll-backfill.ts)
 *   JOB#<runId>             <jobId>#<part>                       job payload too big for a queue message (gzip JSON; TTL)
 *   JOB#<runId>             ROUND#<part>                         the run's settled rounds as planned (gzip JSON; TTL)
 *   JOB#<runId>             OUTCOME#<jobId>                      a job's settled-round outcome: failed sources, pool joins (TTL)
 *   CCADB#CA                <sha256>                             current CCADB disclosure of a CA
 *   CCADB#SKI#<ski>         <sha256>                             the same, by Subject Key Identifier
 *   CCADB#NAME#<hash>       <sha256>                             the same, by subject name hash
 *   CCADB#HIST#<sha256>     <ISO time>                           a disclosure's history
 *   CCADB#META              import                               when the disclosures were last imported
 *   CCADB#REFRESH           <report URL>                         the refresh's back-off state per URL
 *   CCADB#CERT              <sha256>                             a CA certificate of the PEM report
 *   CCADB#CERT#SKI#<ski>    <sha256>                             the same, by Subject Key Identifier
 *   CCADB#CERT#NAME#<hash>  <sha256>                             the same, by subject name hash
 *   CCADB#CERT#TEXT#<key>   <sha256>                             the same, by subject name as text
 *
 * Items that only matter for a while carry `expiresAt` (epoch seconds), the table's TTL attribute.
 *
 * The sparse global secondary index `poll` (keys `pk2`/`sk2`) holds only the certificates the planner
 * still has to ask: `pk2` = POLL#<first hex digit of the sha256> (16 shards, so no index partition runs hot
 * at millions of certificates), `sk2` = <due time>#<case>#<sha256>. A settled certificate's due time is its
 * next daily re-ask; an expired one that every source has answered leaves the index. An unchanged run
 * therefore reads one item per certificate that needs asking, and nothing for the rest.
 *
 * The certificate and its record, and each observation, are packed as JSON strings on purpose (formats
 * below): one string attribute costs a fraction of a nested map to marshal, and `status` reads every item of
 * a case.
 */
import { createHash } from 'node:crypto';
import { plainObservation, type Case, type Observation, type SweepIndexOrigin } from '../domain.js';
import { EMPTY_RECORD, evidenceOf, latestAnswers, recordObservations, type EvidenceRecord } from '../rules/evidence.js';
import { refusedSources, revocationSources } from '../rules/revocation-sources.js';
import { VERDICT_NAMES, verdictPlan, type VerdictPlan } from '../rules/verdict.js';
import type { OpenRun } from '../ports/index.js';
import type { Item, Key } from '../ports/table.js';
import type { CaseCertificate, PollSummary, StoredCertificate, StoredObservation, SummaryAnswer, SummarySource } from '../ports/store.js';

export type { Item } from '../ports/table.js';

// -- keys ---------------------------------------------------------------------------------------------

const CASE = 'CASE#';
const CERT = 'CERT#';
const NOTICE = 'NOTICE#';

/** The partition listing every case. */
export const CASES = 'CASES';
export const caseKey = (caseId: string): Key => ({ pk: CASES, sk: `${CASE}${caseId}` });
/** The case id of an item of the CASES (or CHANGED) partition, from its sort key. */
export const caseIdOf = (sk: unknown): string => String(sk).slice(CASE.length);

/** A case's partition: its certificates (sort keys CERT_PREFIX…) and its notices (NOTICE_PREFIX…). */
export const casePartition = (caseId: string): string => `${CASE}${caseId}`;
export const CERT_PREFIX = CERT;
/** The case id of a case partition's key. */
export const caseIdOfPartition = (pk: unknown): string => String(pk).slice(CASE.length);
export const caseCertificateKey = (caseId: string, sha256: string): Key => ({ pk: casePartition(caseId), sk: `${CERT}${sha256}` });
/** The SHA-256 of a case's certificate item, from its sort key. */
export const certificateShaOf = (sk: unknown): string => String(sk).slice(CERT.length);

export const derKey = (sha256: string): Key => ({ pk: `${CERT}${sha256}`, sk: 'DER' });
/** The SHA-256 of a DER item, from its partition key. */
export const derShaOf = (pk: unknown): string => String(pk).slice(CERT.length);
/** A certificate's observations: this partition, sort keys beginning OBSERVATION_PREFIX. */
export const observationPartition = (sha256: string): string => `${CERT}${sha256}`;
export const OBSERVATION_PREFIX = 'OBS#';

export const SOURCES = 'SOURCES';
export const snapshotPartition = (url: string): string => `SNAP#${url}`;
export const snapshotKey = (s: { url: string; thisUpdate: number; sha256: string }): Key => ({
  pk: snapshotPartition(s.url),
  sk: `SNAP#${pad(s.thisUpdate)}#${s.sha256}`,
});

export const RUNS = 'RUNS';
export const runKey = (run: { startedAt: number; runId: string }): Key => ({ pk: RUNS, sk: `RUN#${pad(run.startedAt)}#${run.runId}` });
export const DIGESTS = 'DIGESTS';
export const digestKey = (at: number): Key => ({ pk: DIGESTS, sk: `DIGEST#${pad(at)}` });
/** Findings reported in a digest: the sort key is the finding's key. */
export const DIGESTED = 'DIGESTED';

export const CHANGED = 'CHANGED';
export const changedKey = (caseId: string): Key => ({ pk: CHANGED, sk: `${CASE}${caseId}` });

export const OPENRUNS = 'OPENRUNS';
/** A maintenance job's progress (its cursor) and counts, kept after it finishes as the record that it ran. */
export const migrationKey = (job: string): Key => ({ pk: 'MIGRATIONS', sk: job });
export const openRunKey = (runId: string): Key => ({ pk: OPENRUNS, sk: `RUN#${runId}` });
const jobPartition = (runId: string): string => `JOB#${runId}`;
/** The parts of one job's payload: partition and sort-key prefix. */
export const jobPayloadQuery = (runId: string, jobId: string): { pk: string; prefix: string } => ({
  pk: jobPartition(runId),
  prefix: `${jobId}#`,
});

export const noticeKey = (caseId: string, key: string): Key => ({ pk: casePartition(caseId), sk: `${NOTICE}${key}` });
export const NOTICE_PREFIX = NOTICE;
export const noticeKeyOf = (sk: unknown): string => String(sk).slice(NOTICE.length);

/** The CCADB disclosures (ccadb/store.ts): current ones, lookups by key id and by name, history, last import. */
export const CCADB_CURRENT = 'CCADB#CA';
export const CCADB_META: Key = { pk: 'CCADB#META', sk: 'import' };
export const ccadbByKeyId = (ski: string): string => `CCADB#SKI#${ski}`;
export const ccadbByName = (nameHash: string): string => `CCADB#NAME#${nameHash}`;
export const ccadbHistory = (sha256: string): string => `CCADB#HIST#${sha256}`;
/** Per CCADB report URL: failures in a row, last good and last failed download (the refresh's back-off). */
export const CCADB_REFRESH = 'CCADB#REFRESH';
/** The CA certificates of the "All Certificate PEMs" report by fingerprint, and their issuer lookups. */
export const CCADB_CA_CERTS = 'CCADB#CERT';
export const ccadbCertByKeyId = (ski: string): string => `CCADB#CERT#SKI#${ski}`;
export const ccadbCertByName = (nameHash: string): string => `CCADB#CERT#NAME#${nameHash}`;
export const ccadbCertByText = (textKey: string): string => `CCADB#CERT#TEXT#${textKey}`;

/** The digits a certificate's SHA-256 is written in: its keys split into 16 ranges by the first one. */
export const SHA256_DIGITS = '0123456789abcdef';

/** 16 shards of the polling index (the first hex digit of the sha256), so no index partition runs hot. */
export const POLL_SHARDS = SHA256_DIGITS;

const urlHash = (url: string): string => createHash('sha1').update(url).digest('hex').slice(0, 12);

/** Epoch ms as a fixed-width string, so sort keys order by time. */
export const pad = (ms: number): string => String(Math.max(0, Math.trunc(ms))).padStart(14, '0');

export function observationSortKey(o: StoredObservation): string {
  // The content hash makes the key unique per distinct observation: a
  // retried batch rewrites identical items and can never replace another.
  const content = createHash('sha256')
    .update(
      JSON.stringify([
        o.status,
        o.revocationTime,
        o.reasonCode,
        o.thisUpdate,
        o.nextUpdate,
        o.producedAt,
        o.sha256 ?? null,
        o.error?.kind ?? null,
        // Only when present, so the keys of every other observation stay as they were.
        ...(o.sweepIndex ? [o.sweepIndex] : []),
      ]),
    )
    .digest('hex')
    .slice(0, 12);
  return `${OBSERVATION_PREFIX}${pad(o.observedAt)}#${o.source.kind}#${urlHash(o.source.url)}#${content}`;
}

/**
 * The polling index keys of a record due at `due`; null keeps it out of the (sparse) index. A settled
 * certificate (`settled`) goes to the settled pool's shard instead, with `due` its first re-ask: the
 * planner reads the pool only when a source's daily settled round comes (docs/evidence.md).
 */
export function pollKeys(
  cert: { caseId: string; sha256: string },
  due: number | null,
  settled = false,
): { pk2: string; sk2: string; pd: number } | null {
  if (due === null) return null;
  const shard = cert.sha256.charAt(0);
  return { pk2: settled ? settledPartition(shard) : pollPartition(shard), sk2: `${pad(due)}#${cert.caseId}#${cert.sha256}`, pd: due };
}

/** One shard of the polling index (a first hex digit of the sha256). */
export const pollPartition = (shard: string): string => `POLL#${shard}`;

const SETTLED_POOL = 'POLL#SETTLED#';
/** One shard of the settled pool: certificates settled as revoked, in the same index, asked in their sources' daily rounds. */
export const settledPartition = (shard: string): string => `${SETTLED_POOL}${shard}`;
/** Whether an item's index partition is the settled pool's. */
export const inSettledPool = (pk2: unknown): boolean => typeof pk2 === 'string' && pk2.startsWith(SETTLED_POOL);

/** The upper bound of a polling-index query for everything due at `now`. */
export const pollUpTo = (now: number): string => `${pad(now)}#\uffff`;

/**
 * An observation item holds the answer packed in one attribute, `o`: its source's kind and URL, then its
 * fields as in a packed record. A first check writes one per certificate (100,000 at once), and each
 * attribute costs the SDK, the HTTP body and the store's validation: a CRL answer's item went from fourteen
 * attributes and 597 bytes of DynamoDB JSON to three and 363.
 */
export function fromObservation(o: Observation): Record<string, unknown> {
  return { o: JSON.stringify([o.source.kind, o.source.url, ...packAnswer(o)]) };
}

export function toObservation(i: Record<string, unknown>): Observation {
  if (typeof i.o === 'string') {
    const [kind, url, ...fields] = JSON.parse(i.o) as [Observation['source']['kind'], string, ...unknown[]];
    return unpackAnswer(fields, { kind, url });
  }
  // Written before packing: one attribute per field.
  const source = i.source as { kind: 'ocsp' | 'crl'; url: string };
  return {
    observedAt: Number(i.observedAt),
    source: { kind: source.kind, url: source.url },
    status: i.status as Observation['status'],
    revocationTime: (i.revocationTime as number | null) ?? null,
    reasonCode: (i.reasonCode as number | null) ?? null,
    thisUpdate: (i.thisUpdate as number | null) ?? null,
    nextUpdate: (i.nextUpdate as number | null) ?? null,
    producedAt: (i.producedAt as number | null) ?? null,
    crlNumber: (i.crlNumber as string | null) ?? null,
    signer: (i.signer as string | null) ?? null,
    sha256: (i.sha256 as string | null) ?? null,
    error: (i.error as { kind: string; message: string } | null) ?? null,
  };
}

/** DynamoDB orders sort keys by their UTF-8 bytes. */
export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** DynamoDB items stop at 400 KB: a big job payload is split into parts. */
export function jobPayloadItems(runId: string, jobId: string, payload: Uint8Array, expiresAt: number): Item[] {
  return payloadParts(jobPartition(runId), `${jobId}#`, payload, expiresAt);
}

function payloadParts(pk: string, prefix: string, payload: Uint8Array, expiresAt: number): Item[] {
  const PART = 300 * 1024;
  const parts: Item[] = [];
  for (let offset = 0, n = 0; offset < payload.length; offset += PART, n++)
    parts.push(payloadPartItem(pk, prefix, n, payload.subarray(offset, offset + PART), expiresAt));
  return parts;
}

function payloadPartItem(pk: string, prefix: string, n: number, data: Uint8Array, expiresAt: number): Item {
  return { pk, sk: `${prefix}${String(n).padStart(4, '0')}`, data: Buffer.from(data), expiresAt: Math.trunc(expiresAt / 1000) };
}

/** Parts are read in sort-key order: four digits keep that order up to this many parts. */
export const MAX_JOB_PAYLOAD_PARTS = 10_000;

/** Part `n` of a job's payload; the payload is its parts' bytes in order (a worker concatenates them). */
export function jobPayloadPartItem(runId: string, jobId: string, n: number, data: Uint8Array, expiresAt: number): Item {
  if (!Number.isInteger(n) || n < 0 || n >= MAX_JOB_PAYLOAD_PARTS)
    throw new RangeError(`payload part ${n} of job ${jobId}: a job has at most ${MAX_JOB_PAYLOAD_PARTS} parts`);
  return payloadPartItem(jobPartition(runId), `${jobId}#`, n, data, expiresAt);
}

/**
 * A fan-out run's settled rounds as planned (check/settled-round.ts PlannedRound), for the worker that finishes
 * the run: in the run's partition beside its job payloads, split into parts like them (thousands of sources).
 */
const ROUND = 'ROUND#';
export const runRoundItems = (runId: string, payload: Uint8Array, expiresAt: number): Item[] =>
  payloadParts(jobPartition(runId), ROUND, payload, expiresAt);
export const runRoundQuery = (runId: string): { pk: string; prefix: string } => ({ pk: jobPartition(runId), prefix: ROUND });
/** One job's settled-round outcome (string sets, added to: a redelivered job adds nothing twice). */
const OUTCOME = 'OUTCOME#';
export const jobOutcomeKey = (runId: string, jobId: string): Key => ({ pk: jobPartition(runId), sk: `${OUTCOME}${jobId}` });
export const jobOutcomeQuery = (runId: string): { pk: string; prefix: string } => ({ pk: jobPartition(runId), prefix: OUTCOME });
/** A source state's key from its source key (ports/store.ts sourceKey). */
export const sourceStateKey = (key: string): Key => ({ pk: SOURCES, sk: key });

export function stripKeys(i: Item): Item {
  const { pk: _pk, sk: _sk, ...rest } = i;
  return rest;
}

export function toCase(i: Item): Case {
  const { createdAt: _c, certCount: _n, ...rest } = stripKeys(i);
  return rest as unknown as Case;
}

/*
 * A case's certificate item is written with every answer that changes its record and read whole by every plan,
 * status and report, ~100,000 of them for one incident: its two packed attributes are kept short.
 * - `c`, the stored certificate without its case id and SHA-256, which the item's keys already hold.
 * - `ev`, the evidence record with each answer as an array of its fields in a fixed order, without the source
 *   that the record's key for it already names: `{"v":2,"s":{"crl http://…":[[observedAt,"good",…]]}}`.
 * The bench's items went from 1,286 to 955 bytes (the record from ~390 to ~200), which every layer paid for: the
 * SDK, HTTP, the store's JSON and LevelDB, and the polling index's copy. Items written before this still read:
 * `c` with its ids, `ev` as plain JSON.
 */
const RECORD_FORMAT = 2;

/** The order of an answer's fields in a packed record. Append only: stored records depend on it. */
const ANSWER_FIELDS = [
  'observedAt',
  'status',
  'revocationTime',
  'reasonCode',
  'thisUpdate',
  'nextUpdate',
  'producedAt',
  'crlNumber',
  'signer',
  'sha256',
  'error',
  'signatureAlgorithm',
  'listedRevocationDates',
  'sweepIndex',
] as const satisfies readonly (keyof Observation)[];

/** An answer's fields in ANSWER_FIELDS order, its source left out; trailing nulls go without saying. */
function packAnswer(o: Observation): unknown[] {
  const p = plainObservation(o);
  const fields: unknown[] = ANSWER_FIELDS.map((f) => (f === 'error' ? (p.error ? [p.error.kind, p.error.message] : null) : (p[f] ?? null)));
  while (fields.length > 2 && fields[fields.length - 1] === null) fields.pop();
  return fields;
}

function unpackAnswer(fields: readonly unknown[], source: Observation['source']): Observation {
  // Written out field by field: every plan and status unpacks ~100,000 of these, and one object shape is fastest.
  const error = fields[10] as [string, string] | null | undefined;
  return {
    observedAt: fields[0] as number,
    source: { kind: source.kind, url: source.url },
    status: fields[1] as Observation['status'],
    revocationTime: (fields[2] ?? null) as number | null,
    reasonCode: (fields[3] ?? null) as number | null,
    thisUpdate: (fields[4] ?? null) as number | null,
    nextUpdate: (fields[5] ?? null) as number | null,
    producedAt: (fields[6] ?? null) as number | null,
    crlNumber: (fields[7] ?? null) as string | null,
    signer: (fields[8] ?? null) as string | null,
    sha256: (fields[9] ?? null) as string | null,
    error: error ? { kind: error[0], message: error[1] } : null,
    ...(typeof fields[11] === 'string' ? { signatureAlgorithm: fields[11] } : {}),
    ...(Array.isArray(fields[12]) ? { listedRevocationDates: fields[12] as number[] } : {}),
    ...(fields[13] && typeof fields[13] === 'object' ? { sweepIndex: fields[13] as SweepIndexOrigin } : {}),
  };
}

export function packRecord(record: EvidenceRecord): string {
  const sources: Record<string, unknown[][]> = {};
  for (const [key, answers] of Object.entries(record.sources)) sources[key] = answers.map(packAnswer);
  return JSON.stringify({ v: RECORD_FORMAT, s: sources });
}

export function unpackRecord(text: string): EvidenceRecord {
  const parsed = JSON.parse(text) as { v?: number; s?: Record<string, unknown[][]> } & EvidenceRecord;
  if (parsed.v !== RECORD_FORMAT) return parsed; // written before packing: plain JSON of the record
  const sources: Record<string, Observation[]> = {};
  for (const [key, answers] of Object.entries(parsed.s ?? {})) {
    // A source's key is its kind, a space and its URL (sourceKey); a URL has no spaces.
    const space = key.indexOf(' ');
    const source = { kind: key.slice(0, space) as Observation['source']['kind'], url: key.slice(space + 1) };
    sources[key] = answers.map((fields) => unpackAnswer(fields, source));
  }
  return { sources };
}

export function packCertificate(cert: StoredCertificate): string {
  const { caseId: _caseId, sha256: _sha256, ...rest } = cert;
  return JSON.stringify(rest);
}

export function unpackCertificate(text: string, caseId: string, sha256: string): StoredCertificate {
  // Set on the object just parsed, not copied into a new one (an item written before packing holds the same ids).
  const cert = JSON.parse(text) as { -readonly [K in keyof StoredCertificate]: StoredCertificate[K] };
  cert.caseId = caseId;
  cert.sha256 = sha256;
  return cert;
}

export function certificateItem(
  cert: StoredCertificate,
  record: EvidenceRecord,
  rev: number,
  pollDue: number | null,
  settled = false,
  kase: Case | null = null,
): Item {
  return {
    pk: casePartition(cert.caseId),
    sk: `${CERT}${cert.sha256}`,
    c: packCertificate(cert),
    ev: packRecord(record),
    rev,
    ps: pollSummaryOf(cert, record, rev, kase),
    ...(pollKeys(cert, pollDue, settled) ?? {}),
  };
}

/** The polling summary written with a record (below), its verdicts worked out when the case is at hand. */
export function pollSummaryOf(cert: StoredCertificate, record: EvidenceRecord, rev: number, kase: Case | null): string {
  let verdicts: VerdictPlan | null = null;
  try {
    verdicts = kase ? verdictPlan(kase, cert, recordObservations(record)) : null;
  } catch {
    // A case the rules cannot judge (status says why): its summary goes without verdicts, and the check reads the
    // whole item to count them, where the same error surfaces as it always did. A record write never fails on it.
    verdicts = null;
  }
  return packPollSummary(cert, record, rev, verdicts);
}

export function toCaseCertificate(i: Item): CaseCertificate {
  if (typeof i.c !== 'string') {
    // Written before evidence records: the certificate's fields are top-level attributes.
    const { pk: _pk, sk: _sk, ...rest } = i;
    return { cert: rest as unknown as StoredCertificate, record: EMPTY_RECORD, rev: 0, pollDue: 0, legacy: true };
  }
  const pollDue = i.pd === undefined || i.pd === null ? null : Number(i.pd);
  const caseId = String(i.pk).slice(CASE.length);
  const sha256 = certificateShaOf(i.sk);
  const cc = new PackedCaseCertificate(i.c, String(i.ev), Number(i.rev ?? 0), pollDue, caseId, sha256);
  if (inSettledPool(i.pk2)) cc.pollSettled = true;
  return cc;
}

/**
 * A stored certificate and record kept as the packed JSON they were read as,
 * parsed on first use. A one-byte string costs a fraction of the objects it
 * parses into, and the planner and reports hold a whole case (100,000
 * certificates and more) at once.
 */
export class PackedCaseCertificate implements CaseCertificate {
  #packedCert: string;
  #packedRecord: string;
  #caseId: string;
  #sha256: string;
  #cert: StoredCertificate | null = null;
  #record: EvidenceRecord | null = null;
  /** In the settled pool of the polling index (set only when true, so most items keep one shape). */
  declare pollSettled?: boolean;
  declare cert: StoredCertificate;
  declare record: EvidenceRecord;

  constructor(
    packedCert: string,
    packedRecord: string,
    readonly rev: number,
    readonly pollDue: number | null,
    caseId: string,
    sha256: string,
  ) {
    this.#packedCert = packedCert;
    this.#packedRecord = packedRecord;
    this.#caseId = caseId;
    this.#sha256 = sha256;
    // Own, enumerable accessors, so a spread copy or an equality check sees
    // plain `cert` and `record` fields. The descriptors are shared by every
    // instance: V8 then gives all of them one hidden class, where a closure
    // per instance put each object in dictionary mode (~1.8 KB a certificate,
    // more than the packed JSON it stands for).
    Object.defineProperty(this, 'cert', PackedCaseCertificate.#certDescriptor);
    Object.defineProperty(this, 'record', PackedCaseCertificate.#recordDescriptor);
  }

  static readonly #certDescriptor: PropertyDescriptor = {
    enumerable: true,
    get(this: PackedCaseCertificate) {
      this.#cert ??= unpackCertificate(this.#packedCert, this.#caseId, this.#sha256);
      return this.#cert;
    },
    set(this: PackedCaseCertificate, value: StoredCertificate) {
      this.#cert = value;
    },
  };

  static readonly #recordDescriptor: PropertyDescriptor = {
    enumerable: true,
    get(this: PackedCaseCertificate) {
      this.#record ??= unpackRecord(this.#packedRecord);
      return this.#record;
    },
    set(this: PackedCaseCertificate, value: EvidenceRecord) {
      this.#record = value;
    },
  };
}

export function toOpenRun(i: Item): OpenRun {
  return {
    runId: String(i.runId),
    startedAt: Number(i.startedAt),
    jobs: Number(i.jobs),
    remaining: Number(i.remaining),
    certificates: Number(i.certificates),
    observationsWritten: Number(i.observationsWritten ?? 0),
    itemsWritten: Number(i.itemsWritten ?? 0),
    sourcesFailed: Number(i.sourcesFailed ?? 0),
    finishedAt: i.finishedAt === undefined || i.finishedAt === null ? null : Number(i.finishedAt),
  };
}

// -- the sweep (issue 27): the revocation index and the sweep state ----------------------------------
//
//   pk                           sk                       item
//   RIX#<issuer key>#<shard>     <serial>                 one index record (`r`: packed JSON listings and claims)
//   RIX#ISSUERS                  <issuer key>             an issuer key the index holds records for
//   RIX#SEG#<url id>             <sweep>#<part>           a URL's change segment (gzip JSON in 300 KB parts; append-only)
//   RIX#SNAP#<url id>            <sweep>#<sha256>         a URL's distinct snapshot (`d`: JSON SnapshotRef; append-only)
//   SWEEP#RUNS                   <sweep>                  a sweep run
//   SWEEP#URLS                   <url id>                 a CRL URL's state between sweeps
//   SWEEP#ISSUERS                <issuer key>             an issuer key and the disclosed CA certificates that carry it
//   SWEEP#HEALTH                 <url id>#<finding id>    a CRL-health finding, open or resolved
//   SWEEP#OPEN                   <sweep>                  a sweep fanned out across the queue (jobs left, counts; TTL)
//
// docs/data-model.md ("The revocation index in the table") says why this layout and what it costs.

/** A URL's id in keys: 32 hex digits of its SHA-256 (a URL may be longer than a sort key should be). */
export const sweepUrlId = (url: string): string => createHash('sha256').update(url).digest('hex').slice(0, 32);
/** Sweep numbers as fixed-width strings, so sort keys order by sweep. */
const padSweep = (sweep: number): string => String(Math.max(0, Math.trunc(sweep))).padStart(10, '0');

/**
 * The shard of a serial: its last two hex digits (random or sequential serials both vary most there), so one
 * issuer's millions of records spread over 256 partitions and a first sweep's writes run none of them hot.
 */
export const revocationShard = (serial: string): string => serial.slice(-2).toLowerCase().padStart(2, '0');
export const revocationRecordKey = (issuerKey: string, serial: string): Key => ({
  pk: `RIX#${issuerKey}#${revocationShard(serial)}`,
  sk: serial,
});
export const REVOCATION_ISSUERS = 'RIX#ISSUERS';
export const revocationIssuerKey = (issuerKey: string): Key => ({ pk: REVOCATION_ISSUERS, sk: issuerKey });
export const changeSegmentPartition = (url: string): string => `RIX#SEG#${sweepUrlId(url)}`;
/** The parts of one change segment: a first sweep of a 40 MB CRL adds a million serials, more than an item holds. */
export const changeSegmentKey = (url: string, sweep: number, part: number): Key => ({
  pk: changeSegmentPartition(url),
  sk: `${padSweep(sweep)}#${String(part).padStart(4, '0')}`,
});
/** The sweep a change segment part belongs to, from its sort key. */
export const changeSegmentSweepOf = (sk: unknown): number => Number(String(sk).slice(0, 10));
export const sweepSnapshotPartition = (url: string): string => `RIX#SNAP#${sweepUrlId(url)}`;
export const sweepSnapshotKey = (s: { url: string; sweep: number; sha256: string }): Key => ({
  pk: sweepSnapshotPartition(s.url),
  sk: `${padSweep(s.sweep)}#${s.sha256}`,
});

export const SWEEP_RUNS = 'SWEEP#RUNS';
export const sweepRunKey = (sweep: number): Key => ({ pk: SWEEP_RUNS, sk: padSweep(sweep) });
export const SWEEP_URLS = 'SWEEP#URLS';
export const sweepUrlKey = (url: string): Key => ({ pk: SWEEP_URLS, sk: sweepUrlId(url) });
export const SWEEP_ISSUERS = 'SWEEP#ISSUERS';
export const sweepIssuerKey = (issuerKey: string): Key => ({ pk: SWEEP_ISSUERS, sk: issuerKey });
export const SWEEP_HEALTH = 'SWEEP#HEALTH';
/**
 * A health finding by its URL and its state key (code, URL and subject, which may be long): 32 hex digits of
 * the URL's SHA-256, then 32 of the key's, so one URL's findings are one sort-key prefix (a sweep job reads them).
 */
export const sweepHealthKey = (url: string, findingKey: string): Key => ({
  pk: SWEEP_HEALTH,
  sk: `${sweepUrlId(url)}#${createHash('sha256').update(findingKey).digest('hex').slice(0, 32)}`,
});
export const sweepHealthPrefix = (url: string): string => `${sweepUrlId(url)}#`;
/** A CRL-health notice claimed or sent (notify/crl-health-notices.ts), by the finding's notice key. */
export const SWEEP_NOTICES = 'SWEEP#NOTICES';
export const sweepNoticeKey = (noticeKey: string): Key => ({
  pk: SWEEP_NOTICES,
  sk: createHash('sha256').update(noticeKey).digest('hex').slice(0, 32),
});
/** A sweep fanned out across the queue, while its jobs run (ports/sweep-runs.ts; TTL like OPENRUNS). */
export const SWEEP_OPEN = 'SWEEP#OPEN';
export const openSweepKey = (sweep: number): Key => ({ pk: SWEEP_OPEN, sk: padSweep(sweep) });

// -- the polling summary (issue 29): what the planner decides on, small enough to read for every due certificate --
//
// The polling index `poll-due` (keys `pk2`/`pd`) projects the table's keys and one attribute, `ps`: a packed JSON
// array written with every write of the certificate's record (certificateItem, TableStore.writeRecords), so it is
// never older than the record. Planning an unchanged run reads it instead of the whole item (the certificate and
// its record, ~1.1 KB): `[format, rev, serial, notAfter, issuer, flags, sources, verdicts]`.
// - serial: the hex serial as base64url when it has an even number of hex digits, else `x` and the hex;
// - notAfter and every time: base 36 epoch ms;
// - issuer and each source: 5 base64url characters of a SHA-1 (sourceHash), resolved by the planner through the
//   source states and the items it has read whole (PollSummaryResolver): a hash it cannot resolve, or one that
//   two keys share, sends it to the whole item;
// - flags: 1 the certificate is a CA; 2 revoked in its life (the record's effective revocation is at or before
//   notAfter: an expired certificate then leaves the index); 4 its sources are past the cap (refused sources are
//   reported from the whole item);
// - sources, in revocationSources order: [route+hash, at, status, revocationTime, reasonCode, errorKind, stale,
//   verifiedAt, definiteStatus], trailing nulls left out: the latest answer (what `previous` and the settled round
//   read), then the latest verified and latest definite answers when the latest is not one of them;
// - verdicts (with the case; absent otherwise): [deadline, three verdict codes] (rules/verdict.ts verdictPlan).

const SUMMARY_FORMAT = 1;
const ROUTE_CODES = { 'crl cdp': 'c', 'ocsp aia': 'a', 'crl given': 'g', 'ocsp given': 'o', 'crl ccadb': 'd' } as const;
const STATUS_CODES = { good: 'g', revoked: 'r', unknown: 'u', error: 'e' } as const;
const VERDICT_CODES = 'portxnud'; // VERDICT_NAMES order: pending overdue revoked_on_time revoked_late expired expired_overdue no_deadline undetermined

/** 5 base64url characters (30 bits) of a SHA-1: the name of a source (`kind url`) or issuer in a polling summary. */
export function sourceHash(text: string): string {
  let hash = sourceHashes.get(text);
  if (hash === undefined) {
    hash = createHash('sha1').update(text).digest('base64url').slice(0, 5);
    // Every record written hashes its issuer and each of its sources: a run names a few of them for thousands of
    // certificates, so each is hashed once (up to a bound a strange run could not grow past).
    if (sourceHashes.size >= SOURCE_HASHES_KEPT) sourceHashes.clear();
    sourceHashes.set(text, hash);
  }
  return hash;
}
const sourceHashes = new Map<string, string>();
const SOURCE_HASHES_KEPT = 10_000;

const b36 = (ms: number): string => Math.trunc(ms).toString(36);
const from36 = (s: unknown): number => Number.parseInt(String(s), 36);

function packSerial(hex: string): string {
  return /^(?:[0-9a-f]{2})+$/i.test(hex) && hex === hex.toLowerCase() ? Buffer.from(hex, 'hex').toString('base64url') : `x${hex}`;
}
function unpackSerial(s: string): string {
  return s.startsWith('x') ? s.slice(1) : Buffer.from(s, 'base64url').toString('hex');
}

function packLatest(
  facts: { latest: Observation | null; latestVerified: Observation | null; latestDefinite: Observation | null } | undefined,
): unknown[] {
  const o = facts?.latest;
  if (!o) return [];
  const fields: unknown[] = [
    b36(o.observedAt),
    STATUS_CODES[o.status],
    o.status === 'revoked' && o.revocationTime !== null ? b36(o.revocationTime) : null,
    o.status === 'revoked' ? o.reasonCode : null,
    o.status === 'error' ? (o.error?.kind ?? '') : null,
    o.status !== 'error' && o.nextUpdate !== null && o.nextUpdate < o.observedAt ? 1 : null,
    facts.latestVerified && facts.latestVerified !== o ? b36(facts.latestVerified.observedAt) : null,
    // The latest definite answer when it is not the latest: its status, or `-` for none although the latest is
    // good or revoked (a hold, or a revocation without a date, is not definite: rules/evidence.ts).
    facts.latestDefinite === o
      ? null
      : facts.latestDefinite
        ? STATUS_CODES[facts.latestDefinite.status]
        : o.status === 'good' || o.status === 'revoked'
          ? '-'
          : null,
  ];
  while (fields.length > 2 && fields[fields.length - 1] === null) fields.pop();
  return fields;
}

/** The `ps` attribute of a tracked certificate's item. `verdicts` only with the certificate's case. */
export function packPollSummary(cert: StoredCertificate, record: EvidenceRecord, rev: number, verdicts: VerdictPlan | null): string {
  const facts = latestAnswers(record);
  const flags = (cert.isCA ? 1 : 0) | (revokedInLife(cert, record) ? 2 : 0) | (refusedSources(cert).length > 0 ? 4 : 0);
  const sources = revocationSources(cert).map((s) => {
    const key = `${s.kind} ${s.url}`;
    return [`${ROUTE_CODES[`${s.kind} ${s.route}` as keyof typeof ROUTE_CODES]}${sourceHash(key)}`, ...packLatest(facts.get(key))];
  });
  const summary: unknown[] = [
    SUMMARY_FORMAT,
    rev,
    packSerial(cert.serial),
    b36(cert.notAfter),
    sourceHash(cert.issuerSha256),
    flags,
    sources,
  ];
  if (verdicts)
    summary.push([
      verdicts.deadline === null ? null : b36(verdicts.deadline),
      [verdicts.onTime, verdicts.late, verdicts.expired].map((v) => VERDICT_CODES[VERDICT_NAMES.indexOf(v)]).join(''),
    ]);
  return JSON.stringify(summary);
}

function revokedInLife(cert: StoredCertificate, record: EvidenceRecord): boolean {
  const effective = evidenceOf(cert, recordObservations(record)).effectiveRevocationTime;
  return effective !== null && effective <= cert.notAfter;
}

const ROUTES = Object.fromEntries(Object.entries(ROUTE_CODES).map(([k, c]) => [c, k.split(' ')])) as Record<
  string,
  ['crl' | 'ocsp', SummarySource['route']]
>;
const STATUSES = Object.fromEntries(Object.entries(STATUS_CODES).map(([k, c]) => [c, k])) as Record<string, Observation['status']>;

/** The summary of an index item, or null when it has none (written before summaries) or one of another format. */
export function readPollSummary(i: Item): PollSummary | null {
  if (typeof i.ps !== 'string') return null;
  const p = JSON.parse(i.ps) as unknown[];
  if (p[0] !== SUMMARY_FORMAT) return null;
  const flags = Number(p[5]);
  const verdicts = p[7] as [string | null, string] | undefined;
  return {
    kind: 'summary',
    caseId: caseIdOfPartition(i.pk),
    sha256: certificateShaOf(i.sk),
    rev: Number(p[1]),
    serial: unpackSerial(String(p[2])),
    notAfter: from36(p[3]),
    issuerHash: String(p[4]),
    isCA: (flags & 1) !== 0,
    revokedInLife: (flags & 2) !== 0,
    refused: (flags & 4) !== 0,
    sources: (p[6] as unknown[][]).map((s) => {
      const tag = String(s[0]);
      const [kind, route] = ROUTES[tag.charAt(0)]!;
      const latest: SummaryAnswer | null =
        s.length > 1
          ? {
              observedAt: from36(s[1]),
              status: STATUSES[String(s[2])]!,
              revocationTime: s[3] == null ? null : from36(s[3]),
              reasonCode: (s[4] ?? null) as number | null,
              errorKind: (s[5] ?? null) as string | null,
              stale: s[6] === 1,
            }
          : null;
      const verifiedAt = s[7] == null ? (latest && latest.status !== 'error' ? latest.observedAt : null) : from36(s[7]);
      const definite =
        s[8] === '-'
          ? null
          : s[8] == null
            ? latest && (latest.status === 'good' || latest.status === 'revoked')
              ? latest.status
              : null
            : STATUSES[String(s[8])]!;
      return { kind, route, hash: tag.slice(1), latest, latestVerifiedAt: verifiedAt, latestDefiniteStatus: definite ?? null };
    }),
    verdicts: verdicts
      ? {
          deadline: verdicts[0] === null ? null : from36(verdicts[0]),
          onTime: VERDICT_NAMES[VERDICT_CODES.indexOf(verdicts[1].charAt(0))]!,
          late: VERDICT_NAMES[VERDICT_CODES.indexOf(verdicts[1].charAt(1))]!,
          expired: VERDICT_NAMES[VERDICT_CODES.indexOf(verdicts[1].charAt(2))]!,
        }
      : null,
    pollDue: i.pd === undefined || i.pd === null ? null : Number(i.pd),
    pollSettled: inSettledPool(i.pk2),
  };
}

/** The attributes the narrow polling index projects besides the table's and its own keys. */
export const POLL_SUMMARY_ATTRIBUTES = ['ps'] as const;

/**
 * The size DynamoDB counts for an item (its attribute names and values: a string's UTF-8 bytes, a number's
 * ~1 byte per two significant digits plus one, a binary's bytes): what a read of it is billed for.
 */
export function itemSize(i: Item): number {
  let n = 0;
  for (const [name, value] of Object.entries(i)) {
    n += Buffer.byteLength(name);
    if (typeof value === 'string') n += Buffer.byteLength(value);
    else if (typeof value === 'number')
      n +=
        Math.ceil(
          String(Math.abs(value))
            .replace(/[.-]/g, '')
            .replace(/^0+|0+$/g, '').length / 2,
        ) + 1;
    else if (value instanceof Uint8Array) n += value.byteLength;
    else if (typeof value === 'boolean' || value === null) n += 1;
    else n += Buffer.byteLength(JSON.stringify(value));
  }
  return n;
}

/**
 * A tracked certificate's item given its polling summary, as an item written today carries it (the migration of a
 * table made before the narrow polling index, adapters/local/poll-migration.ts); any other item as it is.
 */
export function withPollSummary(i: Item, cases: ReadonlyMap<string, Case>): Item {
  if (typeof i.c !== 'string' || typeof i.ev !== 'string' || !String(i.sk).startsWith(CERT) || !String(i.pk).startsWith(CASE)) return i;
  const caseId = caseIdOfPartition(i.pk);
  const cert = unpackCertificate(i.c, caseId, certificateShaOf(i.sk));
  return { ...i, ps: pollSummaryOf(cert, unpackRecord(i.ev), Number(i.rev ?? 0), cases.get(caseId) ?? null) };
}
