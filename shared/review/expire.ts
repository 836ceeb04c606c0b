/**
 * The end of a time box, carried out: the Scheduler's `expire` and `renotify` events and the Step Functions
 * backstop. Every path starts from a conditional write on the expected round, so a late or duplicate firing,
 * or one that loses a race with a reviewer, changes nothing.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { RequestNotFoundError, ResumeFailedError } from '../errors.ts';
import { DIMENSION, METRIC } from '../metrics.ts';
import { planFallback, type FallbackPlan } from '../policies/fallback.ts';
import { createRoundSchedule } from '../schedules.ts';
import type { Decision, PolicyName } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import { buildDecision, type DecisionFields } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { escalateToNextTier } from './escalate.ts';
import { finalizeDecision, resumeIfNeeded } from './finalize.ts';
import { groupOf, tierOf } from './groups.ts';
import { notifyCurrentTier, purgeAt } from './notify.ts';
import { scheduleReminder } from './remind.ts';

export type ExpireResult =
  | { result: 'no-op'; why: string }
  | { result: 'decided'; decision: Decision }
  | { result: 'escalated'; tier: number }
  | { result: 'held'; until: string }
  | { result: 'renotified'; round: number };

interface RoundRef {
  requestId: string;
  tier: number;
  round: number;
}

function countExpiry(deps: ReviewDeps, row: StoredRequest, policy: PolicyName): void {
  if (!deps.metrics) return;
  const metric = deps.metrics.singleMetric();
  metric.addDimension(DIMENSION.group, row.reviewerGroup);
  metric.addDimension(DIMENSION.policy, policy);
  metric.addMetric(METRIC.expiries, MetricUnit.Count, 1);
}

/** A policy's Decision; an approval keeps the proposed args so the agent sees what was (not) approved. */
function policyDecision(row: StoredRequest, now: Date, outcome: Decision['outcome'], policy: PolicyName, why: string): Decision {
  const fields: DecisionFields = { outcome, decidedBy: `policy:${policy}`, policy: { name: policy, why } };
  if (row.request.kind === 'approval') {
    fields.proposedArgs = row.request.action.args;
    if (outcome === 'approved') fields.approvedArgs = row.request.action.args;
  }
  if (outcome === 'expired') fields.reason = why;
  return buildDecision(row, now, fields);
}

/** The row, if it is still pending in exactly this tier and round; otherwise why the firing is stale. */
async function currentRound(deps: ReviewDeps, ref: RoundRef): Promise<StoredRequest | string> {
  const row = await deps.requests.get(ref.requestId);
  if (!row) return `no request ${ref.requestId}`;
  if (row.status !== 'PENDING') {
    // A retried firing whose first try ended the request but could not resume the execution finishes the job.
    if (await resumeIfNeeded(deps, row) === 'failed') throw new ResumeFailedError(row.requestId);
    return `request is already ${row.status.toLowerCase()}`;
  }
  if (row.round !== ref.round || row.tier !== ref.tier) {
    // A retried firing whose first try started the next round but could not email it (SES refused them all)
    // finishes the job; a held round has nobody to email yet.
    if (row.round > ref.round && !row.heldUntil && row.notifiedRound !== row.round) await notifyCurrentTier(deps, row);
    return `request moved on to tier ${row.tier}, round ${row.round}`;
  }
  return row;
}

async function carryOut(deps: ReviewDeps, row: StoredRequest, plan: FallbackPlan, now: Date): Promise<ExpireResult> {
  switch (plan.action) {
    case 'decide': {
      const decision = policyDecision(row, now, plan.outcome, plan.policy, plan.why);
      const done = await finalizeDecision(deps, row, {
        expectedRound: row.round,
        status: 'EXPIRED',
        decision,
        event: 'expired',
        actor: decision.decidedBy,
        details: { policy: plan.policy, why: plan.why },
      });
      if (!done.won) return { result: 'no-op', why: 'a decision landed first' };
      // Throwing makes the Scheduler retry; the retry finds the row decided and resumes it.
      if (done.resume === 'failed') throw new ResumeFailedError(row.requestId);
      return { result: 'decided', decision };
    }
    case 'escalate': {
      const done = await escalateToNextTier(deps, row.requestId, { expectedRound: row.round, actor: `policy:${plan.policy}`, why: plan.why });
      if (done.escalated) return { result: 'escalated', tier: done.row.tier };
      if (done.reason === 'not-pending') return { result: 'no-op', why: 'a decision landed first' };
      // The config lost a tier since planning: deny rather than leave the request open.
      return carryOut(deps, row, { action: 'decide', outcome: 'expired', policy: 'fallback-deny', why: `${plan.why}; no next tier, so denied` }, now);
    }
    case 'hold':
      return hold(deps, row, plan, now);
  }
}

async function hold(deps: ReviewDeps, row: StoredRequest, plan: Extract<FallbackPlan, { action: 'hold' }>, now: Date): Promise<ExpireResult> {
  const group = groupOf(deps.config, row);
  const until = plan.until;
  const held = await deps.requests.startRound(row.requestId, {
    expectedRound: row.round,
    tier: row.tier,
    expiresAt: new Date(until.getTime() + row.ttlSeconds * 1000).toISOString(),
    heldUntil: until.toISOString(),
    holdUsed: true,
    history: { tier: row.tier, tierName: tierOf(group, row.tier)?.name ?? `tier ${row.tier}`, at: now.toISOString(), why: plan.why },
  });
  if (!held) return { result: 'no-op', why: 'a decision landed first' };
  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'held',
    at: now.toISOString(),
    actor: `policy:${plan.policy}`,
    tier: held.tier,
    details: { round: held.round, until: until.toISOString(), why: plan.why },
    ...purgeAt(deps.config, now),
  });
  deps.log.info('Request held for business hours', { requestId: row.requestId, until: until.toISOString(), round: held.round });
  if (until.getTime() <= now.getTime()) {
    const again = await renotify(deps, { requestId: held.requestId, tier: held.tier, round: held.round });
    return again.result === 'renotified' ? { result: 'held', until: until.toISOString() } : again;
  }
  await createRoundSchedule(deps.scheduler, deps.schedules, { action: 'renotify', requestId: held.requestId, tier: held.tier, round: held.round }, until);
  return { result: 'held', until: until.toISOString() };
}

/** A time box ran out (the round's `expire` schedule fired): apply the request's fallback policy. */
export async function expireRound(deps: ReviewDeps, ref: RoundRef): Promise<ExpireResult> {
  const row = await currentRound(deps, ref);
  if (typeof row === 'string') {
    deps.log.info('Expiry firing changes nothing', { requestId: ref.requestId, round: ref.round, why: row });
    return { result: 'no-op', why: row };
  }
  const now = deps.now();
  const plan = planFallback(row, groupOf(deps.config, row), deps.config, now);
  const result = await carryOut(deps, row, plan, now);
  if (result.result !== 'no-op') countExpiry(deps, row, plan.policy);
  deps.log.info('Time box ended', { requestId: row.requestId, tier: row.tier, round: row.round, policy: plan.policy, result: result.result });
  return result;
}

/** Business hours began for a held request: a fresh time box for the same tier, and new emails. */
export async function renotify(deps: ReviewDeps, ref: RoundRef): Promise<ExpireResult> {
  const row = await currentRound(deps, ref);
  if (typeof row === 'string') return { result: 'no-op', why: row };
  if (!row.heldUntil) return { result: 'no-op', why: 'request is not held' };
  const now = deps.now();
  const group = groupOf(deps.config, row);
  const expiresAt = new Date(now.getTime() + row.ttlSeconds * 1000);
  const next = await deps.requests.startRound(row.requestId, {
    expectedRound: row.round,
    tier: row.tier,
    expiresAt: expiresAt.toISOString(),
    holdUsed: true,
    history: { tier: row.tier, tierName: tierOf(group, row.tier)?.name ?? `tier ${row.tier}`, at: now.toISOString(), why: 'business hours began; reviewers re-notified' },
  });
  if (!next) return { result: 'no-op', why: 'a decision landed first' };
  await createRoundSchedule(deps.scheduler, deps.schedules, { action: 'expire', requestId: next.requestId, tier: next.tier, round: next.round }, expiresAt);
  await scheduleReminder(deps, next, now);
  await deps.decisionLog.append({
    requestId: next.requestId,
    event: 'renotified',
    at: now.toISOString(),
    actor: 'policy:fallback-hold',
    tier: next.tier,
    details: { round: next.round, expiresAt: expiresAt.toISOString() },
    ...purgeAt(deps.config, now),
  });
  await notifyCurrentTier(deps, next);
  return { result: 'renotified', round: next.round };
}

/**
 * The Step Functions task timed out: every time box should have ended long before, so something was lost
 * (a schedule, a delivery). Record "expired (backstop)" and hand the execution its Decision; if a decision
 * did land, that one is the output.
 */
export async function backstop(deps: ReviewDeps, requestId: string): Promise<Decision> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await deps.requests.get(requestId);
    if (!row) throw new RequestNotFoundError(requestId);
    if (row.status !== 'PENDING' && row.decision) return row.decision;
    const why = 'expired (backstop): the Step Functions task timeout ended the request after every time box';
    const decision = policyDecision(row, deps.now(), 'expired', 'backstop', why);
    const done = await finalizeDecision(deps, row, {
      expectedRound: row.round,
      status: 'EXPIRED',
      decision,
      event: 'expired',
      actor: decision.decidedBy,
      details: { policy: 'backstop', why },
    });
    if (done.won) {
      countExpiry(deps, row, 'backstop');
      deps.log.warn('Backstop ended a request', { requestId, tier: row.tier, round: row.round });
      return decision;
    }
    if (done.current.status !== 'PENDING' && done.current.decision) return done.current.decision;
  }
  throw new Error(`Request ${requestId} kept moving while the backstop tried to end it`);
}
