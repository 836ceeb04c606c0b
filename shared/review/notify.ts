/** Reaching the reviewers of a request's current tier on every channel they are on, and telling them how it ended. */
import { backstopSeconds } from '../policies/backstop.ts';
import { eligibleMembers } from '../policies/duties.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import { memberEmail, memberId, memberIds, memberSlack } from '../schemas/member.ts';
import type { StoredRequest } from '../store/model.ts';
import type { Delivery, Recipient } from './channel.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { groupOf, IN_APP_GROUP } from './groups.ts';

/**
 * Links stay valid for the longest a request of this deployment can live (every tier, a hold, the grace
 * period: the Step Functions backstop), counted from the request's creation. Whether the holder may still
 * decide is checked separately on every POST: the request's own round, expiry and current tier.
 */
export function linkExpiresAt(row: Pick<StoredRequest, 'createdAt'>, config: DeploymentConfig): number {
  return Math.floor(Date.parse(row.createdAt) / 1000) + backstopSeconds(config);
}

/** The tier's members who may decide: not the person the agent acts for, nor whoever escalated it. */
export function recipientsOf(row: StoredRequest, group: ReviewerGroup): Recipient[] {
  const members = group.tiers[row.tier - 1]?.members ?? [];
  const eligible = new Set(eligibleMembers(memberIds(members), row));
  return members.flatMap((m) => {
    const id = memberId(m);
    if (!eligible.has(id)) return [];
    const email = memberEmail(m);
    const slack = memberSlack(m);
    return [{ id, ...(email ? { email } : {}), ...(slack ? { slack } : {}) }];
  });
}

/** The key of one recipient's review email of one round in the row's `deliveries`. */
export function deliveryKey(round: number, approver: string): string {
  return `${round}:${approver.toLowerCase()}`;
}

/**
 * Reach every member of the current tier not yet reached in this round, on each channel of the deployment
 * they are on (deps.channels), log `notified`, and record the tier and round as notified. A replayed round (a
 * retried task, a restart) reaches only those not recorded. A channel that fails while another reached
 * someone is logged: the request is reachable. If nobody in the round has been reached, throw (the first
 * channel's error, e.g. the email channel's EmailDeliveryError) so the caller can retry or close the request.
 */
export async function notifyCurrentTier(deps: ReviewDeps, row: StoredRequest): Promise<Delivery[]> {
  if (row.reviewerGroup === IN_APP_GROUP) return listForRespondent(deps, row);
  const recipients = recipientsOf(row, groupOf(deps.config, row));
  const deliveries: Delivery[] = [];
  const errors: unknown[] = [];
  for (const channel of deps.channels) {
    try {
      const delivery = await channel.deliver(deps, row, recipients);
      if (delivery) deliveries.push(delivery);
    } catch (err) {
      errors.push(err);
      deps.log.error('A channel reached none of the reviewers', { requestId: row.requestId, channel: channel.name, error: describeError(err) });
    }
  }
  if (!deliveries.some((d) => d.reached.length + d.already.length > 0) && errors.length > 0) throw errors[0];

  await recordNotified(deps, row, deliveryDetails(deps, deliveries));
  deps.log.info('Reviewers notified', { requestId: row.requestId, tier: row.tier, round: row.round, recipients: deliveries.reduce((n, d) => n + d.reached.length, 0) });
  return deliveries;
}

/** What a `notified` event records: the primary channel's recipients at the top level, the others by channel. */
export function deliveryDetails(deps: Pick<ReviewDeps, 'channels'>, deliveries: readonly Delivery[]): Record<string, unknown> {
  const primary = new Set(deps.channels.filter((c) => c.primary).map((c) => c.name));
  const main = deliveries.find((d) => primary.has(d.channel));
  const others = deliveries.filter((d) => d !== main);
  const already = main?.already ?? [];
  const failed = main?.failed ?? [];
  return {
    recipients: main?.reached ?? [],
    ...(already.length ? { alreadySent: already } : {}),
    ...(failed.length ? { failed } : {}),
    ...(others.length ? { channels: Object.fromEntries(others.map((d) => [d.channel, { reached: d.reached, ...(d.already.length ? { already: d.already } : {}), ...d.details }])) } : {}),
  };
}

/** The round's tier and round recorded as reached, with its `notified` event (one transaction). */
function recordNotified(deps: ReviewDeps, row: StoredRequest, details: Record<string, unknown>): Promise<void> {
  return deps.ledger.notified(row.requestId, row.tier, row.round, {
    requestId: row.requestId,
    event: 'notified',
    at: deps.now().toISOString(),
    actor: 'system',
    tier: row.tier,
    details: { round: row.round, ...details },
    ...purgeAt(deps.config, deps.now()),
  });
}

/**
 * An in-app request is not emailed: its respondent finds it in the host app (the row is in the
 * pending-by-respondent index from its creation). Logged as `notified` on the in-app channel.
 */
async function listForRespondent(deps: ReviewDeps, row: StoredRequest): Promise<Delivery[]> {
  await recordNotified(deps, row, { channel: 'in-app', respondent: row.request.respondent?.id });
  return [];
}

/** The DynamoDB TTL attribute for rows and events, when the deployment sets a retention. */
export function purgeAt(config: DeploymentConfig, now: Date): { purgeAt?: number } {
  return config.retentionDays ? { purgeAt: Math.floor(now.getTime() / 1000) + config.retentionDays * 86_400 } : {};
}
