/** Reaching the reviewers of a request's current tier on every channel they are on, and telling them how it ended. */
import { EmailNotifier } from '../channels/email.ts';
import type { Delivery, Notifier, Recipient } from '../channels/notifier.ts';
import { SlackNotifier } from '../channels/slack.ts';
import type { SentReviewEmail } from '../notify.ts';
import { backstopSeconds } from '../policies/backstop.ts';
import { eligibleMembers } from '../policies/duties.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import type { Decision } from '../schemas/decision.ts';
import { memberEmail, memberId, memberIds, memberSlack } from '../schemas/member.ts';
import type { StoredRequest } from '../store/model.ts';
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
function recipientsOf(row: StoredRequest, group: ReviewerGroup): Recipient[] {
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

/** Email (always) and the channels the deployment config adds. */
export function notifiersOf(deps: ReviewDeps): { email: EmailNotifier; all: Notifier[] } {
  const email = new EmailNotifier(deps);
  return { email, all: [email, ...(deps.slack ? [new SlackNotifier(deps, deps.slack)] : [])] };
}

/**
 * Reach every member of the current tier not yet reached in this round, on each channel they are on (email
 * with a personal signed link; Slack with one message in the group's channel), log `notified`, and record the
 * tier and round as notified. A replayed round (a retried task, a restart) reaches only those not recorded.
 * A channel that fails while another reached someone is logged: the request is reachable. If nobody in the
 * round has been reached, throw (the email channel's EmailDeliveryError first) so the caller can retry or
 * close the request.
 */
export async function notifyCurrentTier(deps: ReviewDeps, row: StoredRequest): Promise<SentReviewEmail[]> {
  if (row.reviewerGroup === IN_APP_GROUP) return listForRespondent(deps, row);
  const recipients = recipientsOf(row, groupOf(deps.config, row));
  const { email, all } = notifiersOf(deps);
  const deliveries: Delivery[] = [];
  const errors: unknown[] = [];
  for (const notifier of all) {
    try {
      const delivery = await notifier.deliver(row, recipients);
      if (delivery) deliveries.push(delivery);
    } catch (err) {
      errors.push(err);
      deps.log.error('A channel reached none of the reviewers', { requestId: row.requestId, channel: notifier.channel, error: describeError(err) });
    }
  }
  if (!deliveries.some((d) => d.reached.length + d.already.length > 0) && errors.length > 0) throw errors[0];

  const byEmail = deliveries.find((d) => d.channel === 'email');
  const others = deliveries.filter((d) => d.channel !== 'email');
  const already = byEmail?.already ?? [];
  const failed = byEmail?.failed ?? [];
  await recordNotified(deps, row, {
    recipients: byEmail?.reached ?? [],
    ...(already.length ? { alreadySent: already } : {}),
    ...(failed.length ? { failed } : {}),
    ...(others.length ? { channels: Object.fromEntries(others.map((d) => [d.channel, { reached: d.reached, ...(d.already.length ? { already: d.already } : {}), ...d.details }])) } : {}),
  });
  deps.log.info('Reviewers notified', { requestId: row.requestId, tier: row.tier, round: row.round, recipients: deliveries.reduce((n, d) => n + d.reached.length, 0) });
  return email.sent;
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

/** What showing a request's outcome on its channels needs. */
export type ConcludedDeps = Pick<ReviewDeps, 'config' | 'requests' | 'log' | 'now' | 'slack'>;

/**
 * The channels that show a request in place and so show its outcome there: Slack updates its message. Email's
 * `concluded` does nothing (the other reviewers' notice is outcome-notice.ts).
 */
function concludingNotifiers(deps: ConcludedDeps): Pick<Notifier, 'channel' | 'concluded'>[] {
  return deps.slack ? [new SlackNotifier(deps, deps.slack)] : [];
}

/** The request ended: each channel shows the outcome where it showed the request. Never throws. */
export async function notifyConcluded(deps: ConcludedDeps, row: StoredRequest, decision: Decision): Promise<void> {
  for (const notifier of concludingNotifiers(deps)) {
    await notifier.concluded(row, decision).catch((err: unknown) =>
      deps.log.warn('Could not show the outcome on a channel', { requestId: row.requestId, channel: notifier.channel, error: describeError(err) }),
    );
  }
}

/**
 * An in-app request is not emailed: its respondent finds it in the host app (the row is in the
 * pending-by-respondent index from its creation). Logged as `notified` on the in-app channel.
 */
async function listForRespondent(deps: ReviewDeps, row: StoredRequest): Promise<SentReviewEmail[]> {
  await recordNotified(deps, row, { channel: 'in-app', respondent: row.request.respondent?.id });
  return [];
}

/** The DynamoDB TTL attribute for rows and events, when the deployment sets a retention. */
export function purgeAt(config: DeploymentConfig, now: Date): { purgeAt?: number } {
  return config.retentionDays ? { purgeAt: Math.floor(now.getTime() / 1000) + config.retentionDays * 86_400 } : {};
}
