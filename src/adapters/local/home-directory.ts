import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../../errors.js';
import { fsReason } from '../../util/fs-reason.js';
import { oneLine } from '../../util/terminal.js';

/**
 * Creates the local data directory (--home) one level at a time: a path
 * through a file, or somewhere no directory can be made, is the user's
 * mistake and exits 1. (Node's recursive mkdirSync was seen to spin forever
 * under /proc, so the levels are made here.)
 */
export function ensureHomeDirectory(path: string): void {
  const missing: string[] = [];
  let existing = resolve(path);
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (existsSync(existing) && !statSync(existing).isDirectory()) {
    throw new InputError(`--home ${oneLine(path)}: ${oneLine(existing)} is not a directory`);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new InputError(`cannot create --home ${oneLine(path)}: ${fsReason(err)}`);
    }
  }
}
