/**
 * The `decisions` table analysts query with SQL: one row per final decision. One column list for the Glue
 * table Athena reads (and Firehose converts to Parquet with), the DuckDB table `hitl sql` builds, and the
 * docs. The first sixteen columns are the `hitl_decision` record; the rest are what analysts filter and
 * group by. JSON-valued fields are JSON text. Times are UTC.
 */
import type { DecisionRow } from './rows.ts';

/** The table name in the Glue database and in DuckDB; named queries read it unqualified. */
export const DECISIONS_TABLE = 'decisions';

export type ColumnType = 'string' | 'boolean' | 'int' | 'bigint' | 'double' | 'timestamp';

export interface Column {
  name: Exclude<keyof DecisionRow, 'day'>;
  type: ColumnType;
  doc: string;
}

export const DECISION_COLUMNS: readonly Column[] = [
  { name: 'request_id', type: 'string', doc: 'the request; leads back to the decision log' },
  { name: 'user_id', type: 'string', doc: 'the person who decided (their address on the email channel); null when a policy decided' },
  { name: 'action_type', type: 'string', doc: 'approval#refund, verification#email, or the kind alone' },
  { name: 'agent_proposed', type: 'string', doc: 'JSON: what the agent put forward (action, draft, first option, task or output)' },
  { name: 'agent_reason', type: 'string', doc: "the agent's reason" },
  { name: 'human_decision', type: 'string', doc: 'the outcome: approved, denied, modified, answered, resolved, corrected, expired, cancelled' },
  { name: 'human_feedback', type: 'string', doc: "JSON: the person's reason, comment, approved arguments, option, draft, result or correction" },
  { name: 'decision_latency_ms', type: 'bigint', doc: 'from the request to the decision' },
  { name: 'kind', type: 'string', doc: 'approval, disambiguation, verification, escalation, correction' },
  { name: 'agent', type: 'string', doc: 'the agent that asked' },
  { name: 'policy', type: 'string', doc: 'the policy that decided (auto-approve, auto-answer, fallback-deny, fallback-approve, backstop); null when a person did' },
  { name: 'channel', type: 'string', doc: 'how the person decided (email, inbox); null when a policy did' },
  { name: 'tier', type: 'int', doc: 'tier of the reviewer group that decided, or was current when a policy did' },
  { name: 'round', type: 'int', doc: 'time box the decision fell in (a new one per escalation or hold)' },
  { name: 'out_of_hours', type: 'boolean', doc: "the request arrived outside the group's business hours; null when unknown" },
  { name: 'time_on_card_ms', type: 'bigint', doc: 'review page opened to decision; null when unknown' },
  { name: 'event', type: 'string', doc: 'the final log event: decided, expired, corrected, cancelled' },
  { name: 'reviewer_group', type: 'string', doc: 'the group asked; null when the request row is gone' },
  { name: 'by_person', type: 'boolean', doc: 'a reviewer decided (not a policy, not a cancellation)' },
  { name: 'asked_people', type: 'boolean', doc: 'the request waited for reviewers (not decided by a routing policy on arrival)' },
  { name: 'reason', type: 'string', doc: "the denial reason, or the policy's why for an expiry" },
  { name: 'reason_key', type: 'string', doc: 'the reason lower-cased, spaces collapsed, trailing punctuation dropped: what repeated reasons group by' },
  { name: 'disagreement', type: 'string', doc: "how a person's decision departs from the agent: denied, modified, other-option, corrected; null when it does not" },
  { name: 'fallback', type: 'string', doc: "the request's fallback policy: deny, approve, escalate, hold" },
  { name: 'risk_class', type: 'string', doc: "the agent's risk class" },
  { name: 'reversible', type: 'boolean', doc: 'the action can be undone' },
  { name: 'confidence', type: 'double', doc: "the agent's confidence, 0 to 1; null when not given" },
  { name: 'ttl_seconds', type: 'int', doc: 'the time box of each round' },
  { name: 'requested_at', type: 'timestamp', doc: 'when the request arrived (UTC)' },
  { name: 'decided_at', type: 'timestamp', doc: 'when it was decided (UTC)' },
  { name: 'requested_local_hour', type: 'int', doc: "hour (0-23) the request arrived, in the group's time zone (UTC when the group is unknown)" },
];

/** The partition column: the UTC day of `decided_at`, YYYY-MM-DD (`day=2026-11-24/` in S3). */
export const PARTITION_COLUMN = { name: 'day', type: 'string', doc: 'UTC day of decided_at, YYYY-MM-DD; the partition' } as const;

/** Hive / Glue type names. */
export const GLUE_TYPES: Readonly<Record<ColumnType, string>> = {
  string: 'string',
  boolean: 'boolean',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  timestamp: 'timestamp',
};

/** DuckDB type names. */
export const DUCKDB_TYPES: Readonly<Record<ColumnType, string>> = {
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  timestamp: 'TIMESTAMP',
};
