/** `revwatch verify-evidence`: rebuild every evidence record from its observations and compare. */
import type { Command } from 'commander';
import { parseCaseId } from '../validate.js';
import { EvidenceMismatchError, type CliContext } from '../context.js';

export function registerVerifyEvidence(program: Command, ctx: CliContext): void {
  program
    .command('verify-evidence')
    .description('rebuild every evidence record from the observations and compare (exit 1 when one differs)')
    .option('--case <id>', 'only this case', parseCaseId)
    .action(async (opts: { case?: string }) => {
      const { formatVerifyEvidence, verifyEvidence } = await import('../../status/verify-evidence.js');
      const result = await ctx.withRuntime(({ store }) => verifyEvidence(store, opts.case));
      ctx.print(result, () => formatVerifyEvidence(result));
      if (result.differences.length > 0)
        throw new EvidenceMismatchError(`${result.differences.length} evidence record(s) differ from their rebuild from the observations`);
    });
}
