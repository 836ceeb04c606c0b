/**
 * Monitor function: every minute, each reviewer group's queue depth and oldest pending age as EMF metrics,
 * and the resume of any decided request whose execution a crash left waiting.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createMetrics } from '#shared/clients.ts';
import { storeDepsFromEnv } from '#shared/deps-env.ts';
import { resumeStuck } from '#shared/review/finalize.ts';
import { queueNames } from '#shared/review/groups.ts';
import { publishQueueStats, queueStats, type QueueStats } from '#shared/review/queue.ts';

const deps = { ...storeDepsFromEnv('monitor', process.env, { dynamodb: new DynamoDBClient({}) }), sfn: new SFNClient({}) };
const metrics = deps.metrics ?? createMetrics('monitor');

export async function handler(): Promise<QueueStats[]> {
  const now = deps.now();
  const groups = queueNames(deps.config);
  const stats = await Promise.all(groups.map((group) => queueStats(deps.requests, group, now)));
  for (const s of stats) publishQueueStats(metrics, s);
  await Promise.all(groups.map((group) => resumeStuck(deps, group)));
  deps.log.info('Queue measured', { groups: stats });
  return stats;
}
