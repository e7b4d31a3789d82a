/** Bad input: reported to the user as one line, exit 1, nothing written. */
export class InputError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputError';
  }
}

/**
 * `inspect` exits 3 when what it read is not valid evidence (docs/cli.md, exit
 * codes): thrown after the inspection has been printed. Kept here, not in
 * inspect.ts, so the CLI can map it to its exit code without loading the PKI code.
 */
export class NotEvidenceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NotEvidenceError';
  }
}

/**
 * The local store cannot be used: its thread did not start, its loopback port does not answer, or its data is
 * damaged. Not a bug of revwatch and nothing the command can go on without: one line, exit 1. Found anywhere in
 * an error's chain of causes (the store's adapter wraps what the SDK throws).
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The disk holding the local home is full (ENOSPC) or its quota used up (EDQUOT) while a command wrote to it. Not
 * bad input and not a bug of revwatch: files of the home are written under a temporary name and renamed, so none
 * is left half-written, LevelDB keeps what it had acknowledged, and the same command run again once space is
 * freed completes the work. Exit 2: the run ended unfinished, like a run with sources it could not read.
 */
export class NoSpaceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NoSpaceError';
  }
}

/** Whether `err` (an errno error, or LevelDB's IOError text) says the disk is full or the quota used up. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  return /No space left on device|Disk quota exceeded/i.test(text);
}
