/** The runtime's errors: a process that cannot start from its environment. */

/** An environment variable the process needs is missing or malformed (docs/cli.md, infra/revwatch-stack.ts). */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
  }
}
