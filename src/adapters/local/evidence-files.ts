/**
 * Local mode's evidence files: a copy of every CRL a check read, under
 * <home>/crls/<sha256>.crl, so a report's bundle can ship the very bytes whose
 * hash the observations cite.
 *
 * A copy is written under a temporary name, flushed to the disk, and only then
 * renamed to its final name (rename is atomic within a directory): a command
 * killed, or a disk that fills, mid-copy never leaves an incomplete file under
 * a name that claims its hash. A temporary file left by a killed command is
 * never read, and is removed by the next copy of the same CRL.
 *
 * The copy is written and flushed off the event loop: a sweep keeps thousands
 * of CRLs, and a synchronous flush of each held back every fetch in flight.
 * The directory is listed for left copies once, at the first copy, not at
 * every copy (a listing per CRL made a sweep's copies quadratic in the CRLs
 * kept); the home's lock lets no other command add any meanwhile.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileAsync } from './durable-files.js';
import { fsReason } from '../../util/fs-reason.js';
import { isNoSpace, NoSpaceError, StoreUnavailableError } from '../../errors.js';
import type { EvidenceFiles } from '../../ports/index.js';

export function localEvidenceFiles(home: string): EvidenceFiles {
  const dir = join(home, 'crls');
  const path = (sha: string): string => join(dir, `${sha}.crl`);
  let leftCopies: string[] | null = null;
  /** Temporary copies of this CRL left by a command that was killed mid-copy (another process id in the name). */
  const removeLeftCopies = (sha: string): void => {
    leftCopies ??= readdirSync(dir).filter((name) => name.startsWith('.') && name.endsWith('.partial'));
    const prefix = `.${sha}.crl.`;
    for (const name of leftCopies.filter((n) => n.startsWith(prefix))) rmSync(join(dir, name), { force: true });
    leftCopies = leftCopies.filter((n) => !n.startsWith(prefix));
  };
  /** Copies being written: a second copy of the same CRL (two URLs serving it) waits for the first, never shares its temporary file. */
  const writing = new Map<string, Promise<void>>();
  return {
    async saveCrl(sha, bytes) {
      const already = writing.get(sha);
      if (already) return already;
      const copy = save(sha, bytes);
      writing.set(sha, copy);
      try {
        await copy;
      } finally {
        writing.delete(sha);
      }
    },
    crlPath: (sha) => (existsSync(path(sha)) ? path(sha) : null),
    readCrl: (sha) => (existsSync(path(sha)) ? readFileSync(path(sha)) : null),
  };

  async function save(sha: string, bytes: Uint8Array): Promise<void> {
    const final = path(sha);
    // Kept already: a name is only ever given to a complete copy (the size also catches one cut short by a
    // revwatch that wrote in place).
    if (existsSync(final) && statSync(final).size === bytes.length) return;
    try {
      await replaceFileAsync(final, bytes);
      removeLeftCopies(sha);
    } catch (err) {
      if (isNoSpace(err))
        throw new NoSpaceError(
          `cannot keep the CRL ${sha} in ${dir}: ${fsReason(err)} (nothing half-written was kept); free space and run the command again`,
          {
            cause: err,
          },
        );
      throw new StoreUnavailableError(`cannot keep the CRL ${sha} in ${dir}: ${fsReason(err)}`, { cause: err });
    }
  }
}
