/** What `revwatch track` runs (src/cli/commands/track.ts declares its options): read the inputs, find issuers, record. */
import { readInput, type CliContext } from './context.js';
import { terminalProgress } from './progress.js';
import { ENV } from '../runtime/env.js';
import type { TrackOptions } from './commands/track.js';

export async function track(ctx: CliContext, inputs: string[], opts: TrackOptions): Promise<void> {
  if (opts.appendix || inputs.length === 0) return (await import('./track-appendix.js')).trackAppendixCommand(ctx, inputs, opts);
  const { io } = ctx;
  const { readCertificates } = await import('../pki/certificate.js');
  const { appendSkipped, collectInputs } = await import('../track/inputs.js');
  const { trackCertificates } = await import('../track/track.js');
  // Every fact of the case is checked before any input is read or fetched.
  const kase = (await import('./commands/track-case.js')).caseFromOptions(opts, io.clock.now().getTime());
  const given = opts.issuer ? readCertificates(await readInput(opts.issuer, 'issuer'), opts.issuer) : [];
  const fetcher = await ctx.fetcher();
  try {
    const skipped: { file: string; line: number; why: string }[] = [];
    const entries = await collectInputs(inputs, {
      fetcher,
      crtshBaseUrl: io.env[ENV.crtshUrl] ?? opts.crtshUrl,
      certsDir: opts.certsDir,
      onSkipped: (file, rows) => appendSkipped(skipped, file, rows),
    });
    const fetchCaIssuers = (await import('../inspect/responder.js')).caIssuersFetcher(fetcher);
    const { disclosedCrlsForTrack } = await import('../ccadb/import.js');
    const { disclosedIssuersOf } = await import('../ccadb/issuers.js');
    const progress = await terminalProgress(ctx, 'certificates');
    const result = await ctx
      .withRuntime(({ store, disclosures }) =>
        trackCertificates(
          {
            store,
            clock: io.clock,
            fetchCaIssuers,
            disclosedIssuers: disclosedIssuersOf(disclosures),
            disclosedCrlsOf: disclosedCrlsForTrack(disclosures),
            progress,
          },
          kase,
          entries,
          given,
          { crlUrls: opts.crlUrl, ocspUrls: opts.ocspUrl },
        ),
      )
      .finally(() => progress?.stop());
    ctx.print(skipped.length ? { ...result, skipped } : result, () =>
      [
        `case ${result.caseId}${result.caseCreated ? ' (new)' : ''}: ${result.added} certificate(s) added, ${result.alreadyTracked} already tracked${result.sourcesAdded ? ` (${result.sourcesAdded} given new sources)` : ''}`,
        ...skipped.map((r) => `  ${r.file} line ${r.line}: not tracked: ${r.why}`),
      ].join('\n'),
    );
  } finally {
    await fetcher.close();
  }
}
