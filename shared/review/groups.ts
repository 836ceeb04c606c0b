/** Reviewer groups and tiers of a stored request, as the current deployment config has them. */
import { ConfigError } from '../errors.ts';
import type { DeploymentConfig, ReviewerGroup, Tier } from '../schemas/config.ts';
import { memberId } from '../schemas/member.ts';
import type { StoredRequest } from '../store/model.ts';

/**
 * The group name an in-app request is stored under (its `reviewerGroup` and queue key). Not a valid group
 * name, so no configured group can share it.
 */
export const IN_APP_GROUP = '@in-app';

/**
 * In-app requests as a group of one tier with nobody to email: the respondent answers in the host app. Its
 * time box and time zone come from the config's `inApp`; with no next tier, `escalate` falls back to deny,
 * and with no business hours `hold` is refused.
 */
export function inAppGroup(config: DeploymentConfig): ReviewerGroup | undefined {
  const inApp = config.inApp;
  if (!inApp) return undefined;
  return { tiers: [{ name: 'the respondent', members: [] }], timeZone: inApp.timeZone, defaultTtlSeconds: inApp.defaultTtlSeconds, maxTtlSeconds: inApp.maxTtlSeconds };
}

/** A group by its stored name: a configured group, or the in-app group while the config enables in-app. */
export function groupNamed(config: DeploymentConfig, name: string): ReviewerGroup | undefined {
  return name === IN_APP_GROUP ? inAppGroup(config) : config.reviewerGroups[name];
}

/** The queues the monitor measures and sweeps: every configured group, and in-app requests when enabled. */
export function queueNames(config: DeploymentConfig): string[] {
  return [...Object.keys(config.reviewerGroups), ...(config.inApp ? [IN_APP_GROUP] : [])];
}

/** The request's group; a request whose group was removed from the config since cannot be served. */
export function groupOf(config: DeploymentConfig, row: Pick<StoredRequest, 'reviewerGroup' | 'requestId'>): ReviewerGroup {
  const group = groupNamed(config, row.reviewerGroup);
  if (!group) throw new ConfigError(`Reviewer group "${row.reviewerGroup}" of request ${row.requestId} is no longer configured`);
  return group;
}

export function tierOf(group: ReviewerGroup, tier: number): Tier | undefined {
  return group.tiers[tier - 1];
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function isTierMember(group: ReviewerGroup, tier: number, approver: string): boolean {
  return (tierOf(group, tier)?.members ?? []).some((m) => sameAddress(memberId(m), approver));
}

/** 1-based tier the approver belongs to (the first, if several), or undefined for a non-member. */
export function tierOfApprover(group: ReviewerGroup, approver: string): number | undefined {
  const index = group.tiers.findIndex((t) => t.members.some((m) => sameAddress(memberId(m), approver)));
  return index < 0 ? undefined : index + 1;
}

/** The identities of a tier's members (see memberId). */
export function tierMemberIds(group: ReviewerGroup, tier: number): string[] {
  return (tierOf(group, tier)?.members ?? []).map(memberId);
}
