/**
 * A store operation failed (a failed condition is an answer, not an error).
 * The message names what was being stored or read and where; `cause` holds
 * the underlying error (the SDK's, for DynamoDB).
 */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}
