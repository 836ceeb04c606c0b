/**
 * What follows a request's end off the reviewer's request path: on each `hitl.decision` event (a rule on the
 * decision bus runs the conclude function), the other reviewers get their outcome notice (outcome-notice.ts)
 * and each channel shows the outcome where it showed the request (Slack updates its message).
 *
 * Trusts only the event's request id: anyone allowed to put events on the bus could forge a detail, so the
 * row is read and a request that has not ended gets nothing. At least once, like the event itself: a repeated
 * event finds the notice claimed on the row (sent once), and the Slack update replaces the message with the
 * same outcome again. Throws only when the table cannot be reached, so the invocation is retried.
 */
import { FINAL_STATUSES } from '../store/model.ts';
import { describeError } from './decisions.ts';
import { notifyConcluded, type ConcludedDeps } from './notify.ts';
import { sendOutcomeNotices, type OutcomeNoticeDeps, type OutcomeNoticeResult } from './outcome-notice.ts';

export type ConcludeDeps = OutcomeNoticeDeps & ConcludedDeps;

export type ConcludeResult = { concluded: true; notices: OutcomeNoticeResult } | { concluded: false; reason: 'not-found' | 'not-final' };

export async function concludeRequest(deps: ConcludeDeps, requestId: string): Promise<ConcludeResult> {
  const row = await deps.requests.get(requestId);
  if (!row) {
    deps.log.warn('A decision event names a request that does not exist; nobody told', { requestId });
    return { concluded: false, reason: 'not-found' };
  }
  if (!FINAL_STATUSES.includes(row.status) || !row.decision) {
    deps.log.warn('A decision event names a request that has not ended; nobody told', { requestId, status: row.status });
    return { concluded: false, reason: 'not-final' };
  }
  const [notices] = await Promise.allSettled([sendOutcomeNotices(deps, row), notifyConcluded(deps, row, row.decision)]);
  if (notices.status === 'rejected') {
    // The claim on the row failed (the table out of reach) before anything was sent: the retry sends them.
    deps.log.error('Could not send the outcome notices; the event will be retried', { requestId, error: describeError(notices.reason) });
    throw notices.reason;
  }
  return { concluded: true, notices: notices.value };
}
