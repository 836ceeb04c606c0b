/**
 * The human-review task (target of lambda:invoke.waitForTaskToken): store the pending request with its
 * task token, schedule the end of its time box, email the first tier. Step Functions may invoke it more
 * than once for one execution, so every step is idempotent.
 */
import { HitlError } from '../errors.ts';
import { EmailDeliveryError } from '../notify.ts';
import { createRoundSchedule, deleteRoundSchedule } from '../schedules.ts';
import type { ReviewerGroup } from '../schemas/config.ts';
import type { StoredRequest } from '../store/model.ts';
import { planRoute } from '../policies/routing.ts';
import type { ResolvedRule } from '../policies/rules.ts';
import type { AdmittedRequest } from './admission.ts';
import { actionTypeOf, requestPolicy } from './admission.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { notifyCurrentTier, purgeAt } from './notify.ts';
import { cancelRequest } from './cancel.ts';
import { resumeOne } from './finalize.ts';
import { scheduleReminder } from './remind.ts';
import { IN_APP_GROUP } from './groups.ts';
import { assertSameContent, logReplay } from './replay.ts';

export interface OpenReviewInput {
  requestId: string;
  request: AdmittedRequest;
  group: ReviewerGroup;
  taskToken: string;
  executionArn: string;
  /** See admission.ts requestHash. */
  requestHash: string;
  /** The policy rule that applies (admission.ts). */
  resolved: ResolvedRule;
}

export type OpenReviewResult = {
  requestId: string;
  /**
   * `notified`: emails sent now; `already-notified`: a replay found them sent; `resumed`: it was already
   * decided; `waiting`: another execution with the same key and content owns the request, and this one
   * waits for its Decision.
   */
  status: 'notified' | 'already-notified' | 'resumed' | 'waiting';
};

/** Why a person sees the request: the route's reason, recomputed here (it is pure) rather than carried. */
function reviewPolicy(input: OpenReviewInput, config: ReviewDeps['config']): StoredRequest['policy'] {
  const plan = planRoute(input.request, input.requestId, config, input.resolved);
  return requestPolicy(input.resolved, input.request.kind, plan.route === 'review' ? plan.why : 'sent to a person when it was routed');
}

export function newPendingRow(input: OpenReviewInput, now: Date, retention: { purgeAt?: number }, policy?: StoredRequest['policy']): StoredRequest {
  const { request, group } = input;
  const createdAt = now.toISOString();
  const reminders = input.resolved.rule.reminders ?? group.reminders;
  return {
    requestId: input.requestId,
    status: 'PENDING',
    kind: request.kind,
    agent: request.agent,
    actionType: actionTypeOf(request),
    reviewerGroup: request.reviewerGroup,
    fallback: request.fallback,
    request,
    requestHash: input.requestHash,
    tier: 1,
    round: 1,
    createdAt,
    expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000).toISOString(),
    ttlSeconds: request.ttlSeconds,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
    waiters: {},
    deliveries: {},
    pendingGroup: request.reviewerGroup,
    // Written with the row, in its create transaction: the respondent's list shows it at once.
    ...(request.reviewerGroup === IN_APP_GROUP && request.respondent ? { pendingRespondent: request.respondent.id } : {}),
    history: [{ tier: 1, tierName: group.tiers[0]?.name ?? 'tier 1', at: createdAt, why: 'requested' }],
    ...(reminders?.length ? { reminders: [...reminders] } : {}),
    ...(policy ? { policy } : {}),
    ...retention,
  };
}

/** The request was already decided: hand this task its Decision at once (its token is the live one). */
async function resumeWithStoredDecision(deps: ReviewDeps, row: StoredRequest, input: OpenReviewInput): Promise<OpenReviewResult> {
  if (!row.decision) throw new HitlError(`Request ${row.requestId} is ${row.status} but has no decision`);
  // Transient failures throw, so Step Functions retries the task and this runs again.
  const result = (await resumeOne(deps, row, input.taskToken)) ? 'resumed' : 'execution-ended';
  const at = deps.now().toISOString();
  if (row.executionArn === input.executionArn) {
    await deps.requests.markResumed(row.requestId, at);
    await deps.decisionLog.append({
      requestId: row.requestId,
      event: 'resumed',
      at,
      actor: 'system',
      tier: row.tier,
      details: { result, outcome: row.decision.outcome, replay: true, sameExecution: true },
      ...purgeAt(deps.config, deps.now()),
    });
  } else {
    await logReplay(deps, row, input.executionArn, 'decision');
  }
  deps.log.info('Request already decided; execution resumed with the stored decision', { requestId: row.requestId, outcome: row.decision.outcome });
  return { requestId: row.requestId, status: 'resumed' };
}

export async function openReview(deps: ReviewDeps, input: OpenReviewInput): Promise<OpenReviewResult> {
  const now = deps.now();
  const fresh = newPendingRow(input, now, purgeAt(deps.config, now), reviewPolicy(input, deps.config));
  let row = fresh;

  const created = {
    requestId: fresh.requestId,
    event: 'created' as const,
    at: fresh.createdAt,
    actor: `agent:${fresh.agent}`,
    tier: 1,
    details: {
      kind: fresh.kind,
      actionType: fresh.actionType,
      reviewerGroup: fresh.reviewerGroup,
      ...(fresh.pendingRespondent ? { respondent: fresh.pendingRespondent } : {}),
      ttlSeconds: fresh.ttlSeconds,
      fallback: fresh.fallback,
      rule: input.resolved.rule.name,
    },
    ...purgeAt(deps.config, now),
  };
  if (await deps.ledger.create(fresh, created)) {
    deps.log.info('Review request created', { requestId: fresh.requestId, kind: fresh.kind, reviewerGroup: fresh.reviewerGroup });
  } else {
    const existing = await deps.requests.get(input.requestId);
    if (!existing || existing.status === 'UNDELIVERABLE') throw new HitlError(`Request ${input.requestId} changed while it was created; retry`);
    assertSameContent(existing, input.requestHash);
    if (existing.status !== 'PENDING') return resumeWithStoredDecision(deps, existing, input);
    if (existing.executionArn !== input.executionArn) return waitForOwner(deps, existing, input);
    const refreshed = await deps.requests.refreshToken(input.requestId, input.executionArn, input.taskToken);
    if (!refreshed) {
      const now = await deps.requests.get(input.requestId);
      if (now && now.status !== 'PENDING') return resumeWithStoredDecision(deps, now, input);
      throw new HitlError(`Request ${input.requestId} changed while its task token was refreshed; retry`);
    }
    row = refreshed;
    deps.log.info('Task retried; token refreshed', { requestId: row.requestId, round: row.round });
  }

  await createRoundSchedule(deps.scheduler, deps.schedules, { action: 'expire', requestId: row.requestId, tier: row.tier, round: row.round }, new Date(row.expiresAt));
  await scheduleReminder(deps, row);
  if ((row.notifiedTier === row.tier && row.notifiedRound === row.round) || row.heldUntil) {
    return { requestId: row.requestId, status: 'already-notified' };
  }
  try {
    await notifyCurrentTier(deps, row);
  } catch (err) {
    if (err instanceof EmailDeliveryError && row.round === 1) await closeUndeliverable(deps, row, err);
    throw err;
  }
  return { requestId: row.requestId, status: 'notified' };
}

/** Same key and content as a request another execution owns: wait for its Decision with this task token. */
async function waitForOwner(deps: ReviewDeps, existing: StoredRequest, input: OpenReviewInput): Promise<OpenReviewResult> {
  const joined = await deps.requests.addWaiter(input.requestId, input.executionArn, input.taskToken);
  if (!joined) {
    const now = await deps.requests.get(input.requestId);
    if (now && now.status !== 'PENDING') return resumeWithStoredDecision(deps, now, input);
    throw new HitlError(`Request ${input.requestId} changed while this execution joined it; retry`);
  }
  await logReplay(deps, existing, input.executionArn, 'waiting');
  return { requestId: input.requestId, status: 'waiting' };
}

/**
 * SES accepted no review email of the first round: nobody was asked, so no time box may run out on the
 * request. It is closed (status UNDELIVERABLE, an `undeliverable` event logged) so the execution fails with
 * EmailDeliveryError and the agent's retry with the same key starts afresh. If another execution already
 * waits on it, it is cancelled instead, and that execution is told.
 */
async function closeUndeliverable(deps: ReviewDeps, row: StoredRequest, err: EmailDeliveryError): Promise<void> {
  const at = deps.now().toISOString();
  const details = { round: row.round, failed: err.failed.map((f) => f.approver), error: describeError(err).message };
  const closed = await deps.ledger.closeUndeliverable(row, { requestId: row.requestId, event: 'undeliverable', at, actor: 'system', tier: row.tier, details, ...purgeAt(deps.config, deps.now()) });
  if (!closed) {
    const current = await deps.requests.get(row.requestId);
    if (current?.status === 'PENDING') await cancelRequest(deps, current, { executionArn: row.executionArn, decidedBy: 'system', reason: 'no reviewer could be emailed' });
  }
  await deleteRoundSchedule(deps.scheduler, deps.schedules, row.requestId, row.round).catch(() => undefined);
  deps.log.error('No reviewer could be emailed; request closed', { requestId: row.requestId, closed, failed: details.failed });
}
