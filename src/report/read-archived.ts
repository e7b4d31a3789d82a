/**
 * `--aws report --format bundle`: the CRLs a case's verdicts rest on, read
 * back from the evidence bucket the worker archived them in, so the bundle
 * holds the same files as in local mode.
 */
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import { mapLimit } from '../util/map-limit.js';

/** Every archived CRL among `sha256s`, read a few at a time; those the archive lacks are left out. */
export async function readArchivedCrls(archive: EvidenceArchive, sha256s: readonly string[]): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  await mapLimit([...new Set(sha256s)], 8, async (sha) => {
    const bytes = await archive.getCrl(sha);
    if (bytes) out.set(sha, bytes);
  });
  return out;
}
