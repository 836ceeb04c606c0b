/**
 * Which rule of the deployment's policy applies to a request, and the risk it is treated at. Pure. A config
 * without a policy gets an implicit one from its earlier fields: one default rule that takes the agent's
 * risk claim as it is, with `routing`'s thresholds.
 */
import type { DeploymentConfig } from '../schemas/config.ts';
import { kindsOf, withDefaults, type Quorum, type RuleMatch, type RuleRisk, type RuleSettings, type VerificationReview } from '../schemas/policy.ts';
import type { FallbackPolicy, ReviewRequest } from '../schemas/review-request.ts';
import { raiseRisk, type EffectiveRisk, type RiskScale } from './risk.ts';

/** A rule with every setting resolved. */
export interface Rule {
  name: string;
  /** The deployment's risk for the action; undefined only in the implicit policy (the agent's claim stands). */
  risk?: RuleRisk;
  reviewerGroup?: string;
  ttl: { min?: number; default?: number; max?: number };
  reminders?: readonly string[];
  fallbacks: readonly FallbackPolicy[];
  autoApprove?: { minConfidence: number };
  autoAnswer?: { minConfidence: number };
  auditSample: number;
  verification: VerificationReview;
  quorum: Quorum;
}

export interface EffectivePolicy extends RiskScale {
  /** False for the implicit policy of a config that has none. */
  explicit: boolean;
  rules: { match: RuleMatch; rule: Rule }[];
  default: Rule;
}

export interface ResolvedRule {
  rule: Rule;
  /** The policy's risk raised by the agent's claim where the claim is higher. */
  risk: EffectiveRisk;
}

const ALL_FALLBACKS: readonly FallbackPolicy[] = ['deny', 'approve', 'escalate', 'hold'];
const ALWAYS: VerificationReview = { review: 'always' };
const ONE: Quorum = { approvals: 1, denyVetoes: true };

function settled(s: RuleSettings): Rule {
  return {
    name: s.name,
    ...(s.risk ? { risk: s.risk } : {}),
    ...(s.reviewerGroup ? { reviewerGroup: s.reviewerGroup } : {}),
    ttl: s.ttl ?? {},
    ...(s.reminders ? { reminders: s.reminders } : {}),
    fallbacks: s.fallbacks ?? ['deny', 'escalate', 'hold'],
    ...(s.autoApprove ? { autoApprove: s.autoApprove } : {}),
    ...(s.autoAnswer ? { autoAnswer: s.autoAnswer } : {}),
    auditSample: s.auditSample ?? 0,
    verification: s.verification ?? ALWAYS,
    quorum: s.quorum ?? ONE,
  };
}

function implicitPolicy(config: DeploymentConfig): EffectivePolicy {
  const routing = config.routing;
  return {
    explicit: false,
    classes: config.lowRiskClasses,
    lowClasses: config.lowRiskClasses,
    rules: [],
    default: {
      name: 'default',
      ttl: {},
      fallbacks: ALL_FALLBACKS,
      ...(routing?.autoApproveMinConfidence !== undefined ? { autoApprove: { minConfidence: routing.autoApproveMinConfidence } } : {}),
      autoAnswer: { minConfidence: routing?.disambiguateBelowConfidence ?? 0.7 },
      auditSample: routing?.sampleRate ?? 0,
      verification: ALWAYS,
      quorum: ONE,
    },
  };
}

const cache = new WeakMap<DeploymentConfig, EffectivePolicy>();

/** The deployment's policy, explicit or implicit; computed once per config object. */
export function policyOf(config: DeploymentConfig): EffectivePolicy {
  let policy = cache.get(config);
  if (policy) return policy;
  const p = config.policy;
  if (!p) {
    policy = implicitPolicy(config);
  } else {
    const strictest: RuleRisk = { class: p.riskClasses.at(-1)!, reversible: false };
    const base = { ...p.default, risk: strictest };
    policy = {
      explicit: true,
      classes: p.riskClasses,
      lowClasses: config.lowRiskClasses,
      rules: p.rules.map((r) => ({ match: r.match, rule: settled(withDefaults(r, base)) })),
      default: settled(base),
    };
  }
  cache.set(config, policy);
  return policy;
}

const globs = new Map<string, RegExp>();

/** `*` matches any run of characters, `?` any one; the rest literally. */
export function globMatches(glob: string, value: string): boolean {
  let re = globs.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\:-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    globs.set(glob, re);
  }
  return re.test(value);
}

/** What a rule's `action` pattern is matched against: an approval's action, a verification's channel. */
export function actionNameOf(request: ReviewRequest): string | undefined {
  if (request.kind === 'approval') return request.action.name;
  if (request.kind === 'verification') return request.draft.channel;
  return undefined;
}

const anyOf = (patterns: string | string[], value: string) => (Array.isArray(patterns) ? patterns : [patterns]).some((g) => globMatches(g, value));

export function ruleMatches(match: RuleMatch, request: Pick<ReviewRequest, 'kind' | 'agent'> & { actionName?: string }): boolean {
  if (match.agent !== undefined && !anyOf(match.agent, request.agent)) return false;
  if (match.kind !== undefined && !kindsOf(match).includes(request.kind)) return false;
  if (match.action !== undefined && (request.actionName === undefined || !anyOf(match.action, request.actionName))) return false;
  return true;
}

/** The first rule that matches, else the default; and the risk the request is treated at. */
export function resolveRule(config: DeploymentConfig, request: ReviewRequest): ResolvedRule {
  const policy = policyOf(config);
  const target = { kind: request.kind, agent: request.agent, actionName: actionNameOf(request) };
  const rule = policy.rules.find((r) => ruleMatches(r.match, target))?.rule ?? policy.default;
  return { rule, risk: raiseRisk(policy, rule.risk, request.risk) };
}

/** Approvals a request needs: more than one only under a quorum rule, and only for approvals and verifications. */
export function quorumFor(rule: Rule, kind: ReviewRequest['kind']): Quorum | undefined {
  return rule.quorum.approvals > 1 && (kind === 'approval' || kind === 'verification') ? rule.quorum : undefined;
}
