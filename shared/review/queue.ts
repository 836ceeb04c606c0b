/** The live review queue of each reviewer group, for the SLO metrics (queue depth, oldest pending age). */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { DIMENSION, METRIC } from '../metrics.ts';
import type { RequestStore } from '../store/requests.ts';

export interface QueueStats {
  group: string;
  depth: number;
  /** 0 when the queue is empty. */
  oldestPendingAgeSeconds: number;
}

export async function queueStats(requests: RequestStore, group: string, now: Date): Promise<QueueStats> {
  const [depth, oldest] = await Promise.all([requests.countPendingByGroup(group), requests.pendingByGroup(group, { limit: 1 })]);
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
