/** `revwatch status`: deadlines, verdicts and findings of every tracked certificate, streamed as judged. */
import type { Command } from 'commander';
import { parseCaseId } from '../cli-validate.js';
import type { CliContext } from './context.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('deadlines, verdicts and findings for every tracked certificate')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--rules-as-of <ISO-8601>', 'judge every case under the rules in force at this time instead of when it was reported')
    .action(async (opts: { case?: string; rulesAsOf?: string }) => {
      const { io } = ctx;
      const { isoOrNull, parseInstant } = await import('../time.js');
      const { jsonStatusSink, streamStatus, textStatusSink } = await import('../check/status.js');
      const { fileSpool } = await import('../adapters/local/file-spool.js');
      const rulesAsOf = opts.rulesAsOf ? parseInstant(opts.rulesAsOf, '--rules-as-of') : undefined;
      const shown = { ...(rulesAsOf === undefined ? {} : { rulesAsOf: isoOrNull(rulesAsOf)! }), drain: io.drain };
      // Written as judged: at incident scale neither the verdicts nor their text are held at once.
      const sink = ctx.globals().json ? jsonStatusSink(io.stdout, shown) : textStatusSink(io.stdout, shown);
      await ctx.withRuntime(({ store }) => streamStatus(store, io.clock.now().getTime(), sink, opts.case, undefined, { rulesAsOf }, fileSpool));
      sink.end();
    });
}
