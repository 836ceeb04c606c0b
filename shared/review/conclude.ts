/**
 * What follows a request's end off the reviewer's request path: on each `hitl.decision` event (a rule on the
 * decision bus runs the conclude function), each channel of the deployment concludes it: shows the outcome
 * where it showed the request and tells whom it tells (email sends the other reviewers their outcome notice,
 * Slack updates its message).
 *
 * Trusts only the event's request id: anyone allowed to put events on the bus could forge a detail, so the
 * row is read and a request that has not ended gets nothing. At least once, like the event itself: a channel
 * makes a repeated event harmless (the email notice is claimed on the row and sent once; the Slack update
 * replaces the message with the same outcome again). Throws when a channel could not conclude in a way a
 * retry mends (the table out of reach), so the invocation is retried.
 */
import { FINAL_STATUSES } from '../store/model.ts';
import { describeError } from './decisions.ts';
import type { ConcludeDeps } from './deps.ts';

export type ConcludeResult = { concluded: true; channels: Record<string, unknown> } | { concluded: false; reason: 'not-found' | 'not-final' };

export async function concludeRequest(deps: ConcludeDeps, requestId: string): Promise<ConcludeResult> {
  const row = await deps.requests.get(requestId);
  if (!row) {
    deps.log.warn('A decision event names a request that does not exist; nobody told', { requestId });
    return { concluded: false, reason: 'not-found' };
  }
  const decision = row.decision;
  if (!FINAL_STATUSES.includes(row.status) || !decision) {
    deps.log.warn('A decision event names a request that has not ended; nobody told', { requestId, status: row.status });
    return { concluded: false, reason: 'not-final' };
  }
  const results = await Promise.allSettled(deps.channels.map((channel) => channel.conclude(deps, row, decision)));
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const reason = (results[failed] as PromiseRejectedResult).reason;
    // E.g. the outcome notice's claim on the row failed before anything was sent: the retry sends it.
    deps.log.error('A channel could not conclude the request; the event will be retried', { requestId, channel: deps.channels[failed]!.name, error: describeError(reason) });
    throw reason;
  }
  return { concluded: true, channels: Object.fromEntries(deps.channels.map((c, i) => [c.name, (results[i] as PromiseFulfilledResult<unknown>).value])) };
}
