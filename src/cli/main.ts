/**
 * The `revwatch` command: the program's global options and its commands, one
 * file each under src/cli/ (parse, call one service, print). Each command
 * imports what it runs only when it runs, so `--help`, `deadline` and
 * `inspect` start without the AWS SDK, dynalite or nodemailer (a test holds
 * this: test/integration/cli-startup.test.ts).
 *
 * Exit codes (docs/cli.md): 0 done; 1 bad input or usage (one line on stderr,
 * nothing written); 2 finished, but some sources could not be read; 3
 * (`inspect`) read, but not valid evidence; 4 (`status --fail-on`) some
 * certificate has one of the verdicts; 70 an internal error, only ever a bug.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { describeAwsSetupError, oneLine } from './validate.js';
import { SystemClock } from '../adapters/system-clock.js';
import { InputError, NoSpaceError, NotEvidenceError, StoreUnavailableError } from '../errors.js';
import { cliContext, type CliIo } from './context.js';
import { AwsUnreachableError, EvidenceMismatchError, FailOnMatchError, SourceUnreadableError } from './errors.js';
import { registerCcadb } from './commands/ccadb.js';
import { registerCheck } from './commands/check.js';
import { registerDeadline } from './commands/deadline.js';
import { registerDemo } from './commands/demo.js';
import { registerDigest } from './commands/digest.js';
import { registerInspect } from './commands/inspect.js';
import { registerReport } from './commands/report.js';
import { registerSite } from './commands/site.js';
import { registerLookup } from './commands/lookup.js';
import { registerMigrate } from './commands/migrate.js';
import { registerCrlHealth } from './commands/crl-health.js';
import { registerStatus } from './commands/status.js';
import { registerSweep } from './commands/sweep.js';
import { registerTrack } from './commands/track.js';
import { registerVerifyEvidence } from './commands/verify-evidence.js';

export type { CliIo } from './context.js';

/** The version in package.json, which sits two levels above src/cli/ and dist/cli/. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  const ctx = cliContext(program, io);
  program
    .name('revwatch')
    .description('Holds Certificate Authorities to their Baseline Requirements revocation deadlines, with signed evidence.')
    .version(packageVersion(), '--version', 'print the version')
    .option('--home <dir>', 'where local data is kept (default ./.revwatch, or REVWATCH_HOME)')
    .option('--json', 'machine-readable output')
    .option('--allow-private-network', 'allow responders on loopback or private addresses (local CAs, tests)')
    .option('--aws', 'use the deployed DynamoDB table (or set REVWATCH_TABLE)')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();

  // The order here is the order `--help` lists them in.
  registerDeadline(program, ctx);
  registerTrack(program, ctx);
  registerCheck(program, ctx);
  registerStatus(program, ctx);
  registerReport(program, ctx);
  registerVerifyEvidence(program, ctx);
  registerDigest(program, ctx);
  registerDemo(program, ctx, run);
  registerSite(program, ctx);
  registerCcadb(program, ctx);
  registerSweep(program, ctx);
  registerLookup(program, ctx);
  registerCrlHealth(program, ctx);
  registerInspect(program, ctx);
  registerMigrate(program, ctx);
  return program;
}

/** Runs the CLI and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return exitCodeOf(err, io);
  }
}

/** Prints the one line a failure deserves and returns its exit code. */
function exitCodeOf(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // --help and --version exit 0; commander has already printed the usage error line.
    return err.exitCode === 0 ? 0 : 1;
  }
  if (err instanceof InputError || err instanceof EvidenceMismatchError) {
    io.stderr(`revwatch: ${oneLine(err.message)}\n`);
    return 1;
  }
  const noSpace = causeOfClass(err, NoSpaceError);
  if (noSpace) {
    io.stderr(`revwatch: ${oneLine(noSpace.message)}\n`);
    return 2;
  }
  const unavailable = causeOfClass(err, StoreUnavailableError);
  if (unavailable) {
    io.stderr(`revwatch: ${oneLine(unavailable.message)}\n`);
    return 1;
  }
  const awsSetup = describeAwsSetupError(err);
  if (awsSetup) {
    io.stderr(`revwatch: ${awsSetup}\n`);
    return 1;
  }
  if (err instanceof NotEvidenceError) {
    io.stderr(`revwatch: not valid evidence: ${oneLine(err.message)}\n`);
    return 3;
  }
  if (err instanceof FailOnMatchError) {
    io.stderr(`revwatch: ${err.message}\n`);
    return 4;
  }
  if (err instanceof AwsUnreachableError) {
    io.stderr(`revwatch: ${oneLine(err.message)}\n`);
    return err.partlyDone ? 2 : 1;
  }
  if (err instanceof SourceUnreadableError) {
    io.stderr(`revwatch: ${err.message}\n`);
    return 2;
  }
  io.stderr(`revwatch: internal error: ${(err as Error).stack ?? String(err)}\n`);
  return 70;
}

/** `err` or the first of its causes that is a `type`. */
function causeOfClass<T extends Error>(err: unknown, type: new (...args: never[]) => T): T | null {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) if (e instanceof type) return e;
  return null;
}

/**
 * V8's interrupt budget (bytecode executed between two looks at whether a function is hot enough to optimize) for
 * the CLI's own process: four times Node 20's 67,584 (V8 11.3's default). A command runs for seconds, and with the
 * default TurboFan compiled (on background threads, in the process's CPU time) some 130 functions of an unchanged
 * re-check that each ran for milliseconds, several twice after a deoptimization: planDue alone took longer to
 * compile than to run. With four times the budget, only what keeps running long is compiled: an unchanged re-check
 * of 5,000 certificates fell from 2.1 to 1.9 s of CPU in bench/recheck-small.ts (1.9 to 1.5-1.6 in runs side by
 * side; issue 29), a first check of them stayed within the noise (7.2 and 7.5 s, medians of 3 on a loaded machine),
 * and a long run's hot loops are compiled a few milliseconds later.
 */
export const CLI_INTERRUPT_BUDGET = 4 * 67_584;

/** Sets the V8 flags a CLI process runs with (processIo calls it once, before any command's modules are loaded). */
export function tuneV8ForCli(): void {
  setFlagsFromString(`--interrupt-budget=${CLI_INTERRUPT_BUDGET}`);
}

/** The process's own I/O, for bin/revwatch.js: it also sets the CLI's V8 flags (tuneV8ForCli). */
export function processIo(): CliIo {
  tuneV8ForCli();
  // A reader that goes away (`revwatch status --json | head -c 100`) is no failure of the command: the rest of
  // its output is dropped and it ends as it would have, without an 'Unhandled error event' (EPIPE) trace.
  let stdoutGone = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutGone = true;
    process.stdout.emit('drain');
  });
  return {
    stdout: (s) => {
      if (!stdoutGone) process.stdout.write(s);
    },
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    clock: new SystemClock(),
    interactive: process.stderr.isTTY === true,
    drain: () =>
      process.stdout.writableNeedDrain && !stdoutGone ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve(),
  };
}
