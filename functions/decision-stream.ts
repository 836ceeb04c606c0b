/** Decision stream function: the decision log's final events, as rows of the decisions table, to Firehose (and so to S3). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { forwardDecisions } from '#shared/analytics/stream.ts';
import { ENV, requireEnv } from '#shared/env.ts';
import { storeDepsFromEnv } from '#shared/deps-env.ts';

const store = storeDepsFromEnv('decision-stream', process.env, { dynamodb: new DynamoDBClient({}) });
const deps = {
  doc: store.requests.doc,
  requestsTable: store.requests.tableName,
  config: store.config,
  firehose: new FirehoseClient({}),
  deliveryStream: requireEnv(ENV.decisionStream, process.env),
  log: store.log,
};

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  return forwardDecisions(deps, event.Records);
}
