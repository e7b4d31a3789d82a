/**
 * `--aws report --format bundle`: the CRLs a case's verdicts rest on, read
 * back from the evidence bucket the worker archived them in
 * (REVWATCH_EVIDENCE_BUCKET, the stack's EvidenceBucketName output), so the
 * bundle holds the same files as in local mode.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { EvidenceArchive } from './archive/evidence-archive.js';
import { S3EvidenceArchive } from './archive/s3-evidence-archive.js';
import { mapLimit } from './util/map-limit.js';

export function archiveFromEnv(env: Readonly<Record<string, string | undefined>>): EvidenceArchive | null {
  const bucket = env.REVWATCH_EVIDENCE_BUCKET?.trim();
  return bucket ? new S3EvidenceArchive(new S3Client({}), bucket) : null;
}

/** Every archived CRL among `sha256s`, read a few at a time; those the archive lacks are left out. */
export async function readArchivedCrls(archive: EvidenceArchive, sha256s: readonly string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  await mapLimit([...new Set(sha256s)], 8, async (sha) => {
    const bytes = await archive.getCrl(sha);
    if (bytes) out.set(sha, bytes);
  });
  return out;
}
