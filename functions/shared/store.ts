/** The table, through the DynamoDB adapter the CLI uses too (src/runtime/aws.ts, without SES). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { TableStore } from '../../src/store/table-store.js';

export const tableStore = (tableName: string): TableStore => new TableStore(openDynamoTable(new DynamoDBClient({}), { tableName }));
