/**
 * Local mode's evidence files: a copy of every CRL a check read, under
 * <home>/crls/<sha256>.crl, so a report's bundle can ship the very bytes whose
 * hash the observations cite.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvidenceFiles } from '../../ports.js';

export function localEvidenceFiles(home: string): EvidenceFiles {
  const dir = join(home, 'crls');
  const path = (sha: string): string => join(dir, `${sha}.crl`);
  return {
    async saveCrl(sha, bytes) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path(sha), bytes);
    },
    crlPath: (sha) => (existsSync(path(sha)) ? path(sha) : null),
    readCrl: (sha) => (existsSync(path(sha)) ? readFileSync(path(sha)) : null),
  };
}
