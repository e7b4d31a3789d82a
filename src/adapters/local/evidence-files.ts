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
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from './durable-files.js';
import { fsReason } from '../../util/fs-reason.js';
import { isNoSpace, NoSpaceError, StoreUnavailableError } from '../../errors.js';
import type { EvidenceFiles } from '../../ports/index.js';

export function localEvidenceFiles(home: string): EvidenceFiles {
  const dir = join(home, 'crls');
  const path = (sha: string): string => join(dir, `${sha}.crl`);
  return {
    async saveCrl(sha, bytes) {
      const final = path(sha);
      // Kept already: a name is only ever given to a complete copy (the size also catches one cut short by a
      // revwatch that wrote in place).
      if (existsSync(final) && statSync(final).size === bytes.length) return;
      try {
        replaceFile(final, bytes);
        removeLeftCopies(dir, sha);
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
    },
    crlPath: (sha) => (existsSync(path(sha)) ? path(sha) : null),
    readCrl: (sha) => (existsSync(path(sha)) ? readFileSync(path(sha)) : null),
  };
}

/**
 * Temporary copies of this CRL left by a command that was killed mid-copy (another process id in the name). The
 * home's lock lets one command at a time write here, so none of them is still being written.
 */
function removeLeftCopies(dir: string, sha: string): void {
  for (const name of readdirSync(dir))
    if (name.startsWith(`.${sha}.crl.`) && name.endsWith('.partial')) rmSync(join(dir, name), { force: true });
}
