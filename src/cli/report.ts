/** `revwatch report`: one case's evidence report, in the format asked for. */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { parseCaseId } from '../cli-validate.js';
import { InputError } from '../errors.js';
import type { CliContext } from './context.js';

/** The report formats and the renderer of each (bundle, a directory of files, is written apart). */
const TEXT_FORMATS = {
  markdown: 'toMarkdown',
  csv: 'toCsv',
  json: 'toJson',
  html: 'toHtml',
} as const;
type TextFormat = keyof typeof TEXT_FORMATS;
const FORMATS = [...(Object.keys(TEXT_FORMATS) as TextFormat[]), 'bundle'] as const;

export function registerReport(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('the evidence report of a case: markdown (incident bug), csv, json, html, or an evidence bundle')
    .requiredOption('--case <id>', 'the case', parseCaseId)
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('markdown'))
    .option('--out <path>', 'write to this file (a directory for --format bundle) instead of stdout')
    .action((opts: { case: string; format: TextFormat | 'bundle'; out?: string }) => report(ctx, opts));
}

async function report(ctx: CliContext, opts: { case: string; format: TextFormat | 'bundle'; out?: string }): Promise<void> {
  const { io } = ctx;
  if (opts.format === 'bundle' && !opts.out) throw new InputError('--format bundle needs --out <directory>');
  const { buildCaseReport } = await import('../report/case-report.js');
  const formats = await import('../report/formats.js');
  const { makeOutDir, writeOutFile } = await import('../cli-validate.js');
  const allObservations = opts.format === 'json' || opts.format === 'bundle';
  const { caseReport, readCrl } = await ctx.withRuntime(async ({ store, evidenceFiles }) => ({
    caseReport: await buildCaseReport(store, opts.case, io.clock.now().getTime(), { crlFile: (sha) => evidenceFiles?.crlPath(sha) ?? null, allObservations }),
    readCrl: (sha: string) => evidenceFiles?.readCrl(sha) ?? null,
  }));
  if (opts.format === 'bundle') {
    const files = formats.toBundle(caseReport, readCrl);
    for (const f of files) {
      const target = join(opts.out!, f.path);
      makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
      writeOutFile(target, f.bytes);
    }
    io.stdout(`wrote ${files.length} files to ${opts.out}: check them with \`cd ${opts.out} && sha256sum -c SHA256SUMS\`\n`);
    return;
  }
  const text = formats[TEXT_FORMATS[opts.format]](caseReport);
  if (opts.out) {
    writeOutFile(opts.out, text);
    io.stdout(`wrote ${opts.out}\n`);
  } else io.stdout(text);
}
