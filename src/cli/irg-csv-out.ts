/**
 * `report --format irg-csv` (report/irg-csv.ts) to stdout or --out, written as
 * the rows come: a file through one descriptor, stdout waiting for the reader
 * to drain, so neither the rows nor their text are held at once.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileSpool } from '../adapters/local/file-spool.js';
import { InputError } from '../errors.js';
import { writeIrgCsv } from '../report/irg-csv.js';
import { fsReason } from '../util/fs-reason.js';
import { oneLine } from '../util/terminal.js';
import type { CliContext } from './context.js';

/** Where a streamed report goes: `write` each chunk as it comes, `close` at the end, whatever happened. */
export function streamOut(ctx: CliContext, out: string | undefined): { write(chunk: string): void | Promise<void>; close(): void } {
  const { io } = ctx;
  let fd: number | null = null;
  const write = (chunk: string): void | Promise<void> => {
    if (!out) {
      io.stdout(chunk);
      return io.drain?.();
    }
    // Opened at the first chunk, once the case is known to exist: a refused command leaves no file behind.
    if (fd === null) {
      try {
        fd = openSync(out, 'w');
      } catch (err) {
        throw new InputError(`cannot write --out ${oneLine(out)}: ${fsReason(err)}`);
      }
    }
    const bytes = Buffer.from(chunk, 'utf8');
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    } catch (err) {
      throw new InputError(`cannot write --out ${oneLine(out!)}: ${fsReason(err)}`);
    }
  };
  const close = (): void => {
    if (fd !== null) closeSync(fd);
    fd = null;
  };
  return { write, close };
}

export async function irgCsvOut(ctx: CliContext, caseId: string, out: string | undefined): Promise<void> {
  const { io } = ctx;
  const sink = streamOut(ctx, out);
  try {
    await ctx.withRuntime(({ store, disclosures }) =>
      writeIrgCsv(store, caseId, io.clock.now().getTime(), sink.write, { disclosures, openSpool: () => fileSpool() }),
    );
  } finally {
    sink.close();
  }
  if (out) io.stdout(`wrote ${out}\n`);
}
