/**
 * Throwaway tables for tests on the run's DynamoDB Local (dynamo-engine.ts): both tables created from
 * shared/tables.ts (same keys and indexes as the stack) under names no other test uses, deleted by stop().
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ScanCommand, type AttributeDefinition, type AttributeValue, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DECISION_LOG, DECISION_LOG_INDEXES, REQUESTS, REQUESTS_INDEXES, type IndexDef } from '#shared/tables.ts';
import { sharedDynamoEndpoint, uniqueTablePrefix } from './dynamo-engine.ts';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const TEST_REGION = 'us-east-1';

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  tables: { requests: string; decisions: string };
  /** Every item of a table, sorted by key, for before/after comparisons. */
  scan(table: string): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

function indexes(defs: readonly IndexDef[]): GlobalSecondaryIndex[] {
  return defs.map((d) => ({
    IndexName: d.name,
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  }));
}

function attributes(names: string[]): AttributeDefinition[] {
  return [...new Set(names)].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
}

export async function createTables(client: DynamoDBClient, tables: { requests: string; decisions: string }): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tables.requests,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: REQUESTS.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: attributes([REQUESTS.partitionKey, ...REQUESTS_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])]),
      GlobalSecondaryIndexes: indexes(REQUESTS_INDEXES),
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: tables.decisions,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: DECISION_LOG.partitionKey, KeyType: 'HASH' },
        { AttributeName: DECISION_LOG.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: attributes([
        DECISION_LOG.partitionKey,
        DECISION_LOG.sortKey,
        ...DECISION_LOG_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey]),
      ]),
      GlobalSecondaryIndexes: indexes(DECISION_LOG_INDEXES),
    }),
  );
}

/** Create the requests table and the decision log (their names prefixed with one of this test's own). */
export async function startDynamo(names = { requests: 'hitl-requests', decisions: 'hitl-decisions' }): Promise<LocalDynamo> {
  const endpoint = sharedDynamoEndpoint();
  const prefix = uniqueTablePrefix();
  const tables = { requests: `${prefix}${names.requests}`, decisions: `${prefix}${names.decisions}` };
  const client = new DynamoDBClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await createTables(client, tables);

  return {
    endpoint,
    client,
    doc,
    tables,
    async scan(table) {
      const items: Record<string, unknown>[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      const key = (i: Record<string, unknown>) => JSON.stringify([i.requestId, i.eventKey]);
      return items.sort((a, b) => key(a).localeCompare(key(b)));
    },
    async stop() {
      for (const TableName of Object.values(tables)) await client.send(new DeleteTableCommand({ TableName }));
      client.destroy();
    },
  };
}
