/**
 * The email channel: one SES message per reviewer with their personal signed link (shared/notify.ts), and
 * when the request ends a short outcome notice to the others who were emailed (outcome-notice.ts).
 */
import { EmailDeliveryError, sendReviewEmails, type SentReviewEmail } from '../notify.ts';
import { reviewUrl } from '../signing.ts';
import type { StoredRequest } from '../store/model.ts';
import type { Delivery, Recipient, Reminder } from '../review/channel.ts';
import { describeError, visibleRow } from '../review/decisions.ts';
import type { Channel, ReviewDeps } from '../review/deps.ts';
import { groupOf } from '../review/groups.ts';
import { deliveryKey, linkExpiresAt } from '../review/notify.ts';
import { reminderLine } from '../review/remind.ts';
import { sendOutcomeNotices } from './outcome-notice.ts';
import type { ChannelModule } from './module.ts';

/**
 * Email every recipient with an address not yet emailed in this round, recording each accepted message on
 * the row as SES accepts it. Delivery is at least once per recipient, with a repeat only when a crash falls
 * between SES accepting a message and its record. If SES refuses some messages the rest still count; if
 * nobody in the round has been emailed, throw EmailDeliveryError.
 */
async function deliver(deps: ReviewDeps, row: StoredRequest, recipients: readonly Recipient[]): Promise<Delivery | undefined> {
  const members = recipients.flatMap((r) => (r.email ? [r.email] : []));
  if (members.length === 0) return undefined;
  const group = groupOf(deps.config, row);
  const ring = await deps.keyRing();
  const expiresAt = linkExpiresAt(row, deps.config);
  const already = members.filter((approver) => row.deliveries?.[deliveryKey(row.round, approver)] !== undefined);
  const todo = members.filter((approver) => !already.includes(approver)).map((approver) => ({
    approver,
    link: reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt }, ring),
  }));

  let sent: SentReviewEmail[];
  let failed: string[] = [];
  const onSent = (accepted: SentReviewEmail) => deps.requests.recordDelivery(row.requestId, deliveryKey(row.round, accepted.approver), accepted.messageId);
  try {
    sent = todo.length ? await sendReviewEmails(deps.ses, { sender: deps.config.sender, request: visibleRow(row), group, now: deps.now(), recipients: todo, onSent }) : [];
  } catch (err) {
    if (!(err instanceof EmailDeliveryError) || err.sent.length + already.length === 0) throw err;
    sent = err.sent;
    failed = err.failed.map((f) => f.approver);
    deps.log.error('Some review emails were not accepted', { requestId: row.requestId, failed, error: describeError(err) });
  }
  return { channel: 'email', reached: sent.map((s) => s.approver), already, failed };
}

/**
 * Email the reminder, with the same personal link, to each recipient this round's review email reached (the
 * row records them). Never recorded per recipient: the reminder was claimed once on the row before.
 */
async function remind(deps: ReviewDeps, row: StoredRequest, recipients: readonly Recipient[], reminder: Reminder): Promise<Delivery | undefined> {
  const members = recipients.flatMap((r) => (r.email && row.deliveries?.[deliveryKey(row.round, r.email)] !== undefined ? [r.email] : []));
  if (members.length === 0) return undefined;
  const ring = await deps.keyRing();
  const expiresAt = linkExpiresAt(row, deps.config);
  const todo = members.map((approver) => ({ approver, link: reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt }, ring) }));
  const now = deps.now();
  const args = { sender: deps.config.sender, request: visibleRow(row), group: groupOf(deps.config, row), now, recipients: todo, reminder: reminderLine(reminder, now) };
  try {
    const sent = await sendReviewEmails(deps.ses, args);
    return { channel: 'email', reached: sent.map((s) => s.approver), already: [], failed: [] };
  } catch (err) {
    if (!(err instanceof EmailDeliveryError)) throw err;
    deps.log.warn('Some reminder emails were not accepted', { requestId: row.requestId, error: describeError(err) });
    return { channel: 'email', reached: err.sent.map((s) => s.approver), already: [], failed: err.failed.map((f) => f.approver) };
  }
}

export const emailChannel: Channel = {
  name: 'email',
  primary: true,
  deliver,
  remind,
  // An emailed link shows the outcome when it is opened; the others who were emailed get a notice.
  conclude: (deps, row) => sendOutcomeNotices(deps, row),
};

/** Always on: every member with an address is emailed. */
export const emailChannelModule: ChannelModule = { ownSecret: false, fromEnv: () => emailChannel };
