/**
 * `revwatch site --out DIR`: the static dashboard (src/report/site.ts),
 * written page by page. Kept apart from cli.ts so the command's wiring is one
 * call there.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Clock } from './ports.js';
import type { OpenStore } from './store/embedded.js';
import { makeOutDir, writeOutFile } from './cli-validate.js';

export interface SiteDeps {
  readonly clock: Clock;
  readonly stdout: (text: string) => void;
  readonly withStore: <T>(fn: (open: OpenStore) => Promise<T>) => Promise<T>;
}

export function registerSite(program: Command, deps: SiteDeps): void {
  program
    .command('site')
    .description('a static dashboard: index.html across cases and one page per case, self-contained, works from file://')
    .requiredOption('--out <dir>', 'the folder to write (pages are replaced, nothing else is touched)')
    .action(async (opts: { out: string }) => {
      const { buildSite } = await import('./report/site.js');
      const files = await deps.withStore(({ store }) => buildSite(store, deps.clock.now().getTime()));
      for (const f of files) {
        const target = join(opts.out, f.path);
        makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
        writeOutFile(target, f.bytes);
      }
      deps.stdout(`wrote ${files.length} page(s) to ${opts.out}: open ${join(opts.out, 'index.html')}\n`);
    });
}
