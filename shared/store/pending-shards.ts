/**
 * The `pending-by-age` index key of a reviewer group, spread over shards: `<group>#<shard>`, the shard from a hash
 * of the request id. One key takes at most 1,000 write units a second; a review writes the index about three times
 * (added, updated, removed), so an unsharded group stopped near 330 reviews a second. Readers query every shard in
 * parallel and merge by age, and the unsharded key too, so rows written before the index was sharded stay listed.
 * The shard count may be raised later (the old shards are a prefix of the new), never lowered.
 */
import { createHash } from 'node:crypto';

/** 16 shards: 1,000 reviews/s of one group is about 190 write units a second on each, a fifth of its limit. */
export const DEFAULT_PENDING_SHARDS = 16;

export function pendingShard(requestId: string, shards: number): number {
  return createHash('sha256').update(requestId).digest().readUInt32BE(0) % shards;
}

/** The index key a new row of `group` carries. */
export function pendingKey(group: string, requestId: string, shards: number): string {
  return `${group}#${pendingShard(requestId, shards)}`;
}

/** Every key a group's rows may carry: each shard's, and the unsharded one rows written before sharding have. */
export function pendingKeys(group: string, shards: number): string[] {
  return [group, ...Array.from({ length: shards }, (_, shard) => `${group}#${shard}`)];
}
