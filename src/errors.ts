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
