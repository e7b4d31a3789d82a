/** The table, through the DynamoDB adapter the CLI uses too (src/runtime/aws.ts, without SES). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoStore } from '../../src/adapters/aws/dynamo-store.js';

export const tableStore = (tableName: string): DynamoStore => new DynamoStore(new DynamoDBClient({}), { tableName });
