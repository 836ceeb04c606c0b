/**
 * The Step Functions task timeout: a backstop that only fires if every time box, escalation and hold
 * has run out and the expiry schedules still did not end the request.
 */
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import { longestClosedSeconds } from './business-hours.ts';

/** Longest a request of this group can legitimately stay open: all tiers (escalate) or a hold and its re-notified round. */
export function longestLifeSeconds(group: ReviewerGroup): number {
  const throughEveryTier = group.tiers.length * group.maxTtlSeconds;
  const throughHold = group.businessHours ? 2 * group.maxTtlSeconds + longestClosedSeconds(group.businessHours) : group.maxTtlSeconds;
  return Math.max(throughEveryTier, throughHold);
}

export function backstopSeconds(config: DeploymentConfig): number {
  // An in-app request has one time box: no tiers to escalate through, no business hours to hold for.
  const longest = Math.max(...Object.values(config.reviewerGroups).map(longestLifeSeconds), config.inApp?.maxTtlSeconds ?? 0);
  return longest + config.backstopGraceSeconds;
}
