/**
 * The human-review task (target of lambda:invoke.waitForTaskToken): store the pending request with its
 * task token, schedule the end of its time box, email the first tier. Step Functions may invoke it more
 * than once for one execution, so every step is idempotent.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { DuplicateRequestError, HitlError } from '../errors.ts';
import { createRoundSchedule } from '../schedules.ts';
import type { ReviewerGroup } from '../schemas/config.ts';
import type { StoredRequest } from '../store/model.ts';
import type { AdmittedRequest } from './admission.ts';
import { actionTypeOf } from './admission.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { notifyCurrentTier, purgeAt } from './notify.ts';

export interface OpenReviewInput {
  requestId: string;
  request: AdmittedRequest;
  group: ReviewerGroup;
  taskToken: string;
  executionArn: string;
}

export type OpenReviewResult = {
  requestId: string;
  /** `notified`: emails sent now; `already-notified`: a replay found them sent; `resumed`: it was already decided. */
  status: 'notified' | 'already-notified' | 'resumed';
};

export function newPendingRow(input: OpenReviewInput, now: Date, retention: { purgeAt?: number }): StoredRequest {
  const { request, group } = input;
  const createdAt = now.toISOString();
  return {
    requestId: input.requestId,
    status: 'PENDING',
    kind: request.kind,
    agent: request.agent,
    actionType: actionTypeOf(request),
    reviewerGroup: request.reviewerGroup,
    fallback: request.fallback,
    request,
    tier: 1,
    round: 1,
    createdAt,
    expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000).toISOString(),
    ttlSeconds: request.ttlSeconds,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
    pendingGroup: request.reviewerGroup,
    history: [{ tier: 1, tierName: group.tiers[0]?.name ?? 'tier 1', at: createdAt, why: 'requested' }],
    ...retention,
  };
}

/** The request was already decided: hand this task its Decision at once (its token is the live one). */
async function resumeWithStoredDecision(deps: ReviewDeps, row: StoredRequest, input: OpenReviewInput): Promise<OpenReviewResult> {
  if (!row.decision) throw new HitlError(`Request ${row.requestId} is ${row.status} but has no decision`);
  let result = 'resumed';
  try {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: input.taskToken, output: JSON.stringify(row.decision) }));
  } catch (err) {
    const error = describeError(err, [input.taskToken, row.taskToken]);
    if (error.name !== 'TaskTimedOut' && error.name !== 'InvalidToken' && error.name !== 'TaskDoesNotExist') throw err;
    deps.log.warn('The execution no longer waits for this request', { requestId: row.requestId, error });
    result = 'execution-ended';
  }
  const at = deps.now().toISOString();
  if (row.executionArn === input.executionArn) await deps.requests.markResumed(row.requestId, at);
  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'resumed',
    at,
    actor: 'system',
    tier: row.tier,
    details: { result, outcome: row.decision.outcome, replay: true, sameExecution: row.executionArn === input.executionArn },
    ...purgeAt(deps.config, deps.now()),
  });
  deps.log.info('Request already decided; execution resumed with the stored decision', { requestId: row.requestId, outcome: row.decision.outcome });
  return { requestId: row.requestId, status: 'resumed' };
}

export async function openReview(deps: ReviewDeps, input: OpenReviewInput): Promise<OpenReviewResult> {
  const now = deps.now();
  const fresh = newPendingRow(input, now, purgeAt(deps.config, now));
  let row = fresh;

  if (await deps.requests.create(fresh)) {
    await deps.decisionLog.append({
      requestId: fresh.requestId,
      event: 'created',
      at: fresh.createdAt,
      actor: `agent:${fresh.agent}`,
      tier: 1,
      details: { kind: fresh.kind, actionType: fresh.actionType, reviewerGroup: fresh.reviewerGroup, ttlSeconds: fresh.ttlSeconds, fallback: fresh.fallback },
      ...purgeAt(deps.config, now),
    });
    deps.log.info('Review request created', { requestId: fresh.requestId, kind: fresh.kind, reviewerGroup: fresh.reviewerGroup });
  } else {
    const existing = await deps.requests.get(input.requestId);
    if (!existing) throw new HitlError(`Request ${input.requestId} exists and vanished; retry`);
    if (existing.status !== 'PENDING') return resumeWithStoredDecision(deps, existing, input);
    if (existing.executionArn !== input.executionArn) {
      throw new DuplicateRequestError(
        `Request ${input.requestId} (agent ${existing.agent}, same idempotency key) is already pending under another execution; wait for its decision or use a new key`,
      );
    }
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
  if ((row.notifiedTier === row.tier && row.notifiedRound === row.round) || row.heldUntil) {
    return { requestId: row.requestId, status: 'already-notified' };
  }
  await notifyCurrentTier(deps, row);
  return { requestId: row.requestId, status: 'notified' };
}
