/**
 * Reads a file the user named, whatever it is (a regular file, a pipe,
 * /dev/zero), with a bound on what it may cost: at most `maxBytes` are held,
 * and an optional look at the first bytes can refuse it before the rest is
 * read. readFile on /dev/zero grows without bound (~300 MB/s) and never ends.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

const CHUNK = 1024 * 1024;

/**
 * The bytes of `path`, or an InputError naming `what` and the file when it
 * is larger than `maxBytes` or `firstBytes` finds fault with its start.
 * A file that cannot be opened is an InputError naming it too.
 */
export async function readFileCapped(
  path: string,
  what: string,
  maxBytes: number,
  firstBytes?: (head: Buffer) => string | null,
): Promise<Buffer> {
  // Synchronous, like the certificate files of `track` (track/inputs.ts): nothing else runs meanwhile, and no
  // FileHandle is left to the garbage collector while the embedded store's worker is starting or closing.
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InputError(`cannot read ${what} ${path}: ${why}`);
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) throw new InputError(`cannot read ${what} ${path}: it is a directory`);
    if (info.isFile() && info.size > maxBytes)
      throw new InputError(`${what} ${path} is ${info.size} bytes, more than the ${maxBytes}-byte cap`);
    const chunks: Buffer[] = [];
    let length = 0;
    let looked = false;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - length));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (!looked && firstBytes && (length >= 4096 || bytesRead < chunk.length)) {
        looked = true;
        const fault = firstBytes(Buffer.concat(chunks, length));
        if (fault) throw new InputError(`${what} ${path}: ${fault}`);
      }
      if (length > maxBytes) throw new InputError(`${what} ${path} is more than the ${maxBytes}-byte cap`);
    }
    if (!looked && firstBytes && length > 0) {
      const fault = firstBytes(Buffer.concat(chunks, length));
      if (fault) throw new InputError(`${what} ${path}: ${fault}`);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * For CRLs and OCSP responses: DER starts with a SEQUENCE (0x30); PEM is
 * text, possibly after openssl's text dump, and text holds no NUL byte.
 * Anything else is neither, and need not be read to its end to say so.
 */
export function notDerNorPem(head: Buffer): string | null {
  if (head[0] === 0x30) return null;
  const nul = head.subarray(0, 4096).indexOf(0);
  return nul < 0 ? null : `neither DER (it does not start with a SEQUENCE) nor PEM text (byte ${nul} is NUL)`;
}
