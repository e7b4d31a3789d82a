/**
 * The single table's keys, shared by the DynamoDB adapter and the in-memory
 * store, so both dedupe and order items the same way (the table layout is
 * described in dynamo-store.ts).
 */
import { createHash } from 'node:crypto';
import type { Observation } from '../domain.js';
import type { StoredObservation } from './store.js';

/** 16 shards of the polling index (the first hex digit of the sha256), so no index partition runs hot. */
export const POLL_SHARDS = '0123456789abcdef';

const urlHash = (url: string): string => createHash('sha1').update(url).digest('hex').slice(0, 12);

/** Epoch ms as a fixed-width string, so sort keys order by time. */
export const pad = (ms: number): string => String(Math.max(0, Math.trunc(ms))).padStart(14, '0');

export function observationSortKey(o: StoredObservation): string {
  // The content hash makes the key unique per distinct observation: a
  // retried batch rewrites identical items and can never replace another.
  const content = createHash('sha256')
    .update(JSON.stringify([o.status, o.revocationTime, o.reasonCode, o.thisUpdate, o.nextUpdate, o.producedAt, o.sha256 ?? null, o.error?.kind ?? null]))
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
  return {
    observedAt: o.observedAt,
    source: { kind: o.source.kind, url: o.source.url },
    status: o.status,
    revocationTime: o.revocationTime,
    reasonCode: o.reasonCode,
    thisUpdate: o.thisUpdate,
    nextUpdate: o.nextUpdate,
    producedAt: o.producedAt,
    crlNumber: o.crlNumber ?? null,
    signer: o.signer ?? null,
    sha256: o.sha256 ?? null,
    error: o.error ?? null,
  };
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
