/**
 * Reminders before a round's time box runs out (the group's or the policy rule's `reminders`). The Scheduler
 * drives them: when a round starts, its first reminder is scheduled; each reminder, once claimed, schedules the
 * next. A reminder is claimed on the row with its `reminded` event in one transaction, only while the request
 * is pending in that round and that reminder was not claimed yet: a firing after the decision, a repeated
 * firing or one for an old round claims nothing and sends nothing. At most once: a crash between the claim
 * and the channels loses that reminder, which only informs.
 */
import { planFallback, type FallbackPlan } from '../policies/fallback.ts';
import { reminderTimes } from '../policies/reminders.ts';
import { formatDuration, formatTimeLeft } from '../render/time.ts';
import { createRoundSchedule } from '../schedules.ts';
import type { StoredRequest } from '../store/model.ts';
import type { Delivery, Reminder } from './channel.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { groupOf, tierOf } from './groups.ts';
import { purgeAt, recipientsOf } from './notify.ts';

export type RemindResult = { result: 'no-op'; why: string } | { result: 'reminded'; reminder: number; channels: Delivery[]; next?: string };

/** The current round's reminder times: its time box runs from `expiresAt - ttlSeconds` to `expiresAt`. */
function roundReminders(row: StoredRequest): Date[] {
  if (!row.reminders?.length || row.heldUntil) return [];
  const end = new Date(row.expiresAt);
  return reminderTimes(row.reminders, new Date(end.getTime() - row.ttlSeconds * 1000), end);
}

/**
 * Schedule the round's first reminder still ahead of `now` (none when it has none). Called wherever a round
 * starts; the schedule's name carries the reminder's number, so a replay creates nothing new.
 */
export async function scheduleReminder(deps: ReviewDeps, row: StoredRequest, after = deps.now()): Promise<string | undefined> {
  const times = roundReminders(row);
  const index = times.findIndex((t) => t.getTime() > after.getTime());
  if (index < 0) return undefined;
  await createRoundSchedule(deps.scheduler, deps.schedules, { action: 'remind', requestId: row.requestId, tier: row.tier, round: row.round, reminder: index + 1 }, times[index]!);
  return times[index]!.toISOString();
}

/** What happens when the time box ends, in words for the reminder ("the request is denied"). */
export function fallbackInWords(plan: FallbackPlan, row: StoredRequest, deps: Pick<ReviewDeps, 'config'>): string {
  switch (plan.action) {
    case 'decide':
      return plan.outcome === 'approved' ? 'it is approved by the fallback policy' : 'it is denied (expired)';
    case 'escalate':
      return `it goes to ${tierOf(groupOf(deps.config, row), plan.toTier)?.name ?? `tier ${plan.toTier}`}`;
    case 'hold':
      return 'it is held for business hours and sent again';
  }
}

/** The line a reminder leads with, in every channel's words: "Reminder: this request expires in 10 min, then …". */
export function reminderLine(reminder: Reminder, now: Date): string {
  return `Reminder: this request ${formatTimeLeft(reminder.expiresAt, now)}, then ${reminder.then}.`;
}

/** The Scheduler's `remind` event: remind the round's reviewers, on each channel they were reached on. */
export async function remindRound(deps: ReviewDeps, ref: { requestId: string; tier: number; round: number; reminder: number }): Promise<RemindResult> {
  const row = await deps.requests.get(ref.requestId);
  const stale = !row ? `no request ${ref.requestId}` : row.status !== 'PENDING' ? `request is already ${row.status.toLowerCase()}` : row.round !== ref.round || row.tier !== ref.tier ? 'request moved on to another round' : undefined;
  if (!row || stale) {
    deps.log.info('Reminder firing changes nothing', { requestId: ref.requestId, round: ref.round, why: stale });
    return { result: 'no-op', why: stale ?? 'gone' };
  }
  const now = deps.now();
  const expiresAt = new Date(row.expiresAt);
  const group = groupOf(deps.config, row);
  const reminder: Reminder = { number: ref.reminder, expiresAt, then: fallbackInWords(planFallback(row, group, deps.config, expiresAt), row, deps) };
  const claimed = await deps.ledger.reminded(row.requestId, row.round, ref.reminder, {
    requestId: row.requestId,
    event: 'reminded',
    at: now.toISOString(),
    actor: 'system',
    tier: row.tier,
    details: { round: row.round, reminder: ref.reminder, expiresAt: row.expiresAt, expiresIn: formatDuration(expiresAt.getTime() - now.getTime()), then: reminder.then },
    ...purgeAt(deps.config, now),
  });
  if (!claimed) {
    deps.log.info('Reminder already sent, or the request ended first', { requestId: row.requestId, round: row.round, reminder: ref.reminder });
    return { result: 'no-op', why: 'already reminded, or the request ended or moved on' };
  }

  const recipients = recipientsOf(row, group);
  const channels: Delivery[] = [];
  for (const channel of deps.channels) {
    try {
      const delivery = await channel.remind(deps, row, recipients, reminder);
      if (delivery) channels.push(delivery);
    } catch (err) {
      deps.log.warn('A channel could not send a reminder', { requestId: row.requestId, channel: channel.name, error: describeError(err) });
    }
  }
  const next = await scheduleReminder(deps, row, now);
  deps.log.info('Reviewers reminded', { requestId: row.requestId, round: row.round, reminder: ref.reminder, reached: channels.reduce((n, d) => n + d.reached.length, 0) });
  return { result: 'reminded', reminder: ref.reminder, channels, ...(next ? { next } : {}) };
}
