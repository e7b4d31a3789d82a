/** `revwatch site --out DIR`: the static dashboard (src/report/site.ts), written page by page. */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerSite(program: Command, ctx: CliContext): void {
  program
    .command('site')
    .description('a static dashboard: index.html across cases and one page per case, self-contained, works from file://')
    .requiredOption('--out <dir>', 'the folder to write (pages are replaced, nothing else is touched)')
    .action(async (opts: { out: string }) => {
      const { buildSite } = await import('../../report/site.js');
      const { makeOutDir, writeOutFile } = await import('../validate.js');
      const files = await ctx.withRuntime(({ store, disclosures }) => buildSite(store, ctx.io.clock.now().getTime(), { disclosures }));
      for (const f of files) {
        const target = join(opts.out, f.path);
        makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
        writeOutFile(target, f.bytes);
      }
      ctx.io.stdout(`wrote ${files.length} page(s) to ${opts.out}: open ${join(opts.out, 'index.html')}\n`);
    });
}
