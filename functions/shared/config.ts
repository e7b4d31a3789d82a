/**
 * Lambda configuration: read once at cold start from the environment the CDK
 * stack sets, validated, and passed inward. The core never reads process.env.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface FunctionConfig {
  /** The DynamoDB table (single-table design, see src/store/dynamo-store.ts). */
  readonly tableName: string;
  /** The SES identity notices and digests are sent from. */
  readonly sender: string;
  /** Who receives the weekly digest (comma-separated in the environment). */
  readonly digestRecipients: readonly string[];
}

const EMAIL = /^[^@\s,]+@[^@\s,]+\.[^@\s,]+$/;

export function loadConfig(env: Readonly<Record<string, string | undefined>>): FunctionConfig {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new ConfigError(`${name} is not set`);
    return v;
  };
  const sender = need('REVWATCH_SENDER');
  if (!EMAIL.test(sender)) throw new ConfigError(`REVWATCH_SENDER "${sender}" is not an email address`);
  const digestRecipients = (env.REVWATCH_DIGEST_RECIPIENTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of digestRecipients) if (!EMAIL.test(r)) throw new ConfigError(`REVWATCH_DIGEST_RECIPIENTS: "${r}" is not an email address`);
  return { tableName: need('REVWATCH_TABLE'), sender, digestRecipients };
}
