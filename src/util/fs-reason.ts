import { oneLine } from './terminal.js';

/**
 * What went wrong with a file system call, in words a user can act on (the errno's own message otherwise).
 * `missing` names what ENOENT means where the caller is: the directory a file was to be written in, or the
 * file that was to be read.
 */
export function fsReason(err: unknown, missing: 'file' | 'directory' = 'directory'): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `no such ${missing}`;
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the device';
    default:
      return oneLine((err as Error).message);
  }
}
