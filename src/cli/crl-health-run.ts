/** What `revwatch crl-health` runs (src/cli/commands/crl-health.ts declares its options). */
import { parseInstant } from '../time.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { formatHealth, healthReport } from '../sweep/health-report.js';
import type { CliContext } from './context.js';
import type { CrlHealthCliOptions } from './commands/crl-health.js';

export async function crlHealth(ctx: CliContext, opts: CrlHealthCliOptions): Promise<void> {
  const since = opts.since ? parseInstant(opts.since, '--since') : null;
  const state = await new SweepStateFile(ctx.home()).load();
  const report = healthReport(state, { owners: opts.owner, since });
  ctx.print(report, () => formatHealth(report));
}
