/**
 * Which requests a person must see, under the rule that applies. Pure: the route function applies the
 * result. A policy only decides what is safe to decide without a person (never an approval of an
 * irreversible or risky action); everything else, and an audit sample of what it does decide, goes to review.
 */
import type { DeploymentConfig } from '../schemas/config.ts';
import type { ChoiceOption, ReviewRequest } from '../schemas/review-request.ts';
import { whyNotApprovable } from './risk.ts';
import { policyOf, resolveRule, type ResolvedRule } from './rules.ts';
import { isSampled, percent } from './sampling.ts';
import { planVerification } from './verification.ts';

export { isSampled, sampleFraction } from './sampling.ts';

export type RoutePolicy = 'auto-approve' | 'auto-answer' | 'not-sampled' | 'below-risk-threshold';

export type RoutePlan =
  | { route: 'auto'; policy: 'auto-approve'; outcome: 'approved'; why: string }
  | { route: 'auto'; policy: 'auto-answer'; outcome: 'answered'; option: ChoiceOption; why: string }
  | { route: 'auto'; policy: 'not-sampled' | 'below-risk-threshold'; outcome: 'approved'; why: string }
  | { route: 'review'; why: string };

function audited(requestId: string, rate: number, plan: Extract<RoutePlan, { route: 'auto' }>): RoutePlan {
  return isSampled(requestId, rate) ? { route: 'review', why: `picked for the ${percent(rate)} audit sample` } : plan;
}

export function planRoute(request: ReviewRequest, requestId: string, config: DeploymentConfig, resolved: ResolvedRule = resolveRule(config, request)): RoutePlan {
  const { rule, risk } = resolved;
  const confidence = request.confidence;

  if (request.kind === 'approval') {
    const threshold = rule.autoApprove?.minConfidence;
    if (threshold === undefined) return { route: 'review', why: `auto-approval is not configured for rule ${rule.name}` };
    const unsafe = whyNotApprovable(risk);
    if (unsafe) return { route: 'review', why: unsafe };
    if (confidence === undefined) return { route: 'review', why: 'the agent gave no confidence' };
    if (confidence < threshold) return { route: 'review', why: `confidence ${confidence} is below ${threshold}` };
    const why = `risk class ${risk.class} is low, the action is reversible and confidence ${confidence} ≥ ${threshold}`;
    return audited(requestId, rule.auditSample, { route: 'auto', policy: 'auto-approve', outcome: 'approved', why });
  }

  if (request.kind === 'disambiguation') {
    const threshold = rule.autoAnswer?.minConfidence;
    if (threshold === undefined) return { route: 'review', why: `rule ${rule.name} asks a person every time` };
    if (confidence === undefined) return { route: 'review', why: 'the agent gave no confidence' };
    if (confidence < threshold) return { route: 'review', why: `confidence ${confidence} is below ${threshold}` };
    const [option] = request.options as [ChoiceOption, ...ChoiceOption[]];
    const why = `confidence ${confidence} ≥ ${threshold}: the agent's first option stands`;
    return audited(requestId, rule.auditSample, { route: 'auto', policy: 'auto-answer', outcome: 'answered', option, why });
  }

  if (request.kind === 'verification') {
    const plan = planVerification(request, requestId, rule.verification, policyOf(config));
    if (plan.review) return { route: 'review', why: plan.why };
    const pass = { route: 'auto' as const, policy: plan.policy, outcome: 'approved' as const, why: plan.why };
    return plan.policy === 'below-risk-threshold' ? audited(requestId, rule.auditSample, pass) : pass;
  }

  return { route: 'review', why: `${request.kind} requests always go to a person` };
}
