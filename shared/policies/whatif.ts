/**
 * What-if replay: the decision log's requests routed again under a proposed policy. Routing is pure and
 * samples are deterministic per request, so the replay says exactly which requests a person would have
 * seen: the reviews a looser policy saves, the reviews a tighter one adds, and the price of loosening, the
 * people's denials, modifications and corrections that would have passed without anyone looking.
 */
import { printableJson } from '../render/inert-text.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { PolicyName } from '../schemas/decision.ts';
import { disagreementOf } from '../review/eval-export.ts';
import { isPolicyDecision, type DecisionRecord } from '../review/report.ts';
import { planRoute, type RoutePolicy } from './routing.ts';
import { resolveRule } from './rules.ts';

/** Policies that decide at the route, before anyone is asked; every other Decision went to people. */
// A trust rule (a reviewer's, for a few hours) decides at the route too; the replay, which has no trust rules, sends those requests to people.
const ROUTE_POLICIES: ReadonlySet<PolicyName> = new Set<RoutePolicy | 'trust-rule'>(['auto-approve', 'auto-answer', 'not-sampled', 'below-risk-threshold', 'trust-rule']);

export type PassedKind = 'denied' | 'modified' | 'corrected';

export interface WhatIfCounts {
  /** Final decisions replayed (those whose request row is still there). */
  decisions: number;
  /** Sent to people as it happened. */
  reviewedBefore: number;
  /** Would be sent to people under the proposed policy. */
  reviewedAfter: number;
  /** Reviewed before, not under the proposal. */
  saved: number;
  /** Not reviewed before, reviewed under the proposal. */
  added: number;
  /** People's disagreements among the saved reviews: what would pass unreviewed. */
  wouldPass: Record<PassedKind, number>;
}

export interface WhatIfGroup extends WhatIfCounts {
  agent: string;
  actionType: string;
}

/** One decision a person disagreed with that the proposal would let through. */
export interface PassingCase {
  requestId: string;
  agent: string;
  actionType: string;
  kind: PassedKind;
  outcome: string;
  reason?: string;
  decidedAt: string;
  /** The proposal's rule and why it would pass. */
  rule: string;
  why: string;
}

export interface WhatIfResult {
  total: WhatIfCounts;
  groups: WhatIfGroup[];
  passing: PassingCase[];
  /** Decisions left out: their request rows are gone (retention), so they cannot be routed again. */
  missingRequests: number;
}

const emptyCounts = (): WhatIfCounts => ({ decisions: 0, reviewedBefore: 0, reviewedAfter: 0, saved: 0, added: 0, wouldPass: { denied: 0, modified: 0, corrected: 0 } });

export function wasReviewed(record: Pick<DecisionRecord, 'decision'>): boolean {
  const name = record.decision.policy?.name;
  return name === undefined || !ROUTE_POLICIES.has(name);
}

function add(counts: WhatIfCounts, before: boolean, after: boolean, passed: PassedKind | undefined): void {
  counts.decisions += 1;
  if (before) counts.reviewedBefore += 1;
  if (after) counts.reviewedAfter += 1;
  if (before && !after) counts.saved += 1;
  if (!before && after) counts.added += 1;
  if (passed) counts.wouldPass[passed] += 1;
}

/** Route every decided request again under `proposed` and compare with what happened. */
export function whatIf(records: readonly DecisionRecord[], proposed: DeploymentConfig): WhatIfResult {
  const total = emptyCounts();
  const groups = new Map<string, WhatIfGroup>();
  const passing: PassingCase[] = [];
  let missingRequests = 0;
  for (const record of records) {
    const request = record.request;
    if (!request) {
      missingRequests += 1;
      continue;
    }
    const requestId = record.decision.requestId;
    const resolved = resolveRule(proposed, request);
    const plan = planRoute(request, requestId, proposed, resolved);
    const before = wasReviewed(record);
    const after = plan.route === 'review';
    let passed: PassedKind | undefined;
    if (before && !after && !isPolicyDecision(record.decision)) {
      const disagreement = disagreementOf({ ...record, request });
      passed = disagreement === null ? undefined : disagreement === 'other-option' ? 'modified' : disagreement;
    }
    if (passed) {
      passing.push({
        requestId,
        agent: record.agent,
        actionType: record.actionType,
        kind: passed,
        outcome: record.decision.outcome,
        ...(record.decision.reason !== undefined ? { reason: record.decision.reason } : {}),
        decidedAt: record.decision.decidedAt,
        rule: resolved.rule.name,
        why: plan.why,
      });
    }
    const key = `${record.agent}\n${record.actionType}`;
    let group = groups.get(key);
    if (!group) {
      group = { agent: record.agent, actionType: record.actionType, ...emptyCounts() };
      groups.set(key, group);
    }
    add(group, before, after, passed);
    add(total, before, after, passed);
  }
  const sorted = [...groups.values()].sort((a, b) => a.agent.localeCompare(b.agent) || a.actionType.localeCompare(b.actionType));
  return { total, groups: sorted, passing, missingRequests };
}

export function passingCount(counts: WhatIfCounts): number {
  return counts.wouldPass.denied + counts.wouldPass.modified + counts.wouldPass.corrected;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

/** The replay as a text table per agent and action type, then the decisions that would pass unreviewed. */
export function formatWhatIf(result: WhatIfResult): string {
  const t = result.total;
  const lines = [
    `${t.decisions} decision${t.decisions === 1 ? '' : 's'} replayed: ${t.reviewedBefore} went to people, ${t.reviewedAfter} would under the proposed policy ` +
      `(${t.saved} review${t.saved === 1 ? '' : 's'} saved, ${t.added} added).`,
  ];
  if (result.missingRequests) lines.push(`${result.missingRequests} left out: their request rows are gone (retention).`);
  if (t.decisions === 0) return lines.join('\n');
  const head = ['agent', 'action type', 'decisions', 'reviewed', 'would be', 'saved', 'added', 'denials', 'modifications', 'corrections'];
  const row = (g: WhatIfGroup) => [g.agent, g.actionType, ...[g.decisions, g.reviewedBefore, g.reviewedAfter, g.saved, g.added, g.wouldPass.denied, g.wouldPass.modified, g.wouldPass.corrected].map(String)];
  lines.push('', 'Denials, modifications and corrections: people\'s, on requests that would now pass without review.', '', ...table([head, ...result.groups.map(row)]), '');
  const n = passingCount(t);
  if (n === 0) {
    lines.push('Nothing a person denied, changed or corrected would pass unreviewed.');
  } else {
    lines.push(`${n} decision${n === 1 ? '' : 's'} a person disagreed with would pass unreviewed:`);
    for (const c of result.passing) {
      const reason = c.reason === undefined ? '' : ` ${printableJson(c.reason)}`;
      lines.push(`- ${c.requestId} ${c.agent} ${c.actionType}: ${c.outcome}${reason}; rule ${c.rule}: ${c.why}`);
    }
  }
  return lines.join('\n');
}
