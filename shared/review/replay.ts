/**
 * Idempotency: the same agent and key name one request, bound to its content. A retry with the same
 * content is served the one Decision (and logged); other content under a used key is refused.
 */
import { IdempotencyConflictError } from '../errors.ts';
import type { StoredRequest } from '../store/model.ts';
import type { StoreDeps } from './deps.ts';
import { purgeAt } from './notify.ts';

/** Refuse a request whose key was used before for other content; nothing is stored or emailed. */
export function assertSameContent(existing: StoredRequest, requestHash: string): void {
  // Rows written before requests were hashed carry no hash; they keep the earlier behaviour.
  if (existing.requestHash === undefined || existing.requestHash === requestHash) return;
  const key = existing.request.idempotencyKey;
  throw new IdempotencyConflictError(
    key === undefined
      ? `Request ${existing.requestId} already exists for this execution with other content`
      : `Idempotency key "${key}" of agent ${existing.agent} was already used for request ${existing.requestId} with other content; use a new key for a new request`,
  );
}

/** Log that another execution was served (or now waits for) this request's Decision. */
export async function logReplay(deps: StoreDeps, row: StoredRequest, executionArn: string, served: 'decision' | 'waiting'): Promise<void> {
  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'replayed',
    at: deps.now().toISOString(),
    actor: `agent:${row.agent}`,
    tier: row.tier,
    details: { executionArn, served, ...(row.decision ? { outcome: row.decision.outcome } : {}) },
    ...purgeAt(deps.config, deps.now()),
  });
  deps.log.info('Idempotent retry served', { requestId: row.requestId, served });
}
