/**
 * The CLI's own errors: each ends a command with its exit code (docs/cli.md,
 * mapped in main.ts) after what is known has been printed. The core's are in
 * src/errors.ts, the runtime's in src/runtime/errors.ts.
 */

/** A remote source could not be read: exit 2 after printing what is known. */
export class SourceUnreadableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SourceUnreadableError';
  }
}

/** verify-evidence found a stored record that its observations do not rebuild: exit 1 after the details. */
export class EvidenceMismatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvidenceMismatchError';
  }
}

/** `status --fail-on`: some certificate has one of the verdicts: exit 4 after the status. */
export class FailOnMatchError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FailOnMatchError';
  }
}

/** AWS could not be reached (no route, a name that does not resolve): exit 1, or 2 when some writes were already done. */
export class AwsUnreachableError extends Error {
  constructor(
    message: string,
    readonly partlyDone: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'AwsUnreachableError';
  }
}
