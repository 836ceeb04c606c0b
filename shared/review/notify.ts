/** Emailing the reviewers of a request's current tier, each with a personal signed link. */
import { backstopSeconds } from '../policies/backstop.ts';
import { eligibleMembers } from '../policies/duties.ts';
import { EmailDeliveryError, sendReviewEmails, type SentReviewEmail } from '../notify.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import { reviewUrl } from '../signing.ts';
import type { StoredRequest } from '../store/model.ts';
import { describeError, visibleRow } from './decisions.ts';
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
function recipientsOf(row: StoredRequest, group: ReviewerGroup): string[] {
  return eligibleMembers(group.tiers[row.tier - 1]?.members ?? [], row);
}

/** The key of one recipient's review email of one round in the row's `deliveries`. */
export function deliveryKey(round: number, approver: string): string {
  return `${round}:${approver.toLowerCase()}`;
}

/**
 * Email every member of the current tier not yet emailed in this round, record each accepted message on
 * the row as SES accepts it, log `notified`, and record the tier and round as notified. A replayed round
 * (a retried task, a restart) emails only those not recorded: delivery is at least once per recipient,
 * with a repeat only when a crash falls between SES accepting a message and its record. If SES refuses
 * some messages the rest still count: the request is reachable. If nobody in the round has been emailed,
 * throw so the caller can retry or close the request.
 */
export async function notifyCurrentTier(deps: ReviewDeps, row: StoredRequest): Promise<SentReviewEmail[]> {
  if (row.reviewerGroup === IN_APP_GROUP) return listForRespondent(deps, row);
  const group = groupOf(deps.config, row);
  const ring = await deps.keyRing();
  const expiresAt = linkExpiresAt(row, deps.config);
  const members = recipientsOf(row, group);
  const already = members.filter((approver) => row.deliveries?.[deliveryKey(row.round, approver)] !== undefined);
  const recipients = members.filter((approver) => !already.includes(approver)).map((approver) => ({
    approver,
    link: reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt }, ring),
  }));

  let sent: SentReviewEmail[];
  let failed: string[] = [];
  const onSent = (accepted: SentReviewEmail) => deps.requests.recordDelivery(row.requestId, deliveryKey(row.round, accepted.approver), accepted.messageId);
  try {
    sent = recipients.length ? await sendReviewEmails(deps.ses, { sender: deps.config.sender, request: visibleRow(row), group, now: deps.now(), recipients, onSent }) : [];
  } catch (err) {
    if (!(err instanceof EmailDeliveryError) || err.sent.length + already.length === 0) throw err;
    sent = err.sent;
    failed = err.failed.map((f) => f.approver);
    deps.log.error('Some review emails were not accepted', { requestId: row.requestId, failed, error: describeError(err) });
  }

  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'notified',
    at: deps.now().toISOString(),
    actor: 'system',
    tier: row.tier,
    details: { round: row.round, recipients: sent.map((s) => s.approver), ...(already.length ? { alreadySent: already } : {}), ...(failed.length ? { failed } : {}) },
    ...purgeAt(deps.config, deps.now()),
  });
  await deps.requests.markNotified(row.requestId, row.tier, row.round);
  deps.log.info('Reviewers notified', { requestId: row.requestId, tier: row.tier, round: row.round, recipients: sent.length });
  return sent;
}

/**
 * An in-app request is not emailed: its respondent finds it in the host app (the row is in the
 * pending-by-respondent index from its creation). Logged as `notified` on the in-app channel.
 */
async function listForRespondent(deps: ReviewDeps, row: StoredRequest): Promise<SentReviewEmail[]> {
  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'notified',
    at: deps.now().toISOString(),
    actor: 'system',
    tier: row.tier,
    details: { round: row.round, channel: 'in-app', respondent: row.request.respondent?.id },
    ...purgeAt(deps.config, deps.now()),
  });
  await deps.requests.markNotified(row.requestId, row.tier, row.round);
  return [];
}

/** The DynamoDB TTL attribute for rows and events, when the deployment sets a retention. */
export function purgeAt(config: DeploymentConfig, now: Date): { purgeAt?: number } {
  return config.retentionDays ? { purgeAt: Math.floor(now.getTime() / 1000) + config.retentionDays * 86_400 } : {};
}
