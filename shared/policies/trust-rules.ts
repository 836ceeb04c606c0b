/**
 * Trust rules as policy: when one may be created, and whether one approves a request. Pure; the store
 * (shared/store/trust-rules.ts) keeps them and the route step applies a match.
 *
 * A trust rule never approves what no policy could: only approvals of a reversible action (checked when it
 * is created against the policy's risk, and again at match time against the request's effective risk, which
 * the agent's claim may raise), only in the group it was created for, never under a quorum, and never a
 * request the agent makes on behalf of the rule's own creator.
 */
import type { DeploymentConfig } from '../schemas/config.ts';
import type { JsonValue } from '../schemas/json.ts';
import { memberId } from '../schemas/member.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import { describeBounds, MAX_ACTIVE_TRUST_RULES, type ArgBound, type TrustRule } from '../schemas/trust-rule.ts';
import { describeRisk, type EffectiveRisk } from './risk.ts';
import { policyOf, quorumFor, resolveRule, type ResolvedRule } from './rules.ts';

export function isActive(rule: TrustRule, now: Date): boolean {
  return rule.revokedAt === undefined && Date.parse(rule.expiresAt) > now.getTime();
}

/** Why this reviewer may not create a trust rule for the agent's action in the group, or undefined if they may. */
export function whyNotTrustable(
  config: DeploymentConfig,
  target: { group: string; agent: string; action: string; createdBy: string },
  existing: readonly TrustRule[],
  now: Date,
): string | undefined {
  const group = config.reviewerGroups[target.group];
  if (!group) return `no reviewer group "${target.group}" is configured`;
  if (!group.tiers.some((t) => t.members.some((m) => memberId(m).toLowerCase() === target.createdBy.toLowerCase()))) {
    return `${target.createdBy} is not a member of the "${target.group}" group`;
  }
  const policy = policyOf(config);
  // The agent's claim can only raise the policy's risk: claim the lowest, and what comes back is the policy's.
  const probe = {
    kind: 'approval',
    agent: target.agent,
    action: { name: target.action, args: {} },
    risk: { class: policy.classes[0] ?? 'unclassified', reversible: true },
  } as unknown as ReviewRequest;
  const { rule, risk } = resolveRule(config, probe);
  if (!risk.reversible) return `policy rule ${rule.name} treats ${target.action} as ${describeRisk(risk)}: irreversible actions always go to a person`;
  if (quorumFor(rule, 'approval')) return `policy rule ${rule.name} needs ${rule.quorum.approvals} approvals: one reviewer cannot trust it alone`;
  if (rule.reviewerGroup !== undefined && rule.reviewerGroup !== target.group) {
    return `policy rule ${rule.name} sends ${target.action} requests to the "${rule.reviewerGroup}" group, not "${target.group}"`;
  }
  if (existing.filter((r) => isActive(r, now)).length >= MAX_ACTIVE_TRUST_RULES) {
    return `the "${target.group}" group already has ${MAX_ACTIVE_TRUST_RULES} active trust rules; revoke one first`;
  }
  return undefined;
}

function holds(bound: ArgBound, value: JsonValue | undefined): boolean {
  if (value === undefined) return false;
  if (bound.op === '=') return value === bound.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  switch (bound.op) {
    case '<=':
      return value <= bound.value;
    case '>=':
      return value >= bound.value;
    case '<':
      return value < bound.value;
    case '>':
      return value > bound.value;
  }
}

/** Whether the arguments meet every bound of the rule (an argument a bound names must be present). */
export function withinBounds(bounds: readonly ArgBound[], args: Record<string, JsonValue>): boolean {
  return bounds.every((b) => holds(b, Object.hasOwn(args, b.arg) ? args[b.arg] : undefined));
}

type Admitted = ReviewRequest & { reviewerGroup: string };

/** The active rule that approves this request, if any (the earliest created, so the choice is stable). */
export function matchTrustRule(rules: readonly TrustRule[], request: Admitted, resolved: ResolvedRule, now: Date): TrustRule | undefined {
  if (request.kind !== 'approval') return undefined;
  if (!mayTrust(resolved.risk) || quorumFor(resolved.rule, request.kind)) return undefined;
  const requester = request.requestedBy?.toLowerCase();
  return [...rules]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
    .find(
      (r) =>
        isActive(r, now) &&
        r.group === request.reviewerGroup &&
        r.agent === request.agent &&
        r.action === request.action.name &&
        r.createdBy.toLowerCase() !== requester &&
        withinBounds(r.bounds, request.action.args),
    );
}

/** The match-time check: the request's effective risk (policy raised by the agent's claim) must be reversible. */
export function mayTrust(risk: EffectiveRisk): boolean {
  return risk.reversible;
}

/** `policy:trust-rule:<id>:<creator>`: the rule and the person who made it, as the Decision's decidedBy. */
export function trustDecidedBy(rule: TrustRule): string {
  return `policy:trust-rule:${rule.id}:${rule.createdBy}`;
}

export function trustWhy(rule: TrustRule): string {
  return `trust rule ${rule.id} by ${rule.createdBy} until ${rule.expiresAt}: ${rule.agent} may ${rule.action} with ${describeBounds(rule.bounds)}`;
}
