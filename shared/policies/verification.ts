/**
 * Which drafts a person verifies before they go out: every one, a deterministic sample, or those that meet
 * a risk condition (low confidence, a recipient outside the allowed domains, a listed term, the agent's own
 * risk at or above a class). Pure; a draft not picked passes at once and is logged like any decision.
 */
import type { VerificationReview } from '../schemas/policy.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import { rankOf, type RiskScale } from './risk.ts';
import { isSampled, percent } from './sampling.ts';

type VerificationRequest = Extract<ReviewRequest, { kind: 'verification' }>;

export type VerificationPlan =
  | { review: true; why: string }
  | { review: false; policy: 'not-sampled' | 'below-risk-threshold'; why: string };

/** Case, width variants and invisible characters aside, so "Re\u200bfund" still mentions "refund". */
export function normalizeForTerms(text: string): string {
  return text.normalize('NFKC').replace(/\p{Cf}/gu, '').toLowerCase().replace(/\s+/g, ' ');
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

export function domainAllowed(address: string, allowed: readonly string[]): boolean {
  const domain = domainOf(address);
  return allowed.some((d) => domain === d || domain.endsWith(`.${d}`));
}

/** The risk conditions a draft meets, each as a reason; empty when it meets none. */
export function riskReasons(request: VerificationRequest, review: Extract<VerificationReview, { review: 'risk' }>, scale: RiskScale): string[] {
  const reasons: string[] = [];
  if (review.confidenceBelow !== undefined) {
    if (request.confidence === undefined) reasons.push('the agent gave no confidence');
    else if (request.confidence < review.confidenceBelow) reasons.push(`confidence ${request.confidence} is below ${review.confidenceBelow}`);
  }
  if (review.allowedDomains) {
    const recipients = request.draft.recipients ?? [];
    const outside = recipients.filter((r) => !domainAllowed(r, review.allowedDomains!));
    if (recipients.length === 0) reasons.push('it names no recipients to check against the allowed domains');
    else if (outside.length) reasons.push(`${outside.length === 1 ? 'a recipient is' : `${outside.length} recipients are`} outside the allowed domains (${outside.slice(0, 3).join(', ')})`);
  }
  if (review.terms) {
    const text = normalizeForTerms(`${request.draft.title ?? ''}\n${request.draft.body}`);
    const found = review.terms.filter((t) => text.includes(normalizeForTerms(t)));
    if (found.length) reasons.push(`it mentions ${found.slice(0, 3).map((t) => JSON.stringify(t)).join(', ')}`);
  }
  if (review.agentRiskAtOrAbove !== undefined && rankOf(scale, request.risk.class) >= rankOf(scale, review.agentRiskAtOrAbove)) {
    reasons.push(`the agent rates it ${request.risk.class}, at or above ${review.agentRiskAtOrAbove}`);
  }
  return reasons;
}

export function planVerification(request: VerificationRequest, requestId: string, review: VerificationReview, scale: RiskScale): VerificationPlan {
  switch (review.review) {
    case 'always':
      return { review: true, why: 'every verification draft goes to a person' };
    case 'sample':
      return isSampled(requestId, review.rate)
        ? { review: true, why: `picked for the ${percent(review.rate)} review sample` }
        : { review: false, policy: 'not-sampled', why: `not picked for the ${percent(review.rate)} review sample` };
    case 'risk': {
      const reasons = riskReasons(request, review, scale);
      return reasons.length
        ? { review: true, why: reasons.join('; ') }
        : { review: false, policy: 'below-risk-threshold', why: 'it meets none of the rule\'s risk conditions' };
    }
  }
}
