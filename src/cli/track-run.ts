/** What `revwatch track` runs (src/cli/commands/track.ts declares its options): read the inputs, find issuers, record. */
import { disclosedCrlsForTrack } from '../ccadb/import.js';
import { disclosedIssuersOf } from '../ccadb/issuers.js';
import { caIssuersFetcher } from '../inspect/responder.js';
import { readCertificates } from '../pki/certificate.js';
import { appendSkipped, collectInputs } from '../track/inputs.js';
import { trackCertificates } from '../track/track.js';
import { startFromIndex } from '../track/index-evidence.js';
import { RevocationIndexFiles } from '../adapters/local/revocation-index-files.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { caseFromOptions } from './commands/track-case.js';
import { readInput, type CliContext } from './context.js';
import { trackAppendixCommand } from './track-appendix.js';
import { terminalProgress } from './progress.js';
import { ENV } from '../runtime/env.js';
import type { TrackOptions } from './commands/track.js';
import { oneLine } from './validate.js';

export async function track(ctx: CliContext, inputs: string[], opts: TrackOptions): Promise<void> {
  if (opts.appendix || inputs.length === 0) return trackAppendixCommand(ctx, inputs, opts);
  const { io } = ctx;
  // Every fact of the case is checked before any input is read or fetched.
  const kase = caseFromOptions(opts, io.clock.now().getTime());
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
    const fetchCaIssuers = caIssuersFetcher(fetcher);
    const progress = await terminalProgress(ctx, 'certificates');
    const result = await ctx
      .withRuntime(async ({ store, disclosures, evidenceFiles }) => {
        // Read before anything is written; a damaged sweep state costs the index's evidence, never the tracking.
        const sweepState = evidenceFiles
          ? await new SweepStateFile(ctx.home()).load().catch((err: Error) => {
              io.stderr(`revwatch: the sweep's index is not used: ${oneLine(err.message)}\n`);
              return null;
            })
          : null;
        const tracked = await trackCertificates(
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
        );
        // A local home that has swept: certificates the index holds as revoked start from the swept snapshots.
        if (!evidenceFiles || !sweepState) return tracked;
        const fromIndex = await startFromIndex(
          {
            store,
            index: new RevocationIndexFiles(ctx.home()),
            state: sweepState,
            archive: evidenceFiles,
            now: io.clock.now().getTime(),
          },
          tracked.caseId,
          entries.map((e) => e.certificate.sha256),
        );
        return fromIndex.certificates > 0 ? { ...tracked, fromSweepIndex: fromIndex } : tracked;
      })
      .finally(() => progress?.stop());
    const fromIndex = 'fromSweepIndex' in result ? result.fromSweepIndex : null;
    ctx.print(skipped.length ? { ...result, skipped } : result, () =>
      [
        `case ${result.caseId}${result.caseCreated ? ' (new)' : ''}: ${result.added} certificate(s) added, ${result.alreadyTracked} already tracked${result.sourcesAdded ? ` (${result.sourcesAdded} given new sources)` : ''}`,
        ...(fromIndex
          ? [
              `  ${fromIndex.certificates} certificate(s) already revoked in the sweep's index: their records start from ${fromIndex.observations} swept CRL answer(s) (evidence that predates tracking)`,
            ]
          : []),
        ...skipped.map((r) => `  ${r.file} line ${r.line}: not tracked: ${r.why}`),
      ].join('\n'),
    );
  } finally {
    await fetcher.close();
  }
}
