/**
 * `revwatch track --appendix <file.csv>` (track/appendix.ts): the case facts
 * as for any `track` and the appendix's header checked before anything is
 * written, then the rows read and tracked a slice at a time as the file is
 * read, and the rows that cannot be tracked listed by line.
 */
import { InputError } from '../errors.js';
import { readCertificates } from '../pki/certificate.js';
import { countLines, openAppendix, trackAppendix } from '../track/appendix.js';
import { caseFromOptions } from './commands/track-case.js';
import { readInput, type CliContext } from './context.js';
import type { TrackOptions } from './commands/track.js';
import { terminalProgress } from './progress.js';

export async function trackAppendixCommand(ctx: CliContext, inputs: string[], opts: TrackOptions): Promise<void> {
  if (!opts.appendix)
    throw new InputError('nothing to track: name certificates (files, directories, crtsh:<id>, ...) or give --appendix <file.csv>');
  if (inputs.length > 0)
    throw new InputError(`--appendix tracks the rows of one appendix: give the certificates (${inputs[0]}) in another \`revwatch track\``);
  const { io } = ctx;
  // Every fact of the case is checked before the appendix is read.
  const kase = caseFromOptions(opts, io.clock.now().getTime());
  const given = opts.issuer ? readCertificates(await readInput(opts.issuer, 'issuer'), opts.issuer) : [];
  // The header is read and checked here, before the store is opened; the rows are read as they are tracked.
  const appendix = await openAppendix(opts.appendix);
  let result: Awaited<ReturnType<typeof trackAppendix>>;
  try {
    const progress = await terminalProgress(ctx, 'rows');
    const expectedRows = progress ? Math.max(0, (await countLines(opts.appendix)) - 1) : undefined;
    result = await ctx
      .withRuntime(({ store, disclosures }) =>
        trackAppendix({ store, clock: io.clock, disclosures, ...(progress ? { progress } : {}) }, kase, appendix.rows, {
          given,
          sources: { crlUrls: opts.crlUrl, ocspUrls: opts.ocspUrl },
          ...(opts.certsDir ? { certsDir: opts.certsDir } : {}),
          source: opts.appendix!,
          ...(expectedRows !== undefined ? { expectedRows } : {}),
        }),
      )
      .finally(() => progress?.stop());
  } finally {
    await appendix.close();
  }
  const file = opts.appendix;
  const skipped = result.skipped.map((r) => ({ file, line: r.line, why: r.why }));
  ctx.print({ ...result, skipped }, () =>
    [
      `case ${result.caseId}${result.caseCreated ? ' (new)' : ''}: ${result.added} certificate(s) added, ${result.alreadyTracked} already tracked, from ${file}` +
        `${result.duplicates ? `; ${result.duplicates} repeated row(s) counted once` : ''}` +
        `${result.fromCertificates ? `; ${result.fromCertificates} from the certificate itself (--certs-dir)` : ''}`,
      ...skipped.slice(0, 50).map((r) => `  ${r.file} line ${r.line}: not tracked: ${r.why}`),
      ...(skipped.length > 50 ? [`  ... and ${skipped.length - 50} more row(s) not tracked (--json lists them all)`] : []),
    ].join('\n'),
  );
}
