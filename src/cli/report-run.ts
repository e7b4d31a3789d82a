/** What `revwatch report` runs (src/cli/commands/report.ts declares its options): one case's report, in the format asked for. */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { prepareBundleDir } from '../report/bundle.js';
import { buildCaseReport } from '../report/case-report.js';
import { readArchivedCrls } from '../report/read-archived.js';
import { REPORT_FORMATS } from '../report/report-formats.js';
import type { ReportOptions } from './commands/report.js';
import type { CliContext } from './context.js';
import { irgCsvOut, streamOut } from './irg-csv-out.js';
import { fileSpool } from '../adapters/local/file-spool.js';
import { fileTextSpool } from '../adapters/local/file-text-spool.js';
import { writeTextReport } from '../report/stream-report.js';
import { terminalProgress } from './progress.js';
import { makeOutDir, writeOutFile } from './validate.js';

export async function report(ctx: CliContext, opts: ReportOptions): Promise<void> {
  const { io } = ctx;
  const format = REPORT_FORMATS[opts.format];
  if (format.kind === 'directory' && !opts.out) throw new InputError(`--format ${opts.format} needs --out <directory>`);
  if (format.kind === 'stream') return irgCsvOut(ctx, opts.case, opts.out);
  const progress = await terminalProgress(ctx, 'certificates');
  if (format.kind === 'text') {
    // Written as the verdicts come: the rows wait in temporary files, not in memory (report/stream-report.ts).
    const sink = streamOut(ctx, opts.out);
    try {
      await ctx.withRuntime(async ({ store, evidenceFiles, disclosures }) => {
        if (progress) progress.start((await store.certificateCounts()).get(opts.case) ?? 0, 'judging');
        await writeTextReport(format.streamed, store, opts.case, io.clock.now().getTime(), sink.write, {
          crlFile: (sha) => evidenceFiles?.crlPath(sha) ?? null,
          observations: format.observations,
          allObservations: format.allObservations,
          certificateBytes: format.certificateBytes,
          disclosures,
          openSpool: () => fileSpool(),
          openTextSpool: () => fileTextSpool(),
          ...(progress ? { onCertificate: () => progress.increment() } : {}),
        }).finally(() => progress?.stop());
      });
    } finally {
      sink.close();
    }
    if (opts.out) io.stdout(`wrote ${opts.out}\n`);
    return;
  }
  const { caseReport, readCrl } = await ctx.withRuntime(async ({ store, evidenceFiles, disclosures, evidenceArchive }) => {
    // The case's certificate count is one item read; with it, judging a big case shows how far it is.
    if (progress) progress.start((await store.certificateCounts()).get(opts.case) ?? 0, 'judging');
    const built = await buildCaseReport(store, opts.case, io.clock.now().getTime(), {
      crlFile: (sha) => evidenceFiles?.crlPath(sha) ?? null,
      observations: format.observations,
      allObservations: format.allObservations,
      certificateBytes: format.certificateBytes,
      disclosures,
      ...(progress ? { onCertificate: () => progress.increment() } : {}),
    }).finally(() => progress?.stop());
    // AWS mode keeps no CRL files: a bundle reads the CRLs the worker archived in the evidence bucket.
    const archive = evidenceFiles ? null : (io.evidenceArchive ?? evidenceArchive);
    const archived =
      archive && format.kind === 'directory'
        ? await readArchivedCrls(
            archive,
            built.crls.map((c) => c.sha256),
          )
        : new Map<string, Uint8Array>();
    return { caseReport: built, readCrl: (sha: string) => evidenceFiles?.readCrl(sha) ?? archived.get(sha) ?? null };
  });
  if (format.kind === 'directory') {
    const files = (await format.renderer())(caseReport, readCrl);
    prepareBundleDir(opts.out!, { force: opts.force === true });
    for (const f of files) {
      const target = join(opts.out!, f.path);
      makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
      writeOutFile(target, f.bytes);
    }
    io.stdout(`wrote ${files.length} files to ${opts.out}: check them with \`sh ${join(opts.out!, 'verify.sh')}\`\n`);
    return;
  }
}
