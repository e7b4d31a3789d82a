/** What `revwatch site` runs (src/cli/commands/site.ts declares its options): the pages of src/report/site.ts, written one by one. */
import { join } from 'node:path';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { buildSite } from '../report/site.js';
import type { CliContext } from './context.js';
import { makeOutDir, writeOutFile } from './validate.js';

export async function site(ctx: CliContext, opts: { out: string }): Promise<void> {
  const files = await ctx.withRuntime(async ({ store, disclosures, evidenceFiles, sweepState }) =>
    // A local home's sweep state (sweep-run.ts), or in AWS mode the deployed sweeps' state in the table.
    buildSite(
      store,
      ctx.io.clock.now().getTime(),
      { disclosures },
      evidenceFiles ? await new SweepStateFile(ctx.home()).load() : await sweepState?.load(),
    ),
  );
  for (const f of files) {
    const target = join(opts.out, f.path);
    makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
    writeOutFile(target, f.bytes);
  }
  ctx.io.stdout(`wrote ${files.length} page(s) to ${opts.out}: open ${join(opts.out, 'index.html')}\n`);
}
