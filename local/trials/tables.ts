/** Reading a request's row and its log events, as the trials check them (consistent reads). */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';
import type { StackHandle } from '../bench/workload.ts';

export async function rowOf(stack: StackHandle, requestId: string): Promise<StoredRequest | undefined> {
  const out = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId }, ConsistentRead: true }));
  return out.Item as StoredRequest | undefined;
}

export async function eventsOf(stack: StackHandle, requestId: string): Promise<LogEvent[]> {
  const out = await stack.clients.doc.send(
    new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
  );
  return (out.Items ?? []) as LogEvent[];
}
