/** What `revwatch crl-health` runs (src/cli/commands/crl-health.ts declares its options). */
import { parseInstant } from '../time.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { formatHealth, healthReport } from '../sweep/health-report.js';
import type { CliContext } from './context.js';
import type { CrlHealthCliOptions } from './commands/crl-health.js';

export async function crlHealth(ctx: CliContext, opts: CrlHealthCliOptions): Promise<void> {
  const since = opts.since ? parseInstant(opts.since, '--since') : null;
  const { runtimeMode } = await import('../runtime/runtime.js');
  // AWS: the findings the deployed sweep's workers keep in the table; local: <home>/sweep/state.json.
  const state =
    runtimeMode(ctx.globals().aws === true, ctx.io.env) === 'aws'
      ? await ctx.withRuntime(async ({ sweepState }) => {
          if (!sweepState) throw new Error('the AWS runtime opened without the sweep state');
          return sweepState.load();
        })
      : await new SweepStateFile(ctx.home()).load();
  const report = healthReport(state, { owners: opts.owner, since });
  ctx.print(report, () => formatHealth(report));
}
