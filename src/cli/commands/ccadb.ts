/** `revwatch ccadb import <source>…`: the CCADB disclosure of where each CA publishes its CRLs, and its CA certificates. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerCcadb(program: Command, ctx: CliContext): void {
  const ccadb = program.command('ccadb').description('the CCADB disclosure of where each CA publishes its CRLs');
  ccadb
    .command('import <sources...>')
    .description(
      'import CCADB reports (files, directories, http(s) URLs): "All Certificate Records" (V5 or V4: disclosed full and partitioned CRLs) and "All Certificate PEMs" (CA certificates, to find issuers)',
    )
    .action(async (sources: string[]) => {
      const { formatImport, importCcadbReports, openCcadbSources } = await import('../../ccadb/import.js');
      const fetcher = await ctx.fetcher();
      try {
        // Every source is recognised before the store is opened: one that is not a CCADB report writes nothing.
        const opened = await openCcadbSources(sources, fetcher);
        const result = await ctx.withRuntime(({ disclosures }) => importCcadbReports(opened, disclosures, ctx.io.clock.now().getTime()));
        ctx.print(result, () => formatImport(result));
      } finally {
        await fetcher.close();
      }
    });
}
