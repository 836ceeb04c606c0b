/** The shapes stored in the requests table and the decision log. */
import type { Decision, Vote } from '../schemas/decision.ts';
import type { FallbackPolicy, Kind, ReviewRequest } from '../schemas/review-request.ts';

/**
 * UNDELIVERABLE: no reviewer of the first round could be emailed, so nobody was asked; the row is kept
 * for the record and a retry with the same key writes a new request over it.
 */
export type RequestStatus = 'PENDING' | 'DECIDED' | 'EXPIRED' | 'CANCELLED' | 'UNDELIVERABLE';

/** Statuses that end a request; each is written together with its final log event. */
export const FINAL_STATUSES: readonly RequestStatus[] = ['DECIDED', 'EXPIRED', 'CANCELLED'];

/**
 * The policy rule a request was admitted under, as it stood then. Later steps (fallbacks, quorum, the card)
 * use it rather than the config of the moment, so a config change cannot loosen a request already open.
 */
export interface RequestPolicy {
  rule: string;
  /** Why the request went to a person, or why a policy decided it. */
  why: string;
  /** The risk the request is treated at: the policy's, raised by the agent's claim where that is higher. */
  risk: { class: string; reversible: boolean; low: boolean };
  /** Approvals needed from the tier asked, when more than one. */
  quorum?: { approvals: number; denyVetoes: boolean };
}

export interface StoredRequest {
  requestId: string;
  status: RequestStatus;
  kind: Kind;
  agent: string;
  /** `approval#refund`, `verification#email`, or the kind alone: what analysts group by. */
  actionType: string;
  reviewerGroup: string;
  fallback: FallbackPolicy;
  /** The validated request as the agent sent it (defaults applied). */
  request: ReviewRequest;
  /** An approval's argument names in the order the agent sent them; a map's keys keep none (arg-order.ts). */
  argOrder?: string[];
  /**
   * SHA-256 of the canonical request as the agent sent it: the idempotency key is bound to it, so the same
   * key with other content is refused instead of served this request's decision. Missing on older rows.
   */
  requestHash?: string;
  /** 1-based tier of the group's escalation chain currently asked. */
  tier: number;
  /** Each time box (tier change, hold re-notify) starts a new round; schedules and links carry it. */
  round: number;
  /** Set while a hold waits for business hours; the request stays PENDING. */
  heldUntil?: string;
  /** True once the hold fallback has been used, so a second expiry falls back to deny. */
  holdUsed?: boolean;
  /** When reviewers are reminded in each time box (`["50%", "10m"]`), from the policy rule or the group at creation. */
  reminders?: string[];
  /** The round `remindersSent` counts for: reminders sent in that round, recorded before they go out. */
  reminderRound?: number;
  remindersSent?: number;
  /** Tier last emailed; a replayed Step Functions task does not email the same tier twice. */
  notifiedTier?: number;
  notifiedRound?: number;
  createdAt: string;
  /** When the current round's time box ends. */
  expiresAt: string;
  ttlSeconds: number;
  executionArn: string;
  /** Present only until the execution is resumed; never rendered, logged or put in a link. */
  taskToken?: string;
  /**
   * Other executions started with the same agent, idempotency key and content while this one was pending:
   * execution ARN → task token. Each is resumed with the one Decision.
   */
  waiters?: Record<string, string>;
  /**
   * Review emails SES accepted, one entry per recipient and round (`<round>:<address>` → message id), so a
   * replayed round emails only those not sent yet.
   */
  deliveries?: Record<string, string>;
  /**
   * Sparse index key: the group name while PENDING, and after the decision until every waiting execution
   * has been told (so the monitor finds a resume that a crash left undone). Removed with the token.
   */
  pendingGroup?: string;
  /**
   * Sparse index key of an in-app request: the respondent's user id while PENDING; removed by the write
   * that ends the request.
   */
  pendingRespondent?: string;
  decision?: Decision;
  /** When SendTaskSuccess was accepted; missing on a DECIDED row means the resume must be retried. */
  resumedAt?: string;
  /** When the `hitl.decision` event was accepted by the bus; missing on a final row means it is still owed. */
  eventPublishedAt?: string;
  /** When the outcome notice to the other reviewers was claimed (once per request; see channels/outcome-notice.ts). */
  outcomeNoticeAt?: string;
  /** The Slack message showing the request (its latest round), updated in place when the request ends. */
  slackMessage?: { channel: string; ts: string; round: number };
  /**
   * Set by whoever is sending SendTaskSuccess right now (the decision write claims it), so concurrent
   * callers do not resume twice; released on a transient failure, considered abandoned once stale.
   */
  resumeClaimedAt?: string;
  /** Escalation history for the card: tier names, when each began, and who escalated (a person, when one did). */
  history?: { tier: number; tierName: string; at: string; why: string; by?: string }[];
  /** Missing on rows written before policies. */
  policy?: RequestPolicy;
  /** Quorum votes, keyed `<round>:<address in lower case>`. */
  votes?: Record<string, Vote>;
  /** Votes cast so far: each vote's write expects the count it read, so concurrent votes are counted one at a time. */
  voteCount?: number;
  purgeAt?: number;
  /** The outcome of the Decision's webhook (`request.notify`), written once with its log event. */
  webhook?: WebhookRecord;
}

export interface WebhookRecord {
  outcome: 'delivered' | 'failed';
  at: string;
  attempts: number;
  /** The receiver's last HTTP status, when it answered. */
  status?: number;
  /** Why it failed. */
  reason?: string;
}

export type LogEventType =
  | 'created'
  | 'notified'
  | 'decided'
  | 'expired'
  | 'cancelled'
  | 'escalated'
  | 'held'
  | 'renotified'
  /** The round's reviewers were reminded that its time box runs out (details: round, reminder, expiresAt). */
  | 'reminded'
  | 'corrected'
  | 'resumed'
  /** A reviewer's vote under a quorum (the deciding one is followed by the final event). */
  | 'voted'
  /** Another execution with the same key and content was served (or is waiting for) this request's Decision. */
  | 'replayed'
  /** A task token came back with a payload that is not the stored Decision; the execution was failed. */
  | 'forged'
  /** No reviewer of the first round could be emailed: the request was closed so the agent can retry. */
  | 'undeliverable'
  /** The Decision was POSTed to the request's `notify.url` and the receiver answered 2xx. */
  | 'webhook-delivered'
  /** Every attempt to POST the Decision to `notify.url` failed, or the URL was no longer allowed. */
  | 'webhook-failed'
  /** A reviewer's auto-approve rule ("trust this action for N hours") was created or revoked; keyed `trust-rule#<id>`. */
  | 'trust-rule-created'
  | 'trust-rule-revoked';

export interface LogEvent {
  requestId: string;
  eventKey: string;
  event: LogEventType;
  at: string;
  actor: string;
  tier: number;
  details?: Record<string, unknown>;
  /** On final decisions only (sparse index keys). */
  agent?: string;
  actionType?: string;
  day?: string;
  decision?: Decision;
  purgeAt?: number;
}
