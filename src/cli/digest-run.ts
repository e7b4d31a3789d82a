/** What `revwatch digest` runs (src/cli/commands/digest.ts declares its options). */
import { parseInstant } from '../time.js';
import { formatDigest, produceDigest } from '../report/digest.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import type { CliContext } from './context.js';
import type { DigestOptions } from './commands/digest.js';

export async function digest(ctx: CliContext, opts: DigestOptions): Promise<void> {
  const now = ctx.io.clock.now().getTime();
  const since = opts.since ? parseInstant(opts.since, '--since') : undefined;
  // Without --send, looking at the digest records nothing: run it twice, see the same new findings.
  const produced = await ctx.withRuntime(({ store, disclosures, evidenceFiles, sweepState }) =>
    produceDigest(store, now, since, async (d) => ctx.print(d, () => formatDigest(d, opts.format)), {
      recordDelivery: opts.send === true,
      disclosures,
      // A local home's sweep state (sweep-run.ts), or in AWS mode the deployed sweeps' state in the table.
      sweepState: evidenceFiles ? new SweepStateFile(ctx.home()) : (sweepState ?? null),
    }),
  );
  // What --send did, on stderr so that stdout stays the text to post (or the JSON): the CLI mails nothing,
  // it records the delivery, and that moves where the next digest's "new" starts.
  if (opts.send) {
    const findings = produced.cas.reduce((n, ca) => n + ca.newFindings.length, 0);
    ctx.io.stderr(
      `revwatch: digest recorded as delivered at ${produced.generatedAt}: ${findings} new finding(s) since ${produced.since} now count as reported; ` +
        `revwatch emailed it to no one (post the text yourself; the stack's weekly digest function mails its own); ` +
        `the next digest counts new findings from ${produced.generatedAt}\n`,
    );
  }
}
