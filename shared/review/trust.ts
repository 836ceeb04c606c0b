/**
 * The route step's use of trust rules: a request a policy would send to a person is approved instead when
 * an active trust rule of its group matches (see shared/policies/trust-rules.ts for what may match).
 */
import { matchTrustRule, trustDecidedBy, trustWhy } from '../policies/trust-rules.ts';
import type { RoutePlan } from '../policies/routing.ts';
import type { ResolvedRule } from '../policies/rules.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import { TrustRuleStore } from '../store/trust-rules.ts';
import type { StoreDeps } from './deps.ts';

export type TrustedPlan = { route: 'auto'; policy: 'trust-rule'; outcome: 'approved'; why: string; decidedBy: string };

export async function planWithTrust(
  deps: StoreDeps,
  request: ReviewRequest & { reviewerGroup: string },
  resolved: ResolvedRule,
  plan: RoutePlan,
): Promise<RoutePlan | TrustedPlan> {
  if (plan.route !== 'review' || request.kind !== 'approval') return plan;
  const rules = await new TrustRuleStore(deps.requests, deps.decisionLog).forGroup(request.reviewerGroup);
  const rule = matchTrustRule(rules, request, resolved, deps.now());
  if (!rule) return plan;
  return { route: 'auto', policy: 'trust-rule', outcome: 'approved', why: trustWhy(rule), decidedBy: trustDecidedBy(rule) };
}
