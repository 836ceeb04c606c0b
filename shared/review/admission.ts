/**
 * What a request must satisfy beyond its schema, against this deployment's config: a configured reviewer
 * group, a time box the group allows, and a fallback the group and risk class allow.
 */
import { createHash } from 'node:crypto';
import { InvalidRequestError } from '../errors.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import type { IssueSummary } from '../schemas/issues.ts';
import { parseReviewRequest, type ReviewRequest } from '../schemas/review-request.ts';

/** A validated request with its time box resolved (`ttlSeconds` always set). */
export type AdmittedRequest = ReviewRequest & { ttlSeconds: number };

export interface Admission {
  request: AdmittedRequest;
  group: ReviewerGroup;
  /** The request as the agent sent it, validated: what the hash covers, and what later steps re-admit. */
  sent: ReviewRequest;
  /** Binds an idempotency key to this content (see requestHash). */
  requestHash: string;
}

/** Parse and check a raw ReviewRequest; every problem is reported at once, each with its path. */
export function admitRequest(raw: unknown, config: DeploymentConfig): Admission {
  const request = parseReviewRequest(raw, config.limits);
  const issues: IssueSummary[] = [];
  const group = config.reviewerGroups[request.reviewerGroup];
  if (!group) {
    const known = Object.keys(config.reviewerGroups).join(', ');
    issues.push({ path: 'reviewerGroup', message: `no reviewer group "${request.reviewerGroup}" is configured; configured groups: ${known}` });
  }
  const ttlSeconds = request.ttlSeconds ?? group?.defaultTtlSeconds ?? 0;
  if (group && ttlSeconds > group.maxTtlSeconds) {
    issues.push({ path: 'ttlSeconds', message: `${ttlSeconds} exceeds the group's maximum of ${group.maxTtlSeconds} seconds` });
  }
  if (request.fallback === 'approve' && !config.lowRiskClasses.includes(request.risk.class)) {
    const low = config.lowRiskClasses.length ? config.lowRiskClasses.join(', ') : 'none are configured';
    issues.push({ path: 'fallback', message: `fallback "approve" is only allowed for low risk classes (${low}), not "${request.risk.class}"` });
  }
  if (request.fallback === 'hold' && group && !group.businessHours) {
    issues.push({ path: 'fallback', message: `fallback "hold" needs business hours, and group "${request.reviewerGroup}" has none` });
  }
  if (issues.length > 0 || !group) {
    throw new InvalidRequestError(`Invalid ReviewRequest: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return { request: { ...request, ttlSeconds }, group, sent: request, requestHash: requestHash(request) };
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
