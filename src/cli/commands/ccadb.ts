/** `revwatch ccadb import <file|url>`: the CCADB disclosure of where each CA publishes its CRLs. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerCcadb(program: Command, ctx: CliContext): void {
  const ccadb = program.command('ccadb').description('the CCADB disclosure of where each CA publishes its CRLs');
  ccadb
    .command('import <source>')
    .description('import the CCADB "All Certificate Records" CSV report (a file or an http(s) URL): disclosed full and partitioned CRLs')
    .action(async (source: string) => {
      const { formatImport, importCcadbReport, readReport } = await import('../../ccadb/import.js');
      const { parseAllCertificateRecords } = await import('../../ccadb/report.js');
      const fetcher = await ctx.fetcher();
      let text: string;
      try {
        text = await readReport(source, fetcher);
      } finally {
        await fetcher.close();
      }
      // Parsed before the store is opened: a file without the needed columns writes nothing.
      parseAllCertificateRecords(text, source);
      const result = await ctx.withRuntime(({ disclosures }) => importCcadbReport(text, source, disclosures, ctx.io.clock.now().getTime()));
      ctx.print(result, () => formatImport(result));
    });
}
