/** The CLI's run() in this process, with its output captured: what a test sees of one `revwatch` command. */
import { run } from '../../src/cli/main.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import type { Clock } from '../../src/ports/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The environment the command reads (nothing of the test process's). */
  env?: Record<string, string>;
  /** The real clock unless a test moves time itself. */
  clock?: Clock;
}

export async function runCli(argv: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: options.env ?? {},
    clock: options.clock ?? new SystemClock(),
    interactive: false,
  });
  return { code, stdout, stderr };
}
