/**
 * The first state of every execution: validate the agent's ReviewRequest against the deployment, derive
 * its id, and either let a policy decide (recorded like any decision) or send it to people.
 */
import { planRoute } from '../policies/routing.ts';
import type { RouteEvent, RouteResult } from '../schemas/events.ts';
import type { StoredRequest } from '../store/model.ts';
import { decisionIndexKeys } from '../store/decision-log.ts';
import { actionTypeOf, admitRequest, deriveRequestId, requestPolicy } from './admission.ts';
import { assertSameContent, logReplay } from './replay.ts';
import { buildHitlDecision, isOutOfHours, logHitlDecision } from './decision-record.ts';
import { buildDecision } from './decisions.ts';
import type { StoreDeps } from './deps.ts';
import { publishDecisionEvent } from './decision-event.ts';
import { planWithTrust } from './trust.ts';
import { purgeAt } from './notify.ts';

export async function routeReviewRequest(deps: StoreDeps, event: RouteEvent): Promise<RouteResult> {
  const { request, group, sent, requestHash, resolved } = admitRequest(event.input, deps.config);
  const requestId = deriveRequestId(request, event.executionArn);

  // Same agent, key and content as a finished request: the same decision, no second review.
  const stored = await deps.requests.get(requestId);
  // A request nobody could be emailed about was never asked: a retry starts afresh.
  const existing = stored?.status === 'UNDELIVERABLE' ? undefined : stored;
  if (existing) {
    assertSameContent(existing, requestHash);
    if (existing.decision && existing.status !== 'PENDING') {
      if (existing.executionArn !== event.executionArn) await logReplay(deps, existing, event.executionArn, 'decision');
      return { route: 'decided', requestId, decision: existing.decision };
    }
  }
  const plan = await planWithTrust(deps, request, resolved, planRoute(request, requestId, deps.config, resolved));
  if (existing || plan.route === 'review') {
    deps.log.info('Routed to review', { requestId, kind: request.kind, reviewerGroup: request.reviewerGroup, rule: resolved.rule.name, why: existing ? 'already pending' : plan.why });
    return { route: 'review', requestId, request: sent };
  }

  const now = deps.now();
  const createdAt = now.toISOString();
  const actor = plan.policy === 'trust-rule' ? plan.decidedBy : `policy:${plan.policy}`;
  const base = { requestId, kind: request.kind, tier: 1, createdAt, policy: requestPolicy(resolved, request.kind, plan.why) };
  const decision = buildDecision(base, now, {
    outcome: plan.outcome,
    decidedBy: actor,
    policy: { name: plan.policy, why: plan.why },
    ...(request.kind === 'approval' ? { proposedArgs: request.action.args, approvedArgs: request.action.args } : {}),
    ...(plan.route === 'auto' && plan.policy === 'auto-answer' ? { chosenOption: plan.option } : {}),
    ...(plan.policy === 'trust-rule' ? { channel: 'policy' as const } : {}),
  });
  const retention = purgeAt(deps.config, now);
  const row: StoredRequest = {
    ...base,
    status: 'DECIDED',
    agent: request.agent,
    actionType: actionTypeOf(request),
    reviewerGroup: request.reviewerGroup,
    fallback: request.fallback,
    request,
    requestHash,
    round: 1,
    expiresAt: createdAt,
    ttlSeconds: request.ttlSeconds,
    executionArn: event.executionArn,
    decision,
    // Nothing waits on a token: the route's own output carries the decision.
    resumedAt: createdAt,
    // Indexed until its decision event is published, so the monitor's sweep finds one still owed.
    ...(deps.decisionEvents ? { pendingGroup: request.reviewerGroup } : {}),
    history: [{ tier: 1, tierName: group.tiers[0]?.name ?? 'tier 1', at: createdAt, why: plan.why }],
    ...retention,
  };
  const common = { requestId, at: createdAt, actor, tier: 1, ...retention };
  const created = { ...common, actor: `agent:${request.agent}`, event: 'created' as const, details: { kind: row.kind, actionType: row.actionType, reviewerGroup: row.reviewerGroup, rule: resolved.rule.name } };
  const final = { ...common, event: 'decided' as const, details: { round: 1, why: plan.why }, decision, ...decisionIndexKeys(row, createdAt) };
  if (!(await deps.ledger.create(row, created, final))) {
    // A concurrent execution with the same key got there first; follow it.
    const winner = await deps.requests.get(requestId);
    if (winner && winner.status !== 'UNDELIVERABLE') assertSameContent(winner, requestHash);
    if (winner?.decision && winner.status !== 'PENDING') {
      await logReplay(deps, winner, event.executionArn, 'decision');
      return { route: 'decided', requestId, decision: winner.decision };
    }
    return { route: 'review', requestId, request: sent };
  }
  logHitlDecision(deps.log, buildHitlDecision(row, decision, { outOfHours: isOutOfHours(group, createdAt) }));
  deps.log.info('Decided by policy', { requestId, policy: plan.policy, rule: resolved.rule.name, outcome: plan.outcome });
  if (deps.decisionEvents && (await publishDecisionEvent(deps, row))) await deps.requests.leaveQueueIndex(requestId).catch(() => undefined);
  return { route: 'decided', requestId, decision };
}
