/**
 * The evidence archive: every verified CRL kept under its SHA-256, so a
 * report's bundle can hand out the very bytes a verdict rests on (anyone can
 * check them with `sha256sum` and `openssl crl`). Locally the CRLs are files
 * under --home; in AWS they are objects in the evidence bucket
 * (s3-evidence-archive.ts). Raw OCSP responses are small and stay with their
 * observations in the table, in both modes.
 *
 * Content addressing makes a write idempotent and a read self-checking: the
 * key is the hash, so bytes that do not hash to their key are not evidence.
 */
import { createHash } from 'node:crypto';

export interface EvidenceArchive {
  /** Keeps a verified CRL under its SHA-256 (lowercase hex); writing the same CRL twice is a no-op. */
  putCrl(sha256: string, der: Uint8Array): Promise<void>;
  /** The CRL with this SHA-256, or null when the archive does not hold it. Bytes that do not hash to it are refused. */
  getCrl(sha256: string): Promise<Uint8Array | null>;
}

/** Archived bytes that do not hash to their key: tampering or corruption, never evidence. */
export class ArchiveIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveIntegrityError';
  }
}

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const SHA256 = /^[0-9a-f]{64}$/;

export function requireSha256Key(sha256: string): string {
  if (!SHA256.test(sha256)) throw new ArchiveIntegrityError(`"${sha256}" is not a lowercase SHA-256 key`);
  return sha256;
}

/** The object key of a CRL: content-addressed, under the one prefix the worker may write. */
export const CRL_PREFIX = 'crls/';
export const crlKey = (sha256: string): string => `${CRL_PREFIX}${requireSha256Key(sha256)}.crl`;
