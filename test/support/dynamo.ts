/**
 * A throwaway DynamoDB for tests: the local stack's dynalite (with transactions) on a free port, in memory,
 * with both tables created from shared/tables.ts (same keys and indexes as the stack).
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, ScanCommand, type AttributeDefinition, type AttributeValue, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDynamoServer } from '#local/dynamodb.ts';
import { keepIdleConnections } from '#local/http.ts';
import { DECISION_LOG, DECISION_LOG_INDEXES, REQUESTS, REQUESTS_INDEXES, type IndexDef } from '#shared/tables.ts';


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

/** Start dynalite on 127.0.0.1 with a free port and create the requests table and the decision log. */
export async function startDynamo(tables = { requests: 'hitl-requests', decisions: 'hitl-decisions' }): Promise<LocalDynamo> {
  const server = createDynamoServer(undefined);
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
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
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
