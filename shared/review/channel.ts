/**
 * The one interface every channel a request reaches reviewers on implements (email, Slack, …). The review
 * services call it without knowing which channels exist: `deliver` when a round starts, `remind` before a
 * round's time box runs out, `conclude` when the request ends, and `interactions` for a channel whose
 * reviewers answer through an endpoint of its own (Slack's button clicks). Which channels a deployment has is
 * decided where its config is read (shared/channels/registry.ts), and they reach the services in their deps.
 */
import type { Decision } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';

/** A channel's name, as a Decision's `channel` records it. */
export type ChannelName = NonNullable<Decision['channel']>;

/** A member who may decide the request, with their identity on each channel (see memberId). */
export interface Recipient {
  /** Their one identity: the email address, else `slack:<user id>`. */
  id: string;
  email?: string;
  slack?: string;
}

export interface Delivery {
  channel: ChannelName;
  /** Recipients reached by this call. */
  reached: string[];
  /** Recipients this round had already reached (a replayed round). */
  already: string[];
  /** Recipients the channel refused; the rest still count. */
  failed: string[];
  /** What the `notified` (or `reminded`) log event records for this channel. */
  details?: Record<string, unknown>;
}

/** A reminder of a round's time box: when it runs out and what happens then. */
export interface Reminder {
  /** Which of the round's reminders this is (1 for the first). */
  number: number;
  /** When the round's time box ends. */
  expiresAt: Date;
  /** The fallback that applies then, in words ("the request is denied"). */
  then: string;
}

/** A request to a channel's own endpoint, as received (a signature covers the raw body byte for byte). */
export interface ChannelHttpRequest {
  body: string;
  header(name: string): string | undefined;
}

export interface ChannelHttpResponse {
  status: number;
  /** JSON to answer with; none means an empty body. */
  json?: unknown;
}

/**
 * One channel. `Deps` is what the review services run with; `ConcludeDeps` the less the conclude function
 * has. Every method is idempotent per round: a replay reaches only whom the row does not record as reached.
 */
export interface ReviewChannel<Deps, ConcludeDeps = Deps> {
  readonly name: ChannelName;
  /**
   * The channel whose recipients the `notified` event lists at its top level (`recipients`, `alreadySent`,
   * `failed`); the others are under `channels.<name>`. Email, for the log's readers from before channels.
   */
  readonly primary?: boolean;
  /**
   * Reach every recipient this channel can reach, for the request's current round, once. Returns undefined
   * when none of them is on this channel; throws when the channel reached none of them.
   */
  deliver(deps: Deps, request: StoredRequest, recipients: readonly Recipient[]): Promise<Delivery | undefined>;
  /** Remind the recipients where the round was delivered. Best effort: undefined when nobody is on this channel. */
  remind(deps: Deps, request: StoredRequest, recipients: readonly Recipient[], reminder: Reminder): Promise<Delivery | undefined>;
  /**
   * The request ended (any channel, expiry, cancel): show the outcome where the request was shown, tell whom the
   * channel tells. Throws only when a retry of the decision event would help (the table out of reach); the
   * channel logs its own best-effort failures. Returns what the conclude function reports for this channel.
   */
  conclude(deps: ConcludeDeps, request: StoredRequest, decision: Decision): Promise<unknown>;
  /** An endpoint on the review API for the channel's own answers (POST only). */
  readonly interactions?: {
    path: string;
    handle(deps: Deps, request: ChannelHttpRequest): Promise<ChannelHttpResponse>;
  };
}
