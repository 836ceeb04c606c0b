/**
 * The analyst's report: what the human decisions say about each agent and each gated action. The query
 * step reads final decisions through the decision log's sparse indexes (never a Scan); `report()` is pure
 * aggregation over them, with findings that follow the rules of thumb for human-in-the-loop gates:
 * near-total approval means the gate may be unnecessary, frequent denials mean the agent proposes too
 * aggressively, a repeated denial reason marks a class of wrong decisions, slow decisions mean the review
 * surface does not work.
 */
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { printableJson } from '../render/inert-text.ts';
import type { Decision, Outcome } from '../schemas/decision.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import { FINAL_EVENTS, type DecisionLog, type TimeWindow } from '../store/decision-log.ts';
import type { LogEvent, StoredRequest } from '../store/model.ts';
import type { FinalEvent } from './finalize.ts';

/** One final decision with what the analyst groups it by. */
export interface DecisionRecord {
  agent: string;
  /** `approval#refund`, `verification#email`, or the kind alone. */
  actionType: string;
  event: FinalEvent;
  decision: Decision;
  /** The request's time box; absent once its row is gone (retention). */
  ttlSeconds?: number;
  /** The request as the agent sent it, when asked for (the eval export needs it). */
  request?: ReviewRequest;
}

export interface DecisionQuery {
  window: TimeWindow;
  agent?: string;
  actionType?: string;
}

export interface DecisionSource {
  log: DecisionLog;
  /** The requests table, for each request's time box and (for the export) the request itself. */
  requestsTable: string;
}

/** Latency of human decisions, from the request to the decision. */
export interface LatencyStats {
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface GroupStats {
  /** The agent, the action type, or `all`. */
  key: string;
  decisions: number;
  outcomes: Partial<Record<Outcome, number>>;
  byPeople: number;
  byPolicy: number;
  /** Decided by a policy (auto-approval, auto-answer, a fallback) rather than a person. */
  policyShare: number;
  /** The time box ran out, whatever the fallback then did. */
  expired: number;
  expiryRate: number;
  /** People's approve / modify / deny decisions on approval and verification requests: the gate's verdicts. */
  gated: number;
  /** (approved + modified) / gated; null without gated decisions. */
  approvalRate: number | null;
  denialRate: number | null;
  modificationRate: number | null;
  latency: LatencyStats | null;
  /** Median time box of the requests whose rows are still there. */
  medianTtlSeconds: number | null;
  /** People's denial reasons, most frequent first (at most five). */
  denialReasons: ReasonCount[];
}

export type FindingRule = 'gate-unnecessary' | 'too-aggressive' | 'consistent-denials' | 'slow-surface';

export interface Finding {
  rule: FindingRule;
  scope: 'agent' | 'actionType';
  key: string;
  message: string;
}

export interface DecisionReport {
  generatedAt: string;
  window?: TimeWindow;
  overall: GroupStats;
  byAgent: GroupStats[];
  byActionType: GroupStats[];
  findings: Finding[];
}

/** The findings' thresholds. The minimum counts keep a handful of decisions from raising a finding. */
export const THRESHOLDS = {
  /** Gate probably unnecessary: approval rate above this over at least `gateMinDecisions` gated decisions. */
  gateApprovalRate: 0.99,
  gateMinDecisions: 100,
  /** Agent too aggressive: denial rate above this over at least `aggressiveMinDecisions` gated decisions. */
  aggressiveDenialRate: 0.1,
  aggressiveMinDecisions: 10,
  /** Consistent denials: the same reason (case and trailing punctuation aside) at least this often. */
  denialReasonRepeats: 3,
  /**
   * Slow surface, over at least `slowMinDecisions` decisions: the p90 of people's latency above this share
   * of the requests' time box (or above `slowLatencyWithoutTtlMs` when no time box is known), or more
   * than `slowExpiryRate` of the requests expired.
   */
  slowShareOfTtl: 0.5,
  slowLatencyWithoutTtlMs: 10 * 60_000,
  slowExpiryRate: 0.1,
  slowMinDecisions: 10,
} as const;

export type Thresholds = { [K in keyof typeof THRESHOLDS]: number };

const GATE_KINDS = new Set<Decision['kind']>(['approval', 'verification']);
const GATE_OUTCOMES = new Set<Outcome>(['approved', 'modified', 'denied']);

/** Decided by a policy rather than a person (every Decision names its rule; only a policy's carries a name). */
export function isPolicyDecision(decision: Decision): boolean {
  return decision.policy?.name !== undefined;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;
}

function median(values: number[]): number | null {
  return values.length === 0 ? null : percentile([...values].sort((a, b) => a - b), 0.5);
}

/** Reasons that differ only in case, spacing or trailing punctuation count as one. */
export function normalizeReason(reason: string): string {
  return reason.trim().toLowerCase().replace(/\s+/g, ' ').replace(/[.!;,\s]+$/, '');
}

function topReasons(decisions: Decision[]): ReasonCount[] {
  const counts = new Map<string, ReasonCount>();
  for (const d of decisions) {
    if (d.outcome !== 'denied' || isPolicyDecision(d) || !d.reason) continue;
    const key = normalizeReason(d.reason);
    const entry = counts.get(key) ?? { reason: d.reason.trim(), count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)).slice(0, 5);
}

function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function groupStats(key: string, records: readonly DecisionRecord[]): GroupStats {
  const outcomes: Partial<Record<Outcome, number>> = {};
  let byPolicy = 0;
  let expired = 0;
  const gate = { approved: 0, modified: 0, denied: 0 };
  const latencies: number[] = [];
  const ttls: number[] = [];
  for (const { decision: d, event, ttlSeconds } of records) {
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    if (event === 'expired') expired += 1;
    if (ttlSeconds !== undefined) ttls.push(ttlSeconds);
    if (isPolicyDecision(d)) {
      byPolicy += 1;
      continue;
    }
    latencies.push(d.latencyMs);
    if (GATE_KINDS.has(d.kind) && GATE_OUTCOMES.has(d.outcome)) gate[d.outcome as keyof typeof gate] += 1;
  }
  const gated = gate.approved + gate.modified + gate.denied;
  latencies.sort((a, b) => a - b);
  const n = records.length;
  return {
    key,
    decisions: n,
    outcomes,
    byPeople: n - byPolicy,
    byPolicy,
    policyShare: rate(byPolicy, n) ?? 0,
    expired,
    expiryRate: rate(expired, n) ?? 0,
    gated,
    approvalRate: rate(gate.approved + gate.modified, gated),
    denialRate: rate(gate.denied, gated),
    modificationRate: rate(gate.modified, gated),
    latency: latencies.length === 0 ? null : { p50Ms: percentile(latencies, 0.5), p90Ms: percentile(latencies, 0.9), maxMs: latencies.at(-1)! },
    medianTtlSeconds: median(ttls),
    denialReasons: topReasons(records.map((r) => r.decision)),
  };
}

function groupBy(records: readonly DecisionRecord[], key: (r: DecisionRecord) => string): GroupStats[] {
  const groups = new Map<string, DecisionRecord[]>();
  for (const r of records) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return [...groups.entries()].map(([k, rs]) => groupStats(k, rs)).sort((a, b) => b.decisions - a.decisions || a.key.localeCompare(b.key));
}

function pct(r: number): string {
  return `${Math.round(r * 1000) / 10}%`;
}

/** 850 ms, 12.3 s, 4.5 min, 2.1 h */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

function gateUnnecessary(s: GroupStats, t: Thresholds): string | undefined {
  if (s.gated < t.gateMinDecisions || s.approvalRate === null || s.approvalRate <= t.gateApprovalRate) return undefined;
  return `approved ${pct(s.approvalRate)} of ${s.gated} reviews: the gate is probably unnecessary; hitl suggest proposes a rule (auto-approval or a review sample, where a policy may) and hitl whatif checks it`;
}

function tooAggressive(s: GroupStats, t: Thresholds): string | undefined {
  if (s.gated < t.aggressiveMinDecisions || s.denialRate === null || s.denialRate <= t.aggressiveDenialRate) return undefined;
  return `denied ${pct(s.denialRate)} of ${s.gated} reviews (above ${pct(t.aggressiveDenialRate)}): the agent proposes too aggressively; tighten it upstream`;
}

function consistentDenials(s: GroupStats, t: Thresholds): string | undefined {
  const repeated = s.denialReasons.filter((r) => r.count >= t.denialReasonRepeats);
  if (repeated.length === 0) return undefined;
  // A reason is a person's free text: quoted as JSON, so no line break or escape sequence in it acts.
  const list = repeated.map((r) => `${printableJson(r.reason)} ×${r.count}`).join(', ');
  return `denied repeatedly for the same reason: ${list}; this class of proposals is wrong, investigate`;
}

function slowSurface(s: GroupStats, t: Thresholds): string | undefined {
  if (s.decisions < t.slowMinDecisions) return undefined;
  const why: string[] = [];
  if (s.latency && s.byPeople >= t.slowMinDecisions) {
    const limit = s.medianTtlSeconds === null ? t.slowLatencyWithoutTtlMs : s.medianTtlSeconds * 1000 * t.slowShareOfTtl;
    if (s.latency.p90Ms > limit) {
      const of = s.medianTtlSeconds === null ? '' : ` (${pct(t.slowShareOfTtl)} of the ${formatDuration(s.medianTtlSeconds * 1000)} time box)`;
      why.push(`1 in 10 decisions takes over ${formatDuration(s.latency.p90Ms)}, more than ${formatDuration(limit)}${of}`);
    }
  }
  if (s.expiryRate > t.slowExpiryRate) why.push(`${pct(s.expiryRate)} of requests expired before anyone decided`);
  if (why.length === 0) return undefined;
  return `slow decisions: ${why.join('; ')}. The review surface is not working for its reviewers; redesign it or who receives it`;
}

function findingsFor(scope: Finding['scope'], groups: GroupStats[], rules: [FindingRule, (s: GroupStats, t: Thresholds) => string | undefined][], t: Thresholds): Finding[] {
  return groups.flatMap((s) => rules.flatMap(([rule, check]) => {
    const message = check(s, t);
    return message ? [{ rule, scope, key: s.key, message }] : [];
  }));
}

/**
 * Aggregate final decisions per agent and per action type, with findings. Gate, denial-reason and latency
 * findings are per action type (that is where a gate or a review card is configured); the denial rate is
 * also judged per agent (the agent is what proposes).
 */
export function report(records: readonly DecisionRecord[], now: Date, options: { window?: TimeWindow; thresholds?: Partial<Thresholds> } = {}): DecisionReport {
  const t: Thresholds = { ...THRESHOLDS, ...options.thresholds };
  const byAgent = groupBy(records, (r) => r.agent);
  const byActionType = groupBy(records, (r) => r.actionType);
  return {
    generatedAt: now.toISOString(),
    ...(options.window ? { window: options.window } : {}),
    overall: groupStats('all', records),
    byAgent,
    byActionType,
    findings: [
      ...findingsFor('actionType', byActionType, [['gate-unnecessary', gateUnnecessary], ['too-aggressive', tooAggressive], ['consistent-denials', consistentDenials], ['slow-surface', slowSurface]], t),
      ...findingsFor('agent', byAgent, [['too-aggressive', tooAggressive]], t),
    ],
  };
}

const COLUMNS = ['decisions', 'people', 'approved', 'denied', 'modified', 'expired', 'policy', 'p50', 'p90', 'max'] as const;

function row(s: GroupStats): string[] {
  const r = (v: number | null) => (v === null ? '-' : pct(v));
  const l = (v: number | undefined) => (v === undefined ? '-' : formatDuration(v));
  return [s.key, String(s.decisions), String(s.byPeople), r(s.approvalRate), r(s.denialRate), r(s.modificationRate), pct(s.expiryRate), pct(s.policyShare), l(s.latency?.p50Ms), l(s.latency?.p90Ms), l(s.latency?.maxMs)];
}

function table(title: string, groups: GroupStats[]): string[] {
  const rows = [[title, ...COLUMNS], ...groups.map(row)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

/** The report as a compact text table and its findings. */
export function formatReport(r: DecisionReport): string {
  const o = r.overall;
  const span = r.window ? ` from ${r.window.from} to ${r.window.to}` : '';
  const lines = [`${o.decisions} decision${o.decisions === 1 ? '' : 's'}${span}: ${o.byPeople} by people, ${o.byPolicy} by policy.`];
  if (o.decisions === 0) return lines.join('\n');
  lines.push('Rates of approved, denied and modified are over people\'s verdicts on approvals and verifications; latency is people\'s.', '');
  lines.push(...table('agent', r.byAgent), '', ...table('action type', r.byActionType), '');
  if (r.findings.length === 0) lines.push('No findings.');
  else lines.push('Findings:', ...r.findings.map((f) => `- ${f.scope === 'agent' ? 'agent ' : ''}${f.key}: ${f.message}`));
  return lines.join('\n');
}

/**
 * Final decisions matching the query, by Query on the index the filter picks: `decisions-by-action` when
 * an action type is given (an agent filter is then applied to its results), `decisions-by-agent` for an
 * agent, otherwise `decisions-by-day` over the window's days.
 */
export async function queryDecisionEvents(log: DecisionLog, query: DecisionQuery): Promise<LogEvent[]> {
  let events: LogEvent[];
  if (query.actionType !== undefined) {
    events = (await log.decisionsByActionType(query.actionType, query.window)).filter((e) => query.agent === undefined || e.agent === query.agent);
  } else if (query.agent !== undefined) {
    events = await log.decisionsByAgent(query.agent, query.window);
  } else {
    events = await log.decisionsInWindow(query.window);
  }
  return events.filter((e) => e.decision && FINAL_EVENTS.includes(e.event)).sort((a, b) => a.at.localeCompare(b.at) || a.requestId.localeCompare(b.requestId));
}

type RequestFields = Pick<StoredRequest, 'requestId' | 'ttlSeconds'> & Partial<Pick<StoredRequest, 'request'>>;

const BATCH_GET_LIMIT = 100;

/** Request rows by id (BatchGetItem, 100 at a time, unprocessed keys retried); only the fields named. */
async function requestRows(doc: DynamoDBDocumentClient, tableName: string, ids: string[], withRequest: boolean): Promise<Map<string, RequestFields>> {
  const rows = new Map<string, RequestFields>();
  const names: Record<string, string> = { '#id': 'requestId', '#ttl': 'ttlSeconds', ...(withRequest ? { '#req': 'request' } : {}) };
  const projection = Object.keys(names).join(', ');
  for (let i = 0; i < ids.length; i += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] | undefined = ids.slice(i, i + BATCH_GET_LIMIT).map((requestId) => ({ requestId }));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      const out: BatchGetCommandOutput = await doc.send(
        new BatchGetCommand({ RequestItems: { [tableName]: { Keys: keys, ProjectionExpression: projection, ExpressionAttributeNames: names } } }),
      );
      for (const item of out.Responses?.[tableName] ?? []) rows.set(String(item.requestId), item as RequestFields);
      keys = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return rows;
}

/** The query step: final decisions for the query, each with its request's time box (and the request itself if asked). */
export async function fetchDecisions(source: DecisionSource, query: DecisionQuery, options: { withRequest?: boolean } = {}): Promise<DecisionRecord[]> {
  const events = await queryDecisionEvents(source.log, query);
  const rows = await requestRows(source.log.doc, source.requestsTable, [...new Set(events.map((e) => e.requestId))], options.withRequest ?? false);
  return events.map((e) => {
    const found = rows.get(e.requestId);
    return {
      agent: e.agent ?? 'unknown',
      actionType: e.actionType ?? e.decision!.kind,
      event: e.event as FinalEvent,
      decision: e.decision!,
      ...(found?.ttlSeconds !== undefined ? { ttlSeconds: found.ttlSeconds } : {}),
      ...(found?.request ? { request: found.request } : {}),
    };
  });
}
