/**
 * The named queries: the questions the learning loop asks of human decisions, as SQL that runs unchanged in
 * Athena (engine version 3, Trino) and in DuckDB (`hitl sql --named`). They keep to the subset both engines
 * share: CTEs, window functions, `count_if`, `date_trunc`, `IS NOT DISTINCT FROM`, `CAST(… AS DOUBLE)`,
 * `round`; no dialect-only functions. Percentiles are exact nearest-rank (the value at rank ⌈q·n⌉), computed
 * with `row_number()` so both engines give the numbers `hitl report` gives.
 *
 * Every query takes two parameters, the first and last UTC day of the window (`'2026-11-01'`,
 * `'2026-11-30'`), applied to the partition column `day`, so Athena reads only those days.
 */
import { THRESHOLDS } from '../review/report.ts';
import { DECISIONS_TABLE } from './columns.ts';

export interface NamedQuery {
  /** `hitl sql --named <name>`; the Athena named query is `hitl-<name>`. */
  name: string;
  /** What it answers (the Athena named query's description). */
  description: string;
  sql: string;
}

/** People's verdicts on an approval or verification: what a gate's approval and denial rates count. */
const GATE = "kind IN ('approval', 'verification') AND human_decision IN ('approved', 'modified', 'denied')";
const APPROVAL = "kind IN ('approval', 'verification') AND human_decision IN ('approved', 'modified')";

/**
 * The window: every query starts from it. The stream delivers at least once, so a retried batch can write
 * a decision twice; one row per request is kept.
 */
const WINDOW = `d AS (
  SELECT * FROM (
    SELECT ${DECISIONS_TABLE}.*, row_number() OVER (PARTITION BY request_id ORDER BY decided_at) AS copy
    FROM ${DECISIONS_TABLE}
    WHERE day BETWEEN ? AND ?
  ) w
  WHERE copy = 1
)`;

/** Nearest-rank percentile over `ms`, ranked `n` of `total` within its group. */
const pct = (q: number) => `min(CASE WHEN n * 100 >= total * ${Math.round(q * 100)} THEN ms END)`;

const rates: NamedQuery = {
  name: 'rates',
  description: "Approval and denial rates by agent and by action type: people's verdicts on approvals and verifications, expiries, and the share a policy decided.",
  sql: `WITH ${WINDOW},
keyed AS (
  SELECT 'agent' AS scope, agent AS group_key, d.* FROM d
  UNION ALL
  SELECT 'action_type' AS scope, action_type AS group_key, d.* FROM d
),
g AS (
  SELECT keyed.*, by_person AND ${GATE} AS gate FROM keyed
)
SELECT
  scope,
  group_key,
  count(*) AS decisions,
  count_if(by_person) AS by_people,
  count_if(policy IS NOT NULL) AS by_policy,
  count_if(human_decision = 'cancelled') AS cancelled,
  count_if(gate) AS reviews,
  count_if(gate AND human_decision IN ('approved', 'modified')) AS approved,
  count_if(gate AND human_decision = 'modified') AS modified,
  count_if(gate AND human_decision = 'denied') AS denied,
  count_if(event = 'expired') AS expired,
  round(CAST(count_if(gate AND human_decision IN ('approved', 'modified')) AS DOUBLE) / NULLIF(count_if(gate), 0), 4) AS approval_rate,
  round(CAST(count_if(gate AND human_decision = 'denied') AS DOUBLE) / NULLIF(count_if(gate), 0), 4) AS denial_rate,
  round(CAST(count_if(gate AND human_decision = 'modified') AS DOUBLE) / NULLIF(count_if(gate), 0), 4) AS modification_rate,
  round(CAST(count_if(event = 'expired') AS DOUBLE) / count(*), 4) AS expiry_rate,
  round(CAST(count_if(policy IS NOT NULL) AS DOUBLE) / count(*), 4) AS policy_share
FROM g
GROUP BY scope, group_key
ORDER BY scope, decisions DESC, group_key`,
};

const denialReasons: NamedQuery = {
  name: 'denial-reasons',
  description: "Repeated denial reasons per action type (case, spacing and trailing punctuation aside): the five most frequent reasons people gave at least twice.",
  sql: `WITH ${WINDOW},
reasons AS (
  SELECT action_type, reason_key, count(*) AS denials, min(reason) AS example
  FROM d
  WHERE by_person AND human_decision = 'denied' AND reason_key IS NOT NULL AND reason_key <> ''
  GROUP BY action_type, reason_key
),
ranked AS (
  SELECT reasons.*, row_number() OVER (PARTITION BY action_type ORDER BY denials DESC, reason_key) AS place FROM reasons
)
SELECT action_type, reason_key AS reason, denials, example
FROM ranked
WHERE denials >= 2 AND place <= 5
ORDER BY action_type, denials DESC, reason`,
};

const latencyByGroupHour: NamedQuery = {
  name: 'latency-by-group-hour',
  description: "People's decision latency (request to decision) by reviewer group and the hour the request arrived in the group's time zone: count, p50, p90, max in milliseconds.",
  sql: `WITH ${WINDOW},
ranked AS (
  SELECT
    reviewer_group,
    requested_local_hour,
    decision_latency_ms AS ms,
    row_number() OVER (PARTITION BY reviewer_group, requested_local_hour ORDER BY decision_latency_ms) AS n,
    count(*) OVER (PARTITION BY reviewer_group, requested_local_hour) AS total
  FROM d
  WHERE by_person
)
SELECT
  reviewer_group,
  requested_local_hour AS local_hour,
  max(total) AS decisions,
  ${pct(0.5)} AS p50_ms,
  ${pct(0.9)} AS p90_ms,
  max(ms) AS max_ms
FROM ranked
GROUP BY reviewer_group, requested_local_hour
ORDER BY reviewer_group, local_hour`,
};

const outOfHours: NamedQuery = {
  name: 'out-of-hours',
  description: "Requests that waited for people, in and out of their group's business hours: share, expiries, people's latency p50 and p90.",
  sql: `WITH ${WINDOW},
q AS (
  SELECT * FROM d WHERE asked_people AND out_of_hours IS NOT NULL
),
counts AS (
  SELECT reviewer_group, out_of_hours, count(*) AS requests, count_if(by_person) AS by_people, count_if(event = 'expired') AS expired
  FROM q
  GROUP BY reviewer_group, out_of_hours
),
ranked AS (
  SELECT
    reviewer_group,
    out_of_hours,
    decision_latency_ms AS ms,
    row_number() OVER (PARTITION BY reviewer_group, out_of_hours ORDER BY decision_latency_ms) AS n,
    count(*) OVER (PARTITION BY reviewer_group, out_of_hours) AS total
  FROM q
  WHERE by_person
),
latency AS (
  SELECT reviewer_group, out_of_hours, ${pct(0.5)} AS p50_ms, ${pct(0.9)} AS p90_ms
  FROM ranked
  GROUP BY reviewer_group, out_of_hours
)
SELECT
  c.reviewer_group,
  c.out_of_hours,
  c.requests,
  round(CAST(c.requests AS DOUBLE) / sum(c.requests) OVER (PARTITION BY c.reviewer_group), 4) AS share,
  c.by_people,
  c.expired,
  round(CAST(c.expired AS DOUBLE) / c.requests, 4) AS expiry_rate,
  l.p50_ms,
  l.p90_ms
FROM counts c
LEFT JOIN latency l ON l.reviewer_group IS NOT DISTINCT FROM c.reviewer_group AND l.out_of_hours = c.out_of_hours
ORDER BY c.reviewer_group, c.out_of_hours`,
};

const expiriesByPolicy: NamedQuery = {
  name: 'expiries-by-policy',
  description: "Time boxes that ran out, by the request's fallback and the policy that then decided, with the share of that fallback's requests.",
  sql: `WITH ${WINDOW},
asked AS (
  SELECT fallback, count(*) AS requests FROM d WHERE asked_people GROUP BY fallback
),
expiries AS (
  SELECT fallback, policy, human_decision, count(*) AS expiries FROM d WHERE event = 'expired' GROUP BY fallback, policy, human_decision
)
SELECT
  e.fallback,
  e.policy,
  e.human_decision AS outcome,
  e.expiries,
  a.requests,
  round(CAST(e.expiries AS DOUBLE) / a.requests, 4) AS share
FROM expiries e
JOIN asked a ON a.fallback IS NOT DISTINCT FROM e.fallback
ORDER BY e.fallback, e.policy, outcome`,
};

const disagreements: NamedQuery = {
  name: 'disagreements',
  description: 'Eval cases: every decision in which a person disagreed with the agent (denied it, changed it, picked another option than its first, corrected it).',
  sql: `WITH ${WINDOW}
SELECT request_id, agent, action_type, kind, disagreement, human_decision, reason, user_id, decided_at
FROM d
WHERE by_person AND disagreement IS NOT NULL
ORDER BY decided_at, request_id`,
};

const disagreementRates: NamedQuery = {
  name: 'disagreement-rates',
  description: "How often people disagreed with the agent, per action type and how (for disambiguations, other_option counts the agent's top guess being wrong).",
  sql: `WITH ${WINDOW}
SELECT
  action_type,
  count(*) AS decisions,
  count_if(disagreement IS NOT NULL) AS disagreements,
  count_if(disagreement = 'denied') AS denied,
  count_if(disagreement = 'modified') AS modified,
  count_if(disagreement = 'other-option') AS other_option,
  count_if(disagreement = 'corrected') AS corrected,
  round(CAST(count_if(disagreement IS NOT NULL) AS DOUBLE) / count(*), 4) AS disagreement_rate
FROM d
WHERE by_person
GROUP BY action_type
ORDER BY action_type`,
};

const reviewerFatigue: NamedQuery = {
  name: 'reviewer-fatigue',
  description: `Per reviewer: decisions per active hour, median time on card, the share of approvals made within ${THRESHOLDS.fastApprovalMs} ms of opening the card (possible rubber-stamping), and the approval rate beside the group's.`,
  sql: `WITH ${WINDOW},
g AS (
  SELECT d.*, ${GATE} AS gate, ${APPROVAL} AS approval FROM d WHERE by_person
),
card AS (
  SELECT
    reviewer_group,
    user_id,
    time_on_card_ms AS ms,
    row_number() OVER (PARTITION BY reviewer_group, user_id ORDER BY time_on_card_ms) AS n,
    count(*) OVER (PARTITION BY reviewer_group, user_id) AS total
  FROM g
  WHERE time_on_card_ms IS NOT NULL
),
median_card AS (
  SELECT reviewer_group, user_id, ${pct(0.5)} AS median_time_on_card_ms FROM card GROUP BY reviewer_group, user_id
),
per_reviewer AS (
  SELECT
    reviewer_group,
    user_id,
    count(*) AS decisions,
    count(DISTINCT date_trunc('hour', decided_at)) AS active_hours,
    count_if(gate) AS reviews,
    count_if(approval) AS approvals,
    count_if(approval AND time_on_card_ms IS NOT NULL) AS timed_approvals,
    count_if(approval AND time_on_card_ms < ${THRESHOLDS.fastApprovalMs}) AS fast_approvals
  FROM g
  GROUP BY reviewer_group, user_id
),
per_group AS (
  SELECT reviewer_group, count_if(gate) AS reviews, count_if(approval) AS approvals FROM g GROUP BY reviewer_group
)
SELECT
  r.reviewer_group,
  r.user_id,
  r.decisions,
  r.active_hours,
  round(CAST(r.decisions AS DOUBLE) / r.active_hours, 4) AS decisions_per_hour,
  m.median_time_on_card_ms,
  r.timed_approvals,
  r.fast_approvals,
  round(CAST(r.fast_approvals AS DOUBLE) / NULLIF(r.timed_approvals, 0), 4) AS fast_approval_share,
  r.reviews,
  round(CAST(r.approvals AS DOUBLE) / NULLIF(r.reviews, 0), 4) AS approval_rate,
  round(CAST(p.approvals AS DOUBLE) / NULLIF(p.reviews, 0), 4) AS group_approval_rate
FROM per_reviewer r
JOIN per_group p ON p.reviewer_group IS NOT DISTINCT FROM r.reviewer_group
LEFT JOIN median_card m ON m.reviewer_group IS NOT DISTINCT FROM r.reviewer_group AND m.user_id = r.user_id
ORDER BY r.reviewer_group, r.decisions DESC, r.user_id`,
};

const queueDepth: NamedQuery = {
  name: 'queue-depth',
  description: 'Queue depth over time per reviewer group, from the requests decided in the window: per hour in which the queue changed, arrivals, departures, the peak and the depth at the end of the hour.',
  sql: `WITH ${WINDOW},
changes AS (
  SELECT reviewer_group, requested_at AS changed_at, 1 AS delta FROM d WHERE asked_people
  UNION ALL
  SELECT reviewer_group, decided_at AS changed_at, -1 AS delta FROM d WHERE asked_people
),
depth AS (
  SELECT
    reviewer_group,
    changed_at,
    delta,
    sum(delta) OVER (PARTITION BY reviewer_group ORDER BY changed_at, delta ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS depth
  FROM changes
)
SELECT
  reviewer_group,
  date_trunc('hour', changed_at) AS hour,
  count_if(delta = 1) AS arrived,
  count_if(delta = -1) AS decided,
  max(depth) AS peak_depth,
  sum(sum(delta)) OVER (PARTITION BY reviewer_group ORDER BY date_trunc('hour', changed_at)) AS depth_at_end
FROM depth
GROUP BY reviewer_group, date_trunc('hour', changed_at)
ORDER BY reviewer_group, hour`,
};

export const NAMED_QUERIES: readonly NamedQuery[] = [
  rates,
  denialReasons,
  latencyByGroupHour,
  outOfHours,
  expiriesByPolicy,
  disagreements,
  disagreementRates,
  reviewerFatigue,
  queueDepth,
];

export function namedQuery(name: string): NamedQuery | undefined {
  return NAMED_QUERIES.find((q) => q.name === name);
}
