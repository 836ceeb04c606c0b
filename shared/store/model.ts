/** The shapes stored in the requests table and the decision log. */
import type { Decision } from '../schemas/decision.ts';
import type { FallbackPolicy, Kind, ReviewRequest } from '../schemas/review-request.ts';

export type RequestStatus = 'PENDING' | 'DECIDED' | 'EXPIRED';

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
  /** 1-based tier of the group's escalation chain currently asked. */
  tier: number;
  /** Each time box (tier change, hold re-notify) starts a new round; schedules and links carry it. */
  round: number;
  /** Set while a hold waits for business hours; the request stays PENDING. */
  heldUntil?: string;
  /** True once the hold fallback has been used, so a second expiry falls back to deny. */
  holdUsed?: boolean;
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
  /** Sparse index key: the group name while PENDING, removed on the decision. */
  pendingGroup?: string;
  decision?: Decision;
  /** When SendTaskSuccess was accepted; missing on a DECIDED row means the resume must be retried. */
  resumedAt?: string;
  /**
   * Set by whoever is sending SendTaskSuccess right now (the decision write claims it), so concurrent
   * callers do not resume twice; released on a transient failure, considered abandoned once stale.
   */
  resumeClaimedAt?: string;
  /** Escalation history for the card: tier names and when each began. */
  history?: { tier: number; tierName: string; at: string; why: string }[];
  purgeAt?: number;
}

export type LogEventType = 'created' | 'notified' | 'decided' | 'expired' | 'escalated' | 'held' | 'renotified' | 'corrected' | 'resumed';

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
