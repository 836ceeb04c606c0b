/**
 * One interface for every channel a request reaches reviewers on (email, Slack, …). `notifyCurrentTier`
 * hands each configured notifier the tier's eligible members; `notifyConcluded` (run by the conclude function
 * on the decision event) tells each one how it ended.
 */
import type { Decision } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';

export type Channel = NonNullable<Decision['channel']>;

/** A member who may decide the request, with their identity on each channel (see memberId). */
export interface Recipient {
  /** Their one identity: the email address, else `slack:<user id>`. */
  id: string;
  email?: string;
  slack?: string;
}

export interface Delivery {
  channel: Channel;
  /** Recipients reached by this call. */
  reached: string[];
  /** Recipients this round had already reached (a replayed round). */
  already: string[];
  /** Recipients the channel refused; the rest still count. */
  failed: string[];
  /** What the `notified` log event records for this channel. */
  details?: Record<string, unknown>;
}

export interface Notifier {
  readonly channel: Channel;
  /**
   * Reach every recipient this channel can reach, for the request's current round, once: a replayed round
   * reaches only those not recorded yet. Returns undefined when none of them is on this channel; throws
   * when the channel reached none of them.
   */
  deliver(request: StoredRequest, recipients: readonly Recipient[]): Promise<Delivery | undefined>;
  /** The request ended (any channel, expiry, cancel): show the outcome where the request was shown. Best effort. */
  concluded(request: StoredRequest, decision: Decision): Promise<void>;
}
