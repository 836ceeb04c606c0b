/**
 * Moving a pending request to the next tier of its group: a new round with its own time box, schedule
 * and personal links. Used when a reviewer chooses "escalate" and by the escalate fallback on expiry.
 */
import { RequestNotFoundError } from '../errors.ts';
import { createRoundSchedule, deleteRoundSchedule } from '../schedules.ts';
import type { StoredRequest } from '../store/model.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { groupOf, tierOf } from './groups.ts';
import { notifyCurrentTier, purgeAt } from './notify.ts';
import { scheduleReminder } from './remind.ts';

export type EscalateResult =
  | { escalated: true; row: StoredRequest; tierName: string }
  /** `not-pending`: decided, expired or already moved past `expectedRound`. `no-next-tier`: the last tier was asked. */
  | { escalated: false; reason: 'not-pending' | 'no-next-tier'; current: StoredRequest };

export async function escalateToNextTier(
  deps: ReviewDeps,
  requestId: string,
  args: { expectedRound: number; actor: string; why: string; reason?: string },
): Promise<EscalateResult> {
  const row = await deps.requests.get(requestId);
  if (!row) throw new RequestNotFoundError(requestId);
  if (row.status !== 'PENDING' || row.round !== args.expectedRound) return { escalated: false, reason: 'not-pending', current: row };
  const group = groupOf(deps.config, row);
  const next = tierOf(group, row.tier + 1);
  if (!next) return { escalated: false, reason: 'no-next-tier', current: row };

  const now = deps.now();
  const expiresAt = new Date(now.getTime() + row.ttlSeconds * 1000);
  const updated = await deps.requests.startRound(requestId, {
    expectedRound: args.expectedRound,
    tier: row.tier + 1,
    expiresAt: expiresAt.toISOString(),
    // A person who escalates is kept: they may not decide a later round (separation of duties).
    history: { tier: row.tier + 1, tierName: next.name, at: now.toISOString(), why: args.why, ...(args.actor.startsWith('policy:') ? {} : { by: args.actor }) },
  });
  if (!updated) {
    const current = await deps.requests.get(requestId);
    if (!current) throw new RequestNotFoundError(requestId);
    return { escalated: false, reason: 'not-pending', current };
  }

  await deps.decisionLog.append({
    requestId,
    event: 'escalated',
    at: now.toISOString(),
    actor: args.actor,
    tier: updated.tier,
    details: { fromTier: row.tier, toTier: updated.tier, tierName: next.name, round: updated.round, why: args.why, ...(args.reason ? { reason: args.reason } : {}) },
    ...purgeAt(deps.config, now),
  });
  await createRoundSchedule(deps.scheduler, deps.schedules, { action: 'expire', requestId, tier: updated.tier, round: updated.round }, expiresAt);
  await scheduleReminder(deps, updated, now);
  await deleteRoundSchedule(deps.scheduler, deps.schedules, requestId, args.expectedRound).catch((err: unknown) =>
    deps.log.warn('Could not delete the previous round schedule; it will fire and find the round moved on', { requestId, error: describeError(err) }),
  );
  deps.log.info('Request escalated', { requestId, fromTier: row.tier, toTier: updated.tier, round: updated.round });
  await notifyCurrentTier(deps, updated);
  return { escalated: true, row: { ...updated, notifiedTier: updated.tier, notifiedRound: updated.round }, tierName: next.name };
}
