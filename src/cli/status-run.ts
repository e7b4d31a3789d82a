/** What `revwatch status` runs (src/cli/commands/status.ts declares its options): every certificate judged and written as judged. */
import { isoOrNull, parseInstant } from '../time.js';
import { jsonStatusSink, streamStatus, textStatusSink } from '../status/status.js';
import { filteredSink, parseVerdicts } from '../status/status-filter.js';
import { fileSpool } from '../adapters/local/file-spool.js';
import { terminalText } from '../util/terminal.js';
import { FailOnMatchError, type CliContext } from './context.js';
import type { StatusOptions } from './commands/status.js';

export async function status(ctx: CliContext, opts: StatusOptions): Promise<void> {
  const { io } = ctx;
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
