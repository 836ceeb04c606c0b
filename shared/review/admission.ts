/**
 * What a request must satisfy beyond its schema, against this deployment's config and the policy rule that
 * applies: a configured reviewer group, a time box within the rule's bounds, a fallback the rule and the
 * request's risk allow, someone other than the person it acts for to decide it, and a webhook URL (if any)
 * on a host the deployment allows.
 */
import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../errors.ts';
import { eligibleMembers } from '../policies/duties.ts';
import { describeRisk, whyNotApprovable } from '../policies/risk.ts';
import { quorumFor, resolveRule, type ResolvedRule } from '../policies/rules.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import { memberIds } from '../schemas/member.ts';
import type { IssueSummary } from '../schemas/issues.ts';
import { parseReviewRequest, type ReviewRequest } from '../schemas/review-request.ts';
import type { RequestPolicy } from '../store/model.ts';
import { webhookUrlIssue } from '../webhooks/url.ts';
import { IN_APP_GROUP, inAppGroup } from './groups.ts';

/** A validated request with its time box and reviewer group resolved. */
export type AdmittedRequest = ReviewRequest & { ttlSeconds: number; reviewerGroup: string };

export interface Admission {
  request: AdmittedRequest;
  group: ReviewerGroup;
  /** The request as the agent sent it, validated: what the hash covers, and what later steps re-admit. */
  sent: ReviewRequest;
  /** Binds an idempotency key to this content (see requestHash). */
  requestHash: string;
  /** The policy rule that applies, and the risk the request is treated at. */
  resolved: ResolvedRule;
}

/** The time box a rule allows within its group's: at least `min`, at most `max`, `default` when none is asked. */
export function timeBoxOf(resolved: ResolvedRule, group: ReviewerGroup): { min: number; default: number; max: number } {
  const { ttl } = resolved.rule;
  const max = Math.min(ttl.max ?? Infinity, group.maxTtlSeconds);
  return { min: ttl.min ?? 60, default: Math.min(ttl.default ?? group.defaultTtlSeconds, max), max };
}

/** The rule as the row keeps it: later steps use this, not the config of the moment. */
export function requestPolicy(resolved: ResolvedRule, kind: ReviewRequest['kind'], why: string): RequestPolicy {
  const quorum = quorumFor(resolved.rule, kind);
  return {
    rule: resolved.rule.name,
    why,
    risk: { class: resolved.risk.class, reversible: resolved.risk.reversible, low: resolved.risk.low },
    ...(quorum ? { quorum: { approvals: quorum.approvals, denyVetoes: quorum.denyVetoes } } : {}),
  };
}

function fallbackIssue(request: ReviewRequest, resolved: ResolvedRule, group: ReviewerGroup | undefined, who: string): IssueSummary | undefined {
  const { rule, risk } = resolved;
  const fallback = request.fallback;
  if (!rule.fallbacks.includes(fallback)) {
    return { path: 'fallback', message: `fallback "${fallback}" is not allowed by policy rule ${rule.name}; allowed: ${rule.fallbacks.join(', ')}` };
  }
  const unsafe = fallback === 'approve' ? whyNotApprovable(risk) : undefined;
  if (unsafe) {
    const claim = describeRisk(request.risk) === describeRisk(risk) ? '' : ` (the agent says ${describeRisk(request.risk)}; policy rule ${rule.name}: ${describeRisk(risk)})`;
    return { path: 'fallback', message: `fallback "approve" is refused for ${describeRisk(risk)}${claim}: ${unsafe}, and a policy approves only reversible actions of a low risk class` };
  }
  if (fallback === 'hold' && group && !group.businessHours) {
    return { path: 'fallback', message: `fallback "hold" needs business hours, and ${who} none` };
  }
  return undefined;
}

/** Someone in tier 1 other than the person the agent acts for, and enough of them for the quorum. */
function dutyIssue(request: ReviewRequest, resolved: ResolvedRule, group: ReviewerGroup): IssueSummary | undefined {
  const tier = group.tiers[0]!;
  const eligible = eligibleMembers(memberIds(tier.members), { request, history: [] });
  const needed = quorumFor(resolved.rule, request.kind)?.approvals ?? 1;
  if (eligible.length >= needed) return undefined;
  const who = request.requestedBy ? ` other than ${request.requestedBy}, for whom the agent acts,` : '';
  return {
    path: 'requestedBy',
    message: `${needed === 1 ? 'nobody' : `only ${eligible.length}`} in tier 1 (${tier.name})${who} can decide it${needed > 1 ? `, and policy rule ${resolved.rule.name} needs ${needed} approvals` : ''}`,
  };
}

/**
 * The group the matched policy rule names itself. One inherited from `policy.default` is what applies when
 * a request names nobody; it does not override a respondent.
 */
function ruleOwnGroup(config: DeploymentConfig, resolved: ResolvedRule): string | undefined {
  return config.policy?.rules.find((r) => r.name === resolved.rule.name)?.reviewerGroup;
}

/**
 * Who answers: the group the matched policy rule names, else the request's respondent (in the host app,
 * when the deployment enables in-app answers), else the request's group or the policy default's.
 */
function reviewersOf(request: ReviewRequest, resolved: ResolvedRule, config: DeploymentConfig, issues: IssueSummary[]): { groupName?: string; group?: ReviewerGroup } {
  const known = Object.keys(config.reviewerGroups).join(', ');
  if (request.respondent && request.reviewerGroup !== undefined) {
    issues.push({ path: 'respondent', message: 'name either a reviewerGroup or a respondent, not both' });
  }
  if (ruleOwnGroup(config, resolved) === undefined && request.respondent && request.reviewerGroup === undefined) {
    const group = inAppGroup(config);
    if (!group) {
      issues.push({ path: 'respondent', message: 'this deployment does not enable in-app answers (config inApp); name a reviewerGroup instead' });
      return {};
    }
    const quorum = quorumFor(resolved.rule, request.kind);
    if (quorum) issues.push({ path: 'respondent', message: `policy rule ${resolved.rule.name} needs ${quorum.approvals} approvals and a respondent is one person; the rule must name a reviewer group` });
    return { groupName: IN_APP_GROUP, group };
  }
  const groupName = resolved.rule.reviewerGroup ?? request.reviewerGroup;
  const group = groupName === undefined ? undefined : config.reviewerGroups[groupName];
  if (groupName === undefined) {
    issues.push({ path: 'reviewerGroup', message: `name a reviewer group${config.inApp ? ' or a respondent' : ''}: policy rule ${resolved.rule.name} names none; configured groups: ${known}` });
  } else if (!group) {
    issues.push({ path: 'reviewerGroup', message: `no reviewer group "${groupName}" is configured; configured groups: ${known}` });
  }
  return { groupName, group };
}

/** Separation of duties for an in-app request: the person the agent acts for cannot be its respondent. */
function respondentDutyIssue(request: ReviewRequest): IssueSummary | undefined {
  const email = request.respondent?.email;
  if (!email || !request.requestedBy || email.toLowerCase() !== request.requestedBy.toLowerCase()) return undefined;
  return { path: 'respondent', message: `${email} is the person the agent acts for (requestedBy) and cannot decide the request` };
}

/** Parse and check a raw ReviewRequest; every problem is reported at once, each with its path. */
export function admitRequest(raw: unknown, config: DeploymentConfig): Admission {
  const request = parseReviewRequest(raw, config.limits);
  const resolved = resolveRule(config, request);
  const issues: IssueSummary[] = [];
  const { groupName, group } = reviewersOf(request, resolved, config, issues);
  const inApp = groupName === IN_APP_GROUP;
  let ttlSeconds = request.ttlSeconds ?? 0;
  if (group) {
    const box = timeBoxOf(resolved, group);
    ttlSeconds = request.ttlSeconds ?? box.default;
    const bound = resolved.rule.ttl.max !== undefined && resolved.rule.ttl.max < group.maxTtlSeconds ? `policy rule ${resolved.rule.name}'s` : inApp ? "in-app requests'" : "the group's";
    if (ttlSeconds > box.max) issues.push({ path: 'ttlSeconds', message: `${ttlSeconds} exceeds ${bound} maximum of ${box.max} seconds` });
    if (ttlSeconds < box.min) issues.push({ path: 'ttlSeconds', message: `${ttlSeconds} is below policy rule ${resolved.rule.name}'s minimum of ${box.min} seconds` });
  }
  const fallback = fallbackIssue(request, resolved, group, inApp ? 'in-app requests have' : `group "${groupName ?? ''}" has`);
  if (fallback) issues.push(fallback);
  const duty = !group ? undefined : inApp ? respondentDutyIssue(request) : dutyIssue(request, resolved, group);
  if (duty) issues.push(duty);
  const webhook = request.notify ? webhookUrlIssue(request.notify.url, config.webhooks) : undefined;
  if (webhook) issues.push({ path: 'notify.url', message: webhook });
  if (issues.length > 0 || !group || groupName === undefined) {
    throw new InvalidRequestError(`Invalid ReviewRequest: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return { request: { ...request, ttlSeconds, reviewerGroup: groupName }, group, sent: request, requestHash: requestHash(request), resolved };
}

/** JSON with object keys sorted at every level: one spelling for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 of the request as validated (defaults applied, before the deployment's time box is filled in). */
export function requestHash(request: ReviewRequest): string {
  return createHash('sha256').update(canonicalJson(request), 'utf8').digest('hex');
}

/**
 * Deterministic request id: the same agent and idempotency key always map to the same row (and so the same
 * decision); without a key, a replay of the same execution does.
 */
export function deriveRequestId(request: Pick<ReviewRequest, 'agent' | 'idempotencyKey'>, executionArn: string): string {
  const source = request.idempotencyKey === undefined ? executionArn : `${request.agent}\n${request.idempotencyKey}`;
  return `r${createHash('sha256').update(source, 'utf8').digest('hex').slice(0, 24)}`;
}

/** What analysts group decisions by: `approval#refund`, `verification#email`, or the kind alone. */
export function actionTypeOf(request: ReviewRequest): string {
  if (request.kind === 'approval') return `approval#${request.action.name}`;
  if (request.kind === 'verification') return `verification#${request.draft.channel}`;
  return request.kind;
}
