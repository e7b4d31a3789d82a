/** `revwatch status`: deadlines, verdicts and findings of every tracked certificate, streamed as judged. */
import { Option, type Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { terminalText } from '../../util/terminal.js';
import { collect, FailOnMatchError, type CliContext } from '../context.js';

interface StatusOptions {
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
    .action((opts: StatusOptions) => status(ctx, opts));
}

async function status(ctx: CliContext, opts: StatusOptions): Promise<void> {
  const { io } = ctx;
  const { isoOrNull, parseInstant } = await import('../../time.js');
  const { jsonStatusSink, streamStatus, textStatusSink } = await import('../../status/status.js');
  const { filteredSink, parseVerdicts } = await import('../../status/status-filter.js');
  const { fileSpool } = await import('../../adapters/local/file-spool.js');
  const rulesAsOf = opts.rulesAsOf ? parseInstant(opts.rulesAsOf, '--rules-as-of') : undefined;
  const verdicts = opts.verdict ? parseVerdicts(opts.verdict.join(','), '--verdict') : null;
  const failOn = opts.failOn ? parseVerdicts(opts.failOn.join(','), '--fail-on') : null;
  const shown = {
    ...(rulesAsOf === undefined ? {} : { rulesAsOf: isoOrNull(rulesAsOf)! }),
    drain: io.drain,
    ...(verdicts ? { shownVerdicts: [...verdicts] } : {}),
  };
  // Written as judged: at incident scale neither the verdicts nor their text are held at once.
  const sink = filteredSink(
    ctx.globals().json ? jsonStatusSink(io.stdout, shown) : textStatusSink((s) => io.stdout(terminalText(s)), shown),
    verdicts,
    failOn,
  );
  await ctx.withRuntime(({ store, disclosures }) =>
    streamStatus(store, io.clock.now().getTime(), sink, { caseId: opts.case, rules: { rulesAsOf, disclosures }, openSpool: fileSpool }),
  );
  sink.end();
  if (failOn && sink.failing() > 0)
    throw new FailOnMatchError(`${sink.failing()} certificate(s) with verdict ${[...failOn].join(' or ')} (--fail-on)`);
}
