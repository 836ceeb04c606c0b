/** Emailing the reviewers of a request's current tier, each with a personal signed link. */
import { backstopSeconds } from '../policies/backstop.ts';
import { EmailDeliveryError, sendReviewEmails, type SentReviewEmail } from '../notify.ts';
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import { reviewUrl } from '../signing.ts';
import type { StoredRequest } from '../store/model.ts';
import { describeError, visibleRow } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { groupOf } from './groups.ts';

/**
 * Links stay valid for the longest a request of this deployment can live (every tier, a hold, the grace
 * period: the Step Functions backstop), counted from the request's creation. Whether the holder may still
 * decide is checked separately on every POST: the request's own round, expiry and current tier.
 */
export function linkExpiresAt(row: Pick<StoredRequest, 'createdAt'>, config: DeploymentConfig): number {
  return Math.floor(Date.parse(row.createdAt) / 1000) + backstopSeconds(config);
}

function recipientsOf(row: StoredRequest, group: ReviewerGroup): string[] {
  return group.tiers[row.tier - 1]?.members ?? [];
}

/**
 * Email every member of the current tier, log `notified`, and record the tier and round as notified.
 * If SES refuses some messages the rest still count: the request is reachable. If it refuses all, throw
 * so the caller's retry sends them again.
 */
export async function notifyCurrentTier(deps: ReviewDeps, row: StoredRequest): Promise<SentReviewEmail[]> {
  const group = groupOf(deps.config, row);
  const ring = await deps.keyRing();
  const expiresAt = linkExpiresAt(row, deps.config);
  const recipients = recipientsOf(row, group).map((approver) => ({
    approver,
    link: reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt }, ring),
  }));

  let sent: SentReviewEmail[];
  let failed: string[] = [];
  try {
    sent = await sendReviewEmails(deps.ses, { sender: deps.config.sender, request: visibleRow(row), group, now: deps.now(), recipients });
  } catch (err) {
    if (!(err instanceof EmailDeliveryError) || err.sent.length === 0) throw err;
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
    details: { round: row.round, recipients: sent.map((s) => s.approver), ...(failed.length ? { failed } : {}) },
    ...purgeAt(deps.config, deps.now()),
  });
  await deps.requests.markNotified(row.requestId, row.tier, row.round);
  deps.log.info('Reviewers notified', { requestId: row.requestId, tier: row.tier, round: row.round, recipients: sent.length });
  return sent;
}

/** The DynamoDB TTL attribute for rows and events, when the deployment sets a retention. */
export function purgeAt(config: DeploymentConfig, now: Date): { purgeAt?: number } {
  return config.retentionDays ? { purgeAt: Math.floor(now.getTime() / 1000) + config.retentionDays * 86_400 } : {};
}
