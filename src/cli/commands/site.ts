/** `revwatch site --out DIR`: the static dashboard (src/report/site.ts), written page by page. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerSite(program: Command, ctx: CliContext): void {
  program
    .command('site')
    .description('a static dashboard: index.html across cases and one page per case, self-contained, works from file://')
    .requiredOption('--out <dir>', 'the folder to write (pages are replaced, nothing else is touched)')
    .action(async (opts: { out: string }) => (await import('../site-run.js')).site(ctx, opts));
}
