/**
 * The polling indexes' names and keys, shared by the DynamoDB adapter, the in-memory table and the CDK stack
 * (which must not import the SDK adapter). store/layout.ts says what they hold.
 *
 * - `poll`: keys `pk2`/`sk2`, every attribute projected. Tables made before issue 29 have it; planning through it
 *   read each due certificate's whole item (~1.1 KB at 101,000 certificates).
 * - `poll-due`: keys `pk2`/`pd` (the due time as a number), projecting only the polling summary `ps` beside the
 *   keys: ~180 bytes a due certificate. A projection cannot change in place, hence a second index; its sort key
 *   is the number `pd` rather than `sk2` (~95 bytes of due time, case and SHA-256, which the table's keys hold).
 */
export const POLL_INDEX = 'poll';
export const POLL_DUE_INDEX = 'poll-due';

/** Each index's partition and sort key attributes. */
export const INDEX_KEYS: Readonly<Record<string, readonly [string, string]>> = {
  [POLL_INDEX]: ['pk2', 'sk2'],
  [POLL_DUE_INDEX]: ['pk2', 'pd'],
};

/** The non-key attributes `poll-due` projects. */
export const POLL_DUE_PROJECTION = ['ps'] as const;
