/** `revwatch status`: deadlines, verdicts and findings of every tracked certificate, streamed as judged. */
import { Option, type Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { collect, type CliContext } from '../context.js';

export interface StatusOptions {
  case?: string;
  rulesAsOf?: string;
  /** Each --verdict / --fail-on given, in order: repeating the option adds to the list, as --notify does. */
  verdict?: string[];
  failOn?: string[];
}

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('deadlines, verdicts and findings for every tracked certificate')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--rules-as-of <ISO-8601>', 'judge every case under the rules in force at this time instead of when it was reported')
    .addOption(
      new Option(
        '--verdict <list>',
        'show only certificates with these verdicts, comma-separated or repeated (e.g. overdue,revoked_late)',
      ).argParser(collect),
    )
    .addOption(
      new Option(
        '--fail-on <list>',
        'exit 4 when any certificate judged has one of these verdicts (for cron; repeatable), e.g. overdue',
      ).argParser(collect),
    )
    .action(async (opts: StatusOptions) => (await import('../status-run.js')).status(ctx, opts));
}
