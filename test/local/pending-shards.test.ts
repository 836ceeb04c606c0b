/**
 * One group's `pending-by-age` key is sharded: 1,000 requests of one group, with ids derived as admission derives
 * them, spread evenly over the shards, and the monitor's queue stats and the group's pending list (what the inbox
 * shows) still see every one, oldest first, with a row written before sharding among them.
 *
 * Evenness: a shard's count is binomial, n = 1,000, p = 1/16: mean 62.5, σ = √(n·p·(1−p)) ≈ 7.65. Each shard must
 * be within 4σ of the mean (±31, ±49 %), which a uniform hash misses with probability ~1e-3 over all 16 shards; the
 * ids are deterministic, so the test is too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { deriveRequestId } from '#shared/review/admission.ts';
import { queueStats } from '#shared/review/queue.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { DEFAULT_PENDING_SHARDS, pendingKey, pendingKeys } from '#shared/store/pending-shards.ts';
import { REQUESTS } from '#shared/tables.ts';
import { pendingRow, startStore, type StoreFixture } from '../support/store.ts';

const N = 1000;
const GROUP = 'billing';
const START = Date.parse('2026-03-01T00:00:00.000Z');

let store: StoreFixture;
const ids: string[] = [];

beforeAll(async () => {
  store = await startStore();
  for (let i = 0; i < N; i++) ids.push(deriveRequestId({ agent: 'load-agent', idempotencyKey: `order-${i}` }, 'arn:aws:states:us-east-1:123456789012:execution:hitl:x'));
  const created = (row: StoredRequest) => ({ requestId: row.requestId, event: 'created' as const, at: row.createdAt, actor: 'agent:load-agent', tier: 1 });
  for (let from = 0; from < N; from += 50) {
    await Promise.all(
      ids.slice(from, from + 50).map((id, j) => {
        const row = pendingRow(id, new Date(START + (from + j + 1) * 1000).toISOString(), GROUP);
        return store.ledger.create(row, created(row));
      }),
    );
  }
}, 120_000);
afterAll(async () => store?.dynamo.stop());

async function countOnKey(key: string): Promise<number> {
  const out = await store.dynamo.doc.send(
    new QueryCommand({
      TableName: store.dynamo.tables.requests,
      IndexName: REQUESTS.pendingIndex.name,
      KeyConditionExpression: '#pk = :key',
      ExpressionAttributeNames: { '#pk': REQUESTS.pendingIndex.partitionKey },
      ExpressionAttributeValues: { ':key': key },
      Select: 'COUNT',
    }),
  );
  return out.Count ?? 0;
}

describe('the pending-by-age index, sharded', () => {
  it('spreads one group’s 1,000 requests evenly over the shards, none on the unsharded key', async () => {
    const [unsharded, ...shards] = await Promise.all(pendingKeys(GROUP, DEFAULT_PENDING_SHARDS).map(countOnKey));
    expect(unsharded).toBe(0);
    expect(shards).toHaveLength(DEFAULT_PENDING_SHARDS);
    expect(shards.reduce((a, b) => a + b, 0)).toBe(N);
    const mean = N / DEFAULT_PENDING_SHARDS;
    const sigma = Math.sqrt(N * (1 / DEFAULT_PENDING_SHARDS) * (1 - 1 / DEFAULT_PENDING_SHARDS));
    for (const count of shards) expect(Math.abs(count - mean)).toBeLessThanOrEqual(4 * sigma);
    const stored = await store.requests.get(ids[0]!);
    expect(stored?.pendingGroup).toBe(pendingKey(GROUP, ids[0]!, DEFAULT_PENDING_SHARDS));
  });

  it('lets the monitor and the group’s pending list see every request, oldest first, and a row from before sharding', async () => {
    // A row written with the unsharded key (before an upgrade) is older than all the others.
    const legacy = pendingRow('legacy-1', new Date(START).toISOString(), GROUP);
    await store.dynamo.doc.send(new PutCommand({ TableName: store.dynamo.tables.requests, Item: legacy }));
    const now = new Date(START + (N + 10) * 1000);
    expect(await queueStats(store.requests, GROUP, now)).toEqual({ group: GROUP, depth: N + 1, oldestPendingAgeSeconds: N + 10 });
    const listed = await store.requests.pendingByGroup(GROUP);
    expect(listed).toHaveLength(N + 1);
    expect(listed[0]!.requestId).toBe('legacy-1');
    expect(listed.slice(1).map((r) => r.requestId)).toEqual(ids);
    expect((await store.requests.pendingByGroup(GROUP, { limit: 3 })).map((r) => r.requestId)).toEqual(['legacy-1', ids[0], ids[1]]);
  });
});
