/** The sparse polling index's name, shared by the DynamoDB adapter and the CDK stack (which must not import the SDK adapter). */
export const POLL_INDEX = 'poll';
