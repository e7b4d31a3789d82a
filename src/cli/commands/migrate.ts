/** `revwatch migrate poll-index`: the polling summaries' backfill of a table made before the narrow polling index. */
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.js';

export interface MigratePollIndexOptions {
  segments?: number;
  pageItems?: number;
  restart?: boolean;
}

/** A whole number from `min` to `max`, for commander. */
const wholeNumber =
  (option: string, min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${option} takes a whole number from ${min} to ${max}`);
    return n;
  };

export function registerMigrate(program: Command, ctx: CliContext): void {
  const migrate = program.command('migrate').description('bring a store made by an earlier version up to date (docs/operations.md)');
  migrate
    .command('poll-index')
    .description(
      'give every certificate written before the narrow polling index its polling summary (resumable; a finished backfill is not redone)',
    )
    .option(
      '--segments <n>',
      'Scan segments read side by side (1-64, default 4; a resumed backfill keeps its own)',
      wholeNumber('--segments', 1, 64),
    )
    .option('--page-items <n>', 'items a Scan page examines at most (default: 1 MB pages)', wholeNumber('--page-items', 1, 1_000_000))
    .option('--restart', 'scan again from the start, even after a finished backfill')
    .action(async (opts: MigratePollIndexOptions) => (await import('../migrate-run.js')).migratePollIndex(ctx, opts));
}
