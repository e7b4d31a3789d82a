/** `revwatch demo`: a staged incident against a local CA, run through the same CLI. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext, CliIo } from '../context.js';

export function registerDemo(program: Command, ctx: CliContext, runCli: (argv: readonly string[], io: CliIo) => Promise<number>): void {
  program
    .command('demo')
    .description('a self-contained run: a local CA, a staged incident, track, check and status (no network, no openssl)')
    .action(async () => {
      const { runDemo } = await import('../../demo/demo.js');
      const given = ctx.globals().home;
      await runDemo({
        io: ctx.io,
        home: given ? resolve(given) : undefined,
        runCli: (argv, demoIo) => runCli(argv, { ...demoIo, interactive: false }),
      });
    });
}
