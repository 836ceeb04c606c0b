/** Every item of a Query, page after page (the SDK's paginator), up to `limit` items. */
import { paginateQuery, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export async function queryItems<T>(doc: DynamoDBDocumentClient, input: QueryCommandInput, limit = Infinity): Promise<T[]> {
  const items: T[] = [];
  // With a filter, DynamoDB's Limit counts the items read, not those returned: pages continue until enough pass.
  const pageSize = Number.isFinite(limit) ? Math.min(1000, limit) : undefined;
  for await (const page of paginateQuery({ client: doc, ...(pageSize ? { pageSize } : {}) }, input)) {
    items.push(...((page.Items ?? []) as T[]));
    if (items.length >= limit) break;
  }
  return items.slice(0, limit);
}
