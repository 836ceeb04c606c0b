/** Monitor function: every minute, each reviewer group's queue depth and oldest pending age as EMF metrics. */
import { createMetrics } from '#shared/clients.ts';
import { storeDepsFromEnv } from '#shared/review/deps.ts';
import { publishQueueStats, queueStats, type QueueStats } from '#shared/review/queue.ts';

const deps = storeDepsFromEnv('monitor', process.env);
const metrics = deps.metrics ?? createMetrics('monitor');

export async function handler(): Promise<QueueStats[]> {
  const now = deps.now();
  const stats = await Promise.all(Object.keys(deps.config.reviewerGroups).map((group) => queueStats(deps.requests, group, now)));
  for (const s of stats) publishQueueStats(metrics, s);
  deps.log.info('Queue measured', { groups: stats });
  return stats;
}
