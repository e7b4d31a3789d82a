/** `revwatch digest`: the per-CA digest for the policy forum. */
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerDigest(program: Command, ctx: CliContext): void {
  program
    .command('digest')
    .description('a digest for the policy forum: per CA, open cases, revoked on time and late, overdue, new findings')
    .option('--since <ISO-8601>', 'count findings as new since this time (default: the last delivered digest, or a week ago)')
    .option(
      '--send',
      'this digest is delivered (you post the printed text; nothing is emailed): record it, so the next digest counts new findings from here',
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown']).default('text'))
    .action(async (opts: { since?: string; send?: boolean; format: 'text' | 'markdown' }) => {
      const { parseInstant } = await import('../../time.js');
      const { formatDigest, produceDigest } = await import('../../report/digest.js');
      const now = ctx.io.clock.now().getTime();
      const since = opts.since ? parseInstant(opts.since, '--since') : undefined;
      // Without --send, looking at the digest records nothing: run it twice, see the same new findings.
      const digest = await ctx.withRuntime(({ store, disclosures }) =>
        produceDigest(store, now, since, async (d) => ctx.print(d, () => formatDigest(d, opts.format)), {
          recordDelivery: opts.send === true,
          disclosures,
        }),
      );
      // What --send did, on stderr so that stdout stays the text to post (or the JSON): the CLI mails nothing,
      // it records the delivery, and that moves where the next digest's "new" starts.
      if (opts.send) {
        const findings = digest.cas.reduce((n, ca) => n + ca.newFindings.length, 0);
        ctx.io.stderr(
          `revwatch: digest recorded as delivered at ${digest.generatedAt}: ${findings} new finding(s) since ${digest.since} now count as reported; ` +
            `revwatch emailed it to no one (post the text yourself; the stack's weekly digest function mails its own); ` +
            `the next digest counts new findings from ${digest.generatedAt}\n`,
        );
      }
    });
}
