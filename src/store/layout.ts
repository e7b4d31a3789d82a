/**
 * The single table's keys, shared by the DynamoDB adapter and the in-memory
 * store, so both dedupe and order items the same way (the table layout is
 * described in dynamo-store.ts).
 */
import { createHash } from 'node:crypto';
import { plainObservation, type Case, type Observation } from '../domain.js';
import { EMPTY_RECORD, type EvidenceRecord } from '../rules/evidence.js';
import type { OpenRun } from '../ports.js';
import type { CaseCertificate, StoredCertificate, StoredObservation } from '../ports/store.js';

/** One table item, as the document client reads and writes it. */
export type Item = Record<string, unknown>;

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
      ]),
    )
    .digest('hex')
    .slice(0, 12);
  return `OBS#${pad(o.observedAt)}#${o.source.kind}#${urlHash(o.source.url)}#${content}`;
}

/** The polling index keys of a record due at `due`; null keeps it out of the (sparse) index. */
export function pollKeys(cert: { caseId: string; sha256: string }, due: number | null): { pk2: string; sk2: string; pd: number } | null {
  if (due === null) return null;
  return { pk2: `POLL#${cert.sha256.charAt(0)}`, sk2: `${pad(due)}#${cert.caseId}#${cert.sha256}`, pd: due };
}

/** The upper bound of a polling-index query for everything due at `now`. */
export const pollUpTo = (now: number): string => `${pad(now)}#\uffff`;

/** The observation's attributes as stored (every optional field present, null when absent). */
export function fromObservation(o: Observation): Record<string, unknown> {
  return { ...plainObservation(o) };
}

export function toObservation(i: Record<string, unknown>): Observation {
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
  const PART = 300 * 1024;
  const parts: Item[] = [];
  for (let offset = 0, n = 0; offset < payload.length; offset += PART, n++) {
    parts.push({
      pk: `JOB#${runId}`,
      sk: `${jobId}#${String(n).padStart(4, '0')}`,
      data: Buffer.from(payload.subarray(offset, offset + PART)),
      expiresAt: Math.trunc(expiresAt / 1000),
    });
  }
  return parts;
}

export function stripKeys(i: Item): Item {
  const { pk: _pk, sk: _sk, ...rest } = i;
  return rest;
}

export function toCase(i: Item): Case {
  const { createdAt: _c, certCount: _n, ...rest } = stripKeys(i);
  return rest as unknown as Case;
}

export function certificateItem(cert: StoredCertificate, record: EvidenceRecord, rev: number, pollDue: number | null): Item {
  return {
    pk: `CASE#${cert.caseId}`,
    sk: `CERT#${cert.sha256}`,
    c: JSON.stringify(cert),
    ev: JSON.stringify(record),
    rev,
    ...(pollKeys(cert, pollDue) ?? {}),
  };
}

export function toCaseCertificate(i: Item): CaseCertificate {
  if (typeof i.c !== 'string') {
    // Written before evidence records: the certificate's fields are top-level attributes.
    const { pk: _pk, sk: _sk, ...rest } = i;
    return { cert: rest as unknown as StoredCertificate, record: EMPTY_RECORD, rev: 0, pollDue: 0, legacy: true };
  }
  const pollDue = i.pd === undefined || i.pd === null ? null : Number(i.pd);
  return new PackedCaseCertificate(i.c, String(i.ev), Number(i.rev ?? 0), pollDue);
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
  #cert: StoredCertificate | null = null;
  #record: EvidenceRecord | null = null;
  declare cert: StoredCertificate;
  declare record: EvidenceRecord;

  constructor(
    packedCert: string,
    packedRecord: string,
    readonly rev: number,
    readonly pollDue: number | null,
  ) {
    this.#packedCert = packedCert;
    this.#packedRecord = packedRecord;
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
      return (this.#cert ??= JSON.parse(this.#packedCert) as StoredCertificate);
    },
    set(this: PackedCaseCertificate, value: StoredCertificate) {
      this.#cert = value;
    },
  };

  static readonly #recordDescriptor: PropertyDescriptor = {
    enumerable: true,
    get(this: PackedCaseCertificate) {
      return (this.#record ??= JSON.parse(this.#packedRecord) as EvidenceRecord);
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
