/**
 * One row of the `decisions` table from a final log event and its request: the `hitl_decision` record
 * flattened (JSON-valued fields as JSON text) plus the columns analysts filter and group by. The same
 * function feeds the stream to S3 (functions/decision-stream.ts), `hitl sql` and `hitl report`, so the three
 * agree on every definition.
 */
import { wallClock } from '../policies/business-hours.ts';
import { buildHitlDecision, decisionExtrasOf, isOutOfHours, isPersonDecision } from '../review/decision-record.ts';
import { disagreementOf } from '../review/eval-export.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { Decision } from '../schemas/decision.ts';
import type { LogEvent, StoredRequest } from '../store/model.ts';

export interface DecisionRow {
  request_id: string;
  user_id: string | null;
  action_type: string;
  agent_proposed: string | null;
  agent_reason: string | null;
  human_decision: string;
  human_feedback: string | null;
  decision_latency_ms: number;
  kind: string;
  agent: string;
  policy: string | null;
  channel: string | null;
  tier: number;
  round: number;
  out_of_hours: boolean | null;
  time_on_card_ms: number | null;
  event: string;
  reviewer_group: string | null;
  by_person: boolean;
  asked_people: boolean;
  reason: string | null;
  reason_key: string | null;
  disagreement: string | null;
  fallback: string | null;
  risk_class: string | null;
  reversible: boolean | null;
  confidence: number | null;
  ttl_seconds: number | null;
  /** ISO 8601, UTC. */
  requested_at: string;
  decided_at: string;
  requested_local_hour: number;
  /** UTC day of `decided_at`: the partition. */
  day: string;
}

/** Log events that end a request and carry its Decision. */
export const FINAL_EVENT_NAMES: readonly string[] = ['decided', 'expired', 'corrected', 'cancelled'];

/** Routing policies decide on arrival: those requests never waited for anyone. */
const ARRIVAL_POLICIES: readonly string[] = ['auto-approve', 'auto-answer'];

/**
 * Before the channel was recorded on the log, the signed email link was the only way a person decided.
 */
export const DEFAULT_CHANNEL = 'email';

/** The request fields a row reads; any of them may be missing once the request row is purged. */
export type RequestFacts = Pick<StoredRequest, 'requestId' | 'reviewerGroup' | 'request' | 'ttlSeconds' | 'fallback'> & Partial<Pick<StoredRequest, 'round'>>;

export interface RowSource {
  /** A final event (`decided`, `expired`, `corrected`, `cancelled`) with its Decision. */
  event: LogEvent & { decision: Decision };
  /** The request's row; undefined when it is gone (retention). */
  request?: RequestFacts;
  /** For out-of-hours and the group's local hour when the event does not record them. */
  config?: DeploymentConfig;
}

/** Reasons that differ only in case, spacing or trailing punctuation count as one. */
export function normalizeReason(reason: string): string {
  return reason.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.!;,\s]+$/, '');
}

export function isFinalEvent(event: Pick<LogEvent, 'event' | 'decision'>): event is LogEvent & { decision: Decision } {
  return event.decision !== undefined && FINAL_EVENT_NAMES.includes(event.event);
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export function decisionRow({ event, request, config }: RowSource): DecisionRow {
  const d = event.decision;
  const extras = decisionExtrasOf(event.details);
  const person = isPersonDecision(d);
  const groupName = request?.reviewerGroup ?? request?.request.reviewerGroup;
  const group = groupName ? config?.reviewerGroups[groupName] : undefined;
  const detailRound = event.details?.round;
  const round = typeof detailRound === 'number' ? detailRound : (request?.round ?? 1);
  const outOfHours = extras.outOfHours ?? isOutOfHours(group, d.requestedAt);
  const record = buildHitlDecision(
    {
      requestId: event.requestId,
      agent: event.agent ?? request?.request.agent ?? 'unknown',
      actionType: event.actionType ?? d.kind,
      kind: d.kind,
      round,
      ...(request ? { request: request.request } : {}),
    },
    d,
    {
      channel: extras.channel ?? DEFAULT_CHANNEL,
      ...(extras.timeOnCardMs !== undefined ? { timeOnCardMs: extras.timeOnCardMs } : {}),
      ...(outOfHours !== undefined ? { outOfHours } : {}),
    },
  );
  const reason = d.reason ?? null;
  const r = request?.request;
  return {
    request_id: record.request_id,
    user_id: record.user_id,
    action_type: record.action_type,
    agent_proposed: json(record.agent_proposed),
    agent_reason: record.agent_reason,
    human_decision: record.human_decision,
    human_feedback: json(record.human_feedback),
    decision_latency_ms: record.decision_latency_ms,
    kind: record.kind,
    agent: record.agent,
    policy: record.policy,
    channel: record.channel,
    tier: record.tier,
    round: record.round,
    out_of_hours: record.out_of_hours,
    time_on_card_ms: record.time_on_card_ms,
    event: event.event,
    reviewer_group: groupName ?? null,
    by_person: person,
    asked_people: !ARRIVAL_POLICIES.includes(d.policy?.name ?? ''),
    reason,
    reason_key: reason === null ? null : normalizeReason(reason),
    disagreement: person && r ? disagreementOf({ decision: d, request: r }) : null,
    fallback: request?.fallback ?? r?.fallback ?? null,
    risk_class: r?.risk.class ?? null,
    reversible: r?.risk.reversible ?? null,
    confidence: r?.confidence ?? null,
    ttl_seconds: request?.ttlSeconds ?? r?.ttlSeconds ?? null,
    requested_at: d.requestedAt,
    decided_at: d.decidedAt,
    requested_local_hour: wallClock(new Date(d.requestedAt), group?.timeZone ?? 'UTC').hour,
    day: d.decidedAt.slice(0, 10),
  };
}

/** A row as the JSON record the stream sends to Firehose: times as epoch milliseconds, `day` for the partition. */
export function streamRecord(row: DecisionRow): Record<string, unknown> {
  return { ...row, requested_at: Date.parse(row.requested_at), decided_at: Date.parse(row.decided_at) };
}
