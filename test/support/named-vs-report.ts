/**
 * Every named query's result beside the numbers `hitl report --json` gives for the same window, mapped
 * column to field. Rates are compared as the SQL rounds them (four decimals).
 */
import { expect } from 'vitest';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import type { DecisionReport, GroupStats } from '#shared/review/report.ts';

type Row = Record<string, unknown>;

const r4 = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 10_000) / 10_000);

function rateRow(scope: string, s: GroupStats): Row {
  return {
    scope,
    group_key: s.key,
    decisions: s.decisions,
    by_people: s.byPeople,
    by_policy: s.byPolicy,
    cancelled: s.cancelled,
    reviews: s.gated,
    expired: s.expired,
    approval_rate: r4(s.approvalRate),
    denial_rate: r4(s.denialRate),
    modification_rate: r4(s.modificationRate),
    expiry_rate: r4(s.expiryRate),
    policy_share: r4(s.policyShare),
  };
}

const pick = (row: Row, keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, row[k]]));
const byKey = (rows: Row[], keys: string[]) => [...rows].sort((a, b) => JSON.stringify(keys.map((k) => a[k])).localeCompare(JSON.stringify(keys.map((k) => b[k]))));

/** What each named query must return, from the report. */
export function expectedFromReport(report: DecisionReport): Record<string, Row[]> {
  const s = report.signals;
  return {
    rates: [...report.byAgent.map((g) => rateRow('agent', g)), ...report.byActionType.map((g) => rateRow('action_type', g))],
    'denial-reasons': report.byActionType.flatMap((g) => g.denialReasons.filter((d) => d.count >= 2).map((d) => ({ action_type: g.key, reason: d.key, denials: d.count }))),
    'latency-by-group-hour': s.latencyByGroupHour.map((l) => ({ reviewer_group: l.reviewerGroup, local_hour: l.localHour, decisions: l.decisions, p50_ms: l.p50Ms, p90_ms: l.p90Ms, max_ms: l.maxMs })),
    'out-of-hours': s.outOfHours.map((o) => ({ reviewer_group: o.reviewerGroup, out_of_hours: o.outOfHours, requests: o.requests, share: o.share, by_people: o.byPeople, expired: o.expired, expiry_rate: o.expiryRate, p50_ms: o.p50Ms, p90_ms: o.p90Ms })),
    'expiries-by-policy': s.expiriesByPolicy.map((e) => ({ fallback: e.fallback, policy: e.policy, outcome: e.outcome, expiries: e.expiries, requests: e.requests, share: e.share })),
    disagreements: s.disagreements.filter((d) => d.disagreements > 0).map((d) => ({ action_type: d.actionType, rows: d.disagreements })),
    'disagreement-rates': s.disagreements.map((d) => ({ action_type: d.actionType, decisions: d.decisions, disagreements: d.disagreements, denied: d.denied, modified: d.modified, other_option: d.otherOption, corrected: d.corrected, disagreement_rate: d.disagreementRate })),
    'reviewer-fatigue': s.reviewers.map((v) => ({
      reviewer_group: v.reviewerGroup,
      user_id: v.reviewer,
      decisions: v.decisions,
      active_hours: v.activeHours,
      decisions_per_hour: v.decisionsPerHour,
      median_time_on_card_ms: v.medianTimeOnCardMs,
      timed_approvals: v.timedApprovals,
      fast_approvals: v.fastApprovals,
      fast_approval_share: v.fastApprovalShare,
      reviews: v.reviews,
      approval_rate: v.approvalRate,
      group_approval_rate: v.groupApprovalRate,
    })),
    'queue-depth': s.queueDepth.map((q) => ({ reviewer_group: q.reviewerGroup, hour: q.hour, arrived: q.arrived, decided: q.decided, peak_depth: q.peakDepth, depth_at_end: q.depthAtEnd })),
  };
}

/** The SQL result in the shape `expectedFromReport` gives (the disagreement list counted per action type). */
export function comparable(name: string, rows: Row[], expected: Row[]): Row[] {
  if (name === 'disagreements') {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(String(r.action_type), (counts.get(String(r.action_type)) ?? 0) + 1);
    return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([action_type, n]) => ({ action_type, rows: n }));
  }
  const keys = Object.keys(expected[0] ?? rows[0] ?? {});
  return rows.map((r) => pick(r, keys));
}

/** Run every named query with `run` and compare with the report; returns how many rows each gave. */
export async function expectNamedQueriesMatchReport(run: (name: string) => Promise<Row[]>, report: DecisionReport): Promise<Record<string, number>> {
  const expected = expectedFromReport(report);
  const sizes: Record<string, number> = {};
  for (const q of NAMED_QUERIES) {
    const want = expected[q.name];
    if (!want) throw new Error(`no report mapping for the named query ${q.name}`);
    const got = comparable(q.name, await run(q.name), want);
    sizes[q.name] = got.length;
    const keys = Object.keys(want[0] ?? got[0] ?? {}).slice(0, 3);
    expect(byKey(got, keys), `named query ${q.name}`).toEqual(byKey(want, keys));
  }
  return sizes;
}
