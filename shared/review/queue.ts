/** The live review queue of each reviewer group, for the SLO metrics (queue depth, oldest pending age). */
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DIMENSION, METRIC } from '../metrics.ts';
import { REQUESTS } from '../tables.ts';
import type { RequestStore } from '../store/requests.ts';

export interface QueueStats {
  group: string;
  depth: number;
  /** 0 when the queue is empty. */
  oldestPendingAgeSeconds: number;
}

async function countPending(requests: RequestStore, group: string): Promise<number> {
  const { name, partitionKey } = REQUESTS.pendingIndex;
  let count = 0;
  const pages = paginateQuery(
    { client: requests.doc },
    {
      TableName: requests.tableName,
      IndexName: name,
      KeyConditionExpression: '#pk = :group',
      // Decided rows stay in the index until their executions are told; they are not queued.
      FilterExpression: '#status = :pending',
      ExpressionAttributeNames: { '#pk': partitionKey, '#status': 'status' },
      ExpressionAttributeValues: { ':group': group, ':pending': 'PENDING' },
      Select: 'COUNT',
    },
  );
  for await (const page of pages) count += page.Count ?? 0;
  return count;
}

export async function queueStats(requests: RequestStore, group: string, now: Date): Promise<QueueStats> {
  const [depth, oldest] = await Promise.all([countPending(requests, group), requests.pendingByGroup(group, { limit: 1 })]);
  const createdAt = oldest[0]?.createdAt;
  const oldestPendingAgeSeconds = createdAt ? Math.max(0, Math.floor((now.getTime() - Date.parse(createdAt)) / 1000)) : 0;
  return { group, depth, oldestPendingAgeSeconds };
}

/** One single-metric per value: Powertools flushes a single metric on each add, and its dimensions with it. */
export function publishQueueStats(metrics: Metrics, stats: QueueStats): void {
  const values: [string, (typeof MetricUnit)[keyof typeof MetricUnit], number][] = [
    [METRIC.queueDepth, MetricUnit.Count, stats.depth],
    [METRIC.oldestPendingAge, MetricUnit.Seconds, stats.oldestPendingAgeSeconds],
  ];
  for (const [name, unit, value] of values) {
    const metric = metrics.singleMetric();
    metric.addDimension(DIMENSION.group, stats.group);
    metric.addMetric(name, unit, value);
  }
}
