/** `revwatch report`: one case's evidence report, in the format asked for (REPORT_FORMATS). */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { InputError } from '../../errors.js';
import { REPORT_FORMAT_NAMES, REPORT_FORMATS, type ReportFormatName } from '../../report/report-formats.js';
import type { CliContext } from '../context.js';
import { terminalProgress } from '../progress.js';

interface ReportOptions {
  case: string;
  format: ReportFormatName;
  out?: string;
  force?: boolean;
}

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description(
      'the evidence report of a case: markdown (incident bug), csv, irg-csv (the CCADB appendix), json, html, or an evidence bundle',
    )
    .requiredOption('--case <id>', 'the case', parseCaseId)
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMAT_NAMES).default('markdown'))
    .option('--out <path>', 'write to this file (a directory for --format bundle) instead of stdout')
    .option('--force', '--format bundle: empty a previous bundle in --out first')
    .action((opts: ReportOptions) => report(ctx, opts));
}

async function report(ctx: CliContext, opts: ReportOptions): Promise<void> {
  const { io } = ctx;
  const format = REPORT_FORMATS[opts.format];
  if (format.kind === 'directory' && !opts.out) throw new InputError(`--format ${opts.format} needs --out <directory>`);
  if (format.kind === 'stream') return (await import('../irg-csv-out.js')).irgCsvOut(ctx, opts.case, opts.out);
  const { buildCaseReport } = await import('../../report/case-report.js');
  const { makeOutDir, writeOutFile } = await import('../validate.js');
  const progress = await terminalProgress(ctx, 'certificates');
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
    const { readArchivedCrls } = await import('../../report/read-archived.js');
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
    const { prepareBundleDir } = await import('../../report/bundle.js');
    prepareBundleDir(opts.out!, { force: opts.force === true });
    for (const f of files) {
      const target = join(opts.out!, f.path);
      makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
      writeOutFile(target, f.bytes);
    }
    io.stdout(`wrote ${files.length} files to ${opts.out}: check them with \`sh ${join(opts.out!, 'verify.sh')}\`\n`);
    return;
  }
  if (format.kind !== 'text') return;
  const text = (await format.renderer())(caseReport);
  if (opts.out) {
    writeOutFile(opts.out, text);
    io.stdout(`wrote ${opts.out}\n`);
  } else io.stdout(text);
}
