/**
 * The bottleneck signals over decision rows, computed the way the named queries (queries.ts) compute them,
 * so `hitl report --json` and `hitl sql --named` give the same numbers for the same window: latency by
 * group and hour, out-of-hours share and latency, expiries by policy, disagreement rates, reviewer fatigue
 * and queue depth over time. Percentiles are nearest-rank; rates are rounded to four decimals as in SQL.
 */
import type { DecisionRow } from './rows.ts';

/** Nearest-rank percentile of sorted values: the value at rank ⌈q·n⌉, in integer arithmetic (q to 0.01%). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  const rank = Math.ceil((Math.round(q * 10_000) * sorted.length) / 10_000);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** part / whole rounded to four decimals, as the named queries round; null without a whole. */
export function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000;
}

const sortedNumbers = (values: number[]) => [...values].sort((a, b) => a - b);

/** People's verdicts on approvals and verifications. */
export function isGateVerdict(r: DecisionRow): boolean {
  return r.by_person && (r.kind === 'approval' || r.kind === 'verification') && ['approved', 'modified', 'denied'].includes(r.human_decision);
}

export function isGateApproval(r: DecisionRow): boolean {
  return isGateVerdict(r) && r.human_decision !== 'denied';
}

function groupRows<K>(rows: readonly DecisionRow[], key: (r: DecisionRow) => K, id: (k: K) => string = (k) => JSON.stringify(k)): { key: K; rows: DecisionRow[] }[] {
  const groups = new Map<string, { key: K; rows: DecisionRow[] }>();
  for (const r of rows) {
    const k = key(r);
    const entry = groups.get(id(k)) ?? { key: k, rows: [] };
    entry.rows.push(r);
    groups.set(id(k), entry);
  }
  return [...groups.values()];
}

/** SQL's ORDER BY: nulls last, then code-point order. */
function compareNullable(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

export interface LatencyByHour {
  reviewerGroup: string | null;
  /** Hour the request arrived, in the group's time zone. */
  localHour: number;
  decisions: number;
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

export function latencyByGroupHour(rows: readonly DecisionRow[]): LatencyByHour[] {
  return groupRows(rows.filter((r) => r.by_person), (r) => [r.reviewer_group, r.requested_local_hour] as const)
    .map(({ key: [reviewerGroup, localHour], rows: rs }) => {
      const ms = sortedNumbers(rs.map((r) => r.decision_latency_ms));
      return { reviewerGroup, localHour, decisions: ms.length, p50Ms: percentile(ms, 0.5), p90Ms: percentile(ms, 0.9), maxMs: ms.at(-1)! };
    })
    .sort((a, b) => compareNullable(a.reviewerGroup, b.reviewerGroup) || a.localHour - b.localHour);
}

export interface OutOfHoursStats {
  reviewerGroup: string | null;
  outOfHours: boolean;
  /** Requests that waited for people. */
  requests: number;
  /** Of the group's requests with a known arrival time relative to its business hours. */
  share: number;
  byPeople: number;
  expired: number;
  expiryRate: number;
  p50Ms: number | null;
  p90Ms: number | null;
}

export function outOfHoursStats(rows: readonly DecisionRow[]): OutOfHoursStats[] {
  const asked = rows.filter((r) => r.asked_people && r.out_of_hours !== null);
  const perGroup = new Map<string | null, number>();
  for (const r of asked) perGroup.set(r.reviewer_group, (perGroup.get(r.reviewer_group) ?? 0) + 1);
  return groupRows(asked, (r) => [r.reviewer_group, r.out_of_hours === true] as const)
    .map(({ key: [reviewerGroup, outOfHours], rows: rs }) => {
      const ms = sortedNumbers(rs.filter((r) => r.by_person).map((r) => r.decision_latency_ms));
      const expired = rs.filter((r) => r.event === 'expired').length;
      return {
        reviewerGroup,
        outOfHours,
        requests: rs.length,
        share: ratio(rs.length, perGroup.get(reviewerGroup)!)!,
        byPeople: ms.length,
        expired,
        expiryRate: ratio(expired, rs.length)!,
        p50Ms: ms.length ? percentile(ms, 0.5) : null,
        p90Ms: ms.length ? percentile(ms, 0.9) : null,
      };
    })
    .sort((a, b) => compareNullable(a.reviewerGroup, b.reviewerGroup) || Number(a.outOfHours) - Number(b.outOfHours));
}

export interface ExpiryStats {
  /** The request's fallback policy. */
  fallback: string | null;
  /** The policy that decided when the time box ran out. */
  policy: string | null;
  outcome: string;
  expiries: number;
  /** Requests with this fallback that waited for people. */
  requests: number;
  share: number;
}

export function expiriesByPolicy(rows: readonly DecisionRow[]): ExpiryStats[] {
  const asked = new Map<string | null, number>();
  for (const r of rows) if (r.asked_people) asked.set(r.fallback, (asked.get(r.fallback) ?? 0) + 1);
  return groupRows(rows.filter((r) => r.event === 'expired'), (r) => [r.fallback, r.policy, r.human_decision] as const)
    .map(({ key: [fallback, policy, outcome], rows: rs }) => {
      const requests = asked.get(fallback) ?? 0;
      return { fallback, policy, outcome, expiries: rs.length, requests, share: ratio(rs.length, requests)! };
    })
    .sort((a, b) => compareNullable(a.fallback, b.fallback) || compareNullable(a.policy, b.policy) || compareNullable(a.outcome, b.outcome));
}

export interface DisagreementStats {
  actionType: string;
  /** Decisions by people. */
  decisions: number;
  disagreements: number;
  denied: number;
  modified: number;
  /** Disambiguations answered with another option than the agent's first: its top guess was wrong. */
  otherOption: number;
  corrected: number;
  disagreementRate: number;
}

export function disagreementRates(rows: readonly DecisionRow[]): DisagreementStats[] {
  return groupRows(rows.filter((r) => r.by_person), (r) => r.action_type)
    .map(({ key: actionType, rows: rs }) => {
      const count = (d: string) => rs.filter((r) => r.disagreement === d).length;
      const disagreements = rs.filter((r) => r.disagreement !== null).length;
      return {
        actionType,
        decisions: rs.length,
        disagreements,
        denied: count('denied'),
        modified: count('modified'),
        otherOption: count('other-option'),
        corrected: count('corrected'),
        disagreementRate: ratio(disagreements, rs.length)!,
      };
    })
    .sort((a, b) => compareNullable(a.actionType, b.actionType));
}

export interface ReviewerStats {
  reviewerGroup: string | null;
  reviewer: string | null;
  decisions: number;
  /** Distinct clock hours (UTC) with at least one decision by this reviewer. */
  activeHours: number;
  decisionsPerHour: number;
  medianTimeOnCardMs: number | null;
  /** Approvals whose time on card is known, and those faster than the threshold. */
  timedApprovals: number;
  fastApprovals: number;
  fastApprovalShare: number | null;
  reviews: number;
  approvalRate: number | null;
  groupApprovalRate: number | null;
}

export function reviewerFatigue(rows: readonly DecisionRow[], fastApprovalMs: number): ReviewerStats[] {
  const people = rows.filter((r) => r.by_person);
  const groupRate = new Map<string | null, number | null>(
    groupRows(people, (r) => r.reviewer_group).map(({ key, rows: rs }) => [key, ratio(rs.filter(isGateApproval).length, rs.filter(isGateVerdict).length)]),
  );
  return groupRows(people, (r) => [r.reviewer_group, r.user_id] as const)
    .map(({ key: [reviewerGroup, reviewer], rows: rs }) => {
      const card = sortedNumbers(rs.flatMap((r) => (r.time_on_card_ms === null ? [] : [r.time_on_card_ms])));
      const approvals = rs.filter(isGateApproval);
      const timed = approvals.filter((r) => r.time_on_card_ms !== null);
      const fast = timed.filter((r) => r.time_on_card_ms! < fastApprovalMs);
      const activeHours = new Set(rs.map((r) => r.decided_at.slice(0, 13))).size;
      const reviews = rs.filter(isGateVerdict).length;
      return {
        reviewerGroup,
        reviewer,
        decisions: rs.length,
        activeHours,
        decisionsPerHour: ratio(rs.length, activeHours)!,
        medianTimeOnCardMs: card.length ? percentile(card, 0.5) : null,
        timedApprovals: timed.length,
        fastApprovals: fast.length,
        fastApprovalShare: ratio(fast.length, timed.length),
        reviews,
        approvalRate: ratio(approvals.length, reviews),
        groupApprovalRate: groupRate.get(reviewerGroup) ?? null,
      };
    })
    .sort((a, b) => compareNullable(a.reviewerGroup, b.reviewerGroup) || b.decisions - a.decisions || compareNullable(a.reviewer, b.reviewer));
}

export interface QueueDepthPoint {
  reviewerGroup: string | null;
  /** Start of the UTC hour, ISO 8601. */
  hour: string;
  arrived: number;
  decided: number;
  peakDepth: number;
  depthAtEnd: number;
}

/**
 * Queue depth over time from the requests decided in the window that waited for people: +1 when one
 * arrives, −1 when it is decided (departures first at the same instant), one point per hour in which the
 * queue changed.
 */
export function queueDepth(rows: readonly DecisionRow[]): QueueDepthPoint[] {
  const points: QueueDepthPoint[] = [];
  for (const { key: reviewerGroup, rows: rs } of groupRows(rows.filter((r) => r.asked_people), (r) => r.reviewer_group)) {
    const changes = rs
      .flatMap((r) => [
        { at: Date.parse(r.requested_at), delta: 1 },
        { at: Date.parse(r.decided_at), delta: -1 },
      ])
      .sort((a, b) => a.at - b.at || a.delta - b.delta);
    let depth = 0;
    let current: QueueDepthPoint | undefined;
    for (const c of changes) {
      depth += c.delta;
      const hour = new Date(Math.floor(c.at / 3_600_000) * 3_600_000).toISOString();
      if (current?.hour !== hour) {
        current = { reviewerGroup, hour, arrived: 0, decided: 0, peakDepth: depth, depthAtEnd: depth };
        points.push(current);
      }
      if (c.delta > 0) current.arrived += 1;
      else current.decided += 1;
      current.peakDepth = Math.max(current.peakDepth, depth);
      current.depthAtEnd = depth;
    }
  }
  return points.sort((a, b) => compareNullable(a.reviewerGroup, b.reviewerGroup) || compareNullable(a.hour, b.hour));
}
