/** `revwatch report`: one case's evidence report, in the format asked for (REPORT_FORMATS). */
import { Option, type Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { REPORT_FORMAT_NAMES, type ReportFormatName } from '../../report/report-formats.js';
import type { CliContext } from '../context.js';

export interface ReportOptions {
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
    .action(async (opts: ReportOptions) => (await import('../report-run.js')).report(ctx, opts));
}
