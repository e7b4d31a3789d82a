/**
 * What every command file shares: the process's I/O, the global options, and
 * lazily made resources (a fetcher, the runtime). Only light modules are
 * imported here; each command imports its service when it runs, so `--help`
 * or `deadline` never load the AWS SDK, dynalite, nodemailer or undici.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { EvidenceArchive } from '../ports/evidence-archive.js';
import type { Clock } from '../ports/index.js';
import type { HttpFetcher } from '../adapters/net/http-fetcher.js';
import type { Runtime } from '../runtime/runtime.js';
import { fetchDeadlinesFromEnv, oneLine } from './validate.js';
import { ENV } from '../runtime/env.js';
import { parseInstant } from '../time.js';
import { readFileCapped } from '../util/read-capped.js';
import { terminalText } from '../util/terminal.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  readonly interactive?: boolean;
  /** Resolves once stdout has room again (a pipe whose reader lags): long outputs wait instead of queueing. */
  readonly drain?: () => Promise<void>;
  /** AWS mode's evidence archive instead of the bucket REVWATCH_EVIDENCE_BUCKET names (tests pass their own). */
  readonly evidenceArchive?: EvidenceArchive;
}

export interface GlobalOptions {
  json?: boolean;
  home?: string;
  allowPrivateNetwork?: boolean;
  aws?: boolean;
}

// The CLI's errors are declared in errors.ts; re-exported for the command files that import them from here.
export { EvidenceMismatchError, FailOnMatchError, SourceUnreadableError } from './errors.js';

export interface CliContext {
  readonly io: CliIo;
  readonly globals: () => GlobalOptions;
  /** Prints `value` as JSON under --json, else the human text. */
  readonly print: (value: unknown, human: () => string) => void;
  /** --home, REVWATCH_HOME or ./.revwatch, absolute. */
  readonly home: () => string;
  /** --at, or now. */
  readonly at: (value: string | undefined) => number;
  /** The HTTP fetcher for CRLs, crt.sh and AIA (undici, loaded on first use). The caller closes it. */
  readonly fetcher: () => Promise<HttpFetcher>;
  /** Opens the runtime (AWS or local), runs `fn`, and closes it whatever happens. */
  readonly withRuntime: <T>(fn: (runtime: Runtime) => Promise<T>, options?: { onMail?: (line: string) => void }) => Promise<T>;
}

export function cliContext(program: Command, io: CliIo): CliContext {
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const home = (): string => resolve(globals().home ?? io.env[ENV.home] ?? '.revwatch');
  return {
    io,
    globals,
    home,
    // Text for people goes to a terminal: no control character of an untrusted value may act there (util/terminal.ts).
    print: (value, human) => io.stdout(`${globals().json ? JSON.stringify(value, null, 2) : terminalText(human())}\n`),
    at: (value) => (value ? parseInstant(value, '--at') : io.clock.now().getTime()),
    fetcher: async () => {
      const { openHttpFetcher } = await import('../runtime/fetch-stack.js');
      return openHttpFetcher({
        clock: io.clock,
        allowPrivateNetwork: globals().allowPrivateNetwork === true,
        ...fetchDeadlinesFromEnv(io.env),
      });
    },
    withRuntime: async (fn, options) => {
      const { openRuntime, runtimeMode } = await import('../runtime/runtime.js');
      const runtime = await openRuntime(runtimeMode(globals().aws === true, io.env), {
        home: home(),
        env: io.env,
        clock: io.clock,
        allowPrivateNetwork: globals().allowPrivateNetwork === true,
        // Read when a command first fetches, as its own fetcher reads them: a command that never fetches ignores them.
        fetchDeadlines: () => fetchDeadlinesFromEnv(io.env),
        onMail: options?.onMail,
        onLockWait: (message) => io.stderr(`revwatch: ${oneLine(message)}\n`),
      });
      try {
        return await fn(runtime);
      } catch (err) {
        throw runtime.mode === 'aws' ? (await import('./aws-unreachable.js')).asAwsUnreachable(err, runtime, io.env) : err;
      } finally {
        await runtime.close();
      }
    },
  };
}

/** Reads a file the user named (16 MiB unless `maxBytes` says otherwise); see util/read-capped.ts. */
export const readInput = (path: string, what: string, maxBytes = 16 * 1024 * 1024, firstBytes?: (head: Buffer) => string | null) =>
  readFileCapped(path, what, maxBytes, firstBytes);

/** commander argParser for repeatable options. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
