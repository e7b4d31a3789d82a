/**
 * A TextSpool (report/stream-report.ts) on a temporary file: a streamed report's
 * appendix rows wait here, not in memory, until the head that counts them is
 * written. The file is unlinked as soon as it is open, so nothing is left
 * behind, whatever way the process ends.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { TextSpool } from '../../report/stream-report.js';

/** Read back a block at a time: a few MB, whatever the report's size. */
const BLOCK_BYTES = 4 << 20;

export function fileTextSpool(directory: string = tmpdir()): TextSpool {
  const dir = mkdtempSync(join(directory, 'revwatch-text-'));
  let fd: number | null = openSync(join(dir, 'text'), 'w+', 0o600);
  rmSync(dir, { recursive: true, force: true });
  let fileBytes = 0;
  return {
    append(text) {
      if (fd === null) throw new Error('text spool closed');
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written, fileBytes + written);
      fileBytes += bytes.length;
    },
    async replay(write) {
      if (fd === null) throw new Error('text spool closed');
      // A block may end inside a character: the decoder keeps its first bytes for the next block.
      const decoder = new StringDecoder('utf8');
      const block = Buffer.alloc(Math.min(BLOCK_BYTES, Math.max(1, fileBytes)));
      let position = 0;
      while (position < fileBytes) {
        const read = readSync(fd, block, 0, Math.min(block.length, fileBytes - position), position);
        if (read === 0) throw new Error('text spool ended early');
        position += read;
        const text = decoder.write(block.subarray(0, read));
        if (text) {
          const wait = write(text);
          if (wait) await wait;
        }
      }
      const rest = decoder.end();
      if (rest) {
        const wait = write(rest);
        if (wait) await wait;
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
