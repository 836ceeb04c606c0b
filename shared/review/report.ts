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
import { decisionRow, isFinalEvent, normalizeReason, type DecisionRow, type RequestFacts } from '../analytics/rows.ts';
import {
  disagreementRates,
  expiriesByPolicy,
  latencyByGroupHour,
  outOfHoursStats,
  percentile,
  queueDepth,
  reviewerFatigue,
  type DisagreementStats,
  type ExpiryStats,
  type LatencyByHour,
  type OutOfHoursStats,
  type QueueDepthPoint,
  type ReviewerStats,
} from '../analytics/signals.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { Decision, Outcome } from '../schemas/decision.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import type { DecisionLog, TimeWindow } from '../store/decision-log.ts';
import type { LogEvent, StoredRequest } from '../store/model.ts';
import { isPersonDecision, isPolicyDecision } from './decision-record.ts';
import type { FinalEvent } from './finalize.ts';

export { isPolicyDecision } from './decision-record.ts';
export { normalizeReason } from '../analytics/rows.ts';
export { percentile } from '../analytics/signals.ts';

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
  /** The decision as a row of the SQL table; built from the other fields when absent. */
  row?: DecisionRow;
}

export interface DecisionQuery {
  window: TimeWindow;
  agent?: string;
  actionType?: string;
}

export interface DecisionSource {
  log: DecisionLog;
  /** The requests table, for each request's group, time box and the request itself. */
  requestsTable: string;
  /**
   * The deployment config, for out-of-hours and local hours where the log does not record them.
   * @default - unknown: out-of-hours only where the log records it, hours in UTC
   */
  config?: DeploymentConfig;
}

/** Latency of human decisions, from the request to the decision. */
export interface LatencyStats {
  p50Ms: number;
  p90Ms: number;
  maxMs: number;
}

export interface ReasonCount {
  /** The reason as first given. */
  reason: string;
  /** What repeats are counted by: lower case, spaces collapsed, trailing punctuation dropped. */
  key: string;
  count: number;
}

export interface GroupStats {
  /** The agent, the action type, or `all`. */
  key: string;
  decisions: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** Decided by a reviewer. */
  byPeople: number;
  byPolicy: number;
  /** Cancelled before anyone decided: neither a person's nor a policy's verdict. */
  cancelled: number;
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

export type FindingRule = 'gate-unnecessary' | 'too-aggressive' | 'consistent-denials' | 'slow-surface' | 'rubber-stamping' | 'out-of-hours';

export interface Finding {
  rule: FindingRule;
  scope: 'agent' | 'actionType' | 'reviewer' | 'reviewerGroup';
  key: string;
  message: string;
}

/** The bottleneck signals; each equals a named query's result (shared/analytics/queries.ts). */
export interface Signals {
  latencyByGroupHour: LatencyByHour[];
  outOfHours: OutOfHoursStats[];
  expiriesByPolicy: ExpiryStats[];
  disagreements: DisagreementStats[];
  reviewers: ReviewerStats[];
  queueDepth: QueueDepthPoint[];
}

export interface DecisionReport {
  generatedAt: string;
  window?: TimeWindow;
  overall: GroupStats;
  byAgent: GroupStats[];
  byActionType: GroupStats[];
  signals: Signals;
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
  /** An approval within this long of opening the card is fast: too fast to have read it? */
  fastApprovalMs: 3000,
  /** Possible rubber-stamping: more than this share of a reviewer's timed approvals are fast, over at least `rubberStampMinApprovals`. */
  rubberStampShare: 0.5,
  rubberStampMinApprovals: 20,
  /**
   * Out-of-hours degradation, over at least `outOfHoursMinRequests` requests out of hours: their expiry rate
   * above `slowExpiryRate` and `outOfHoursRatio` times the in-hours rate, or their median latency
   * `outOfHoursRatio` times the in-hours median.
   */
  outOfHoursMinRequests: 10,
  outOfHoursRatio: 2,
} as const;

export type Thresholds = { [K in keyof typeof THRESHOLDS]: number };

const GATE_KINDS = new Set<Decision['kind']>(['approval', 'verification']);
const GATE_OUTCOMES = new Set<Outcome>(['approved', 'modified', 'denied']);


function median(values: number[]): number | null {
  return values.length === 0 ? null : percentile([...values].sort((a, b) => a - b), 0.5);
}


/** People's denial reasons, most frequent first (ties in code-point order of the key, as SQL orders), at most five. */
function topReasons(decisions: Decision[]): ReasonCount[] {
  const counts = new Map<string, ReasonCount>();
  for (const d of decisions) {
    if (d.outcome !== 'denied' || !isPersonDecision(d) || !d.reason) continue;
    const key = normalizeReason(d.reason);
    if (key === '') continue;
    const entry = counts.get(key) ?? { reason: d.reason.trim(), key, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).slice(0, 5);
}

function rate(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

export function groupStats(key: string, records: readonly DecisionRecord[]): GroupStats {
  const outcomes: Partial<Record<Outcome, number>> = {};
  let byPolicy = 0;
  let cancelled = 0;
  let expired = 0;
  const gate = { approved: 0, modified: 0, denied: 0 };
  const latencies: number[] = [];
  const ttls: number[] = [];
  for (const { decision: d, event, ttlSeconds } of records) {
    outcomes[d.outcome] = (outcomes[d.outcome] ?? 0) + 1;
    if (event === 'expired') expired += 1;
    if (ttlSeconds !== undefined) ttls.push(ttlSeconds);
    if (isPolicyDecision(d)) byPolicy += 1;
    if ((d.outcome as string) === 'cancelled' && !isPolicyDecision(d)) cancelled += 1;
    if (!isPersonDecision(d)) continue;
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
    byPeople: latencies.length,
    byPolicy,
    cancelled,
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

function rubberStamping(s: ReviewerStats, t: Thresholds): string | undefined {
  if (s.timedApprovals < t.rubberStampMinApprovals || s.fastApprovalShare === null || s.fastApprovalShare <= t.rubberStampShare) return undefined;
  const rates = s.approvalRate === null ? '' : `; approves ${pct(s.approvalRate)} of reviews (group ${s.groupApprovalRate === null ? '-' : pct(s.groupApprovalRate)})`;
  return `${pct(s.fastApprovalShare)} of ${s.timedApprovals} approvals came within ${formatDuration(t.fastApprovalMs)} of opening the card${rates}: possible rubber-stamping; gate fewer things, or share the queue`;
}

function outOfHoursDegradation(group: string | null, stats: OutOfHoursStats[], t: Thresholds): string | undefined {
  const inside = stats.find((s) => s.reviewerGroup === group && !s.outOfHours);
  const outside = stats.find((s) => s.reviewerGroup === group && s.outOfHours);
  if (!outside || outside.requests < t.outOfHoursMinRequests) return undefined;
  const why: string[] = [];
  const insideExpiry = inside?.expiryRate ?? 0;
  if (outside.expiryRate > t.slowExpiryRate && outside.expiryRate >= t.outOfHoursRatio * insideExpiry) {
    why.push(`${pct(outside.expiryRate)} of them expired (in hours ${pct(insideExpiry)})`);
  }
  if (outside.p50Ms !== null && inside?.p50Ms != null && outside.p50Ms >= t.outOfHoursRatio * inside.p50Ms && outside.p50Ms > inside.p50Ms) {
    why.push(`half waited over ${formatDuration(outside.p50Ms)} for a person (in hours ${formatDuration(inside.p50Ms)})`);
  }
  if (why.length === 0) return undefined;
  return `${outside.requests} requests (${pct(outside.share)}) arrived out of hours and ${why.join(', and ')}: set an approval SLO with a fallback (hold until morning, escalate to on-call) and watch the queue`;
}

/** The decision as a row of the SQL table, from the record alone when the query step did not build one. */
export function rowOf(record: DecisionRecord): DecisionRow {
  if (record.row) return record.row;
  const d = record.decision;
  return decisionRow({
    event: { requestId: d.requestId, eventKey: `${d.decidedAt}#final`, event: record.event, at: d.decidedAt, actor: d.decidedBy, tier: d.tier, agent: record.agent, actionType: record.actionType, decision: d },
    ...(record.request
      ? { request: { requestId: d.requestId, reviewerGroup: record.request.reviewerGroup ?? '', request: record.request, ttlSeconds: record.ttlSeconds ?? record.request.ttlSeconds ?? 0, fallback: record.request.fallback } }
      : {}),
  });
}

/** The bottleneck signals over the records, as the named queries compute them. */
export function signals(records: readonly DecisionRecord[], t: Thresholds = THRESHOLDS): Signals {
  const rows = records.map(rowOf);
  return {
    latencyByGroupHour: latencyByGroupHour(rows),
    outOfHours: outOfHoursStats(rows),
    expiriesByPolicy: expiriesByPolicy(rows),
    disagreements: disagreementRates(rows),
    reviewers: reviewerFatigue(rows, t.fastApprovalMs),
    queueDepth: queueDepth(rows),
  };
}

/**
 * Aggregate final decisions per agent and per action type, with the bottleneck signals and findings. Gate,
 * denial-reason and latency findings are per action type (that is where a gate or a review card is
 * configured); the denial rate is also judged per agent (the agent is what proposes); rubber-stamping per
 * reviewer; out-of-hours degradation per reviewer group.
 */
export function report(records: readonly DecisionRecord[], now: Date, options: { window?: TimeWindow; thresholds?: Partial<Thresholds> } = {}): DecisionReport {
  const t: Thresholds = { ...THRESHOLDS, ...options.thresholds };
  const byAgent = groupBy(records, (r) => r.agent);
  const byActionType = groupBy(records, (r) => r.actionType);
  const sig = signals(records, t);
  const groups = [...new Set(sig.outOfHours.map((s) => s.reviewerGroup))];
  return {
    generatedAt: now.toISOString(),
    ...(options.window ? { window: options.window } : {}),
    overall: groupStats('all', records),
    byAgent,
    byActionType,
    signals: sig,
    findings: [
      ...findingsFor('actionType', byActionType, [['gate-unnecessary', gateUnnecessary], ['too-aggressive', tooAggressive], ['consistent-denials', consistentDenials], ['slow-surface', slowSurface]], t),
      ...findingsFor('agent', byAgent, [['too-aggressive', tooAggressive]], t),
      ...sig.reviewers.flatMap((s): Finding[] => {
        const message = rubberStamping(s, t);
        return message ? [{ rule: 'rubber-stamping', scope: 'reviewer', key: `${s.reviewer ?? 'unknown'} (${s.reviewerGroup ?? 'unknown group'})`, message }] : [];
      }),
      ...groups.flatMap((g): Finding[] => {
        const message = outOfHoursDegradation(g, sig.outOfHours, t);
        return message ? [{ rule: 'out-of-hours', scope: 'reviewerGroup', key: g ?? 'unknown group', message }] : [];
      }),
    ],
  };
}

const COLUMNS = ['decisions', 'people', 'approved', 'denied', 'modified', 'expired', 'policy', 'p50', 'p90', 'max'] as const;

function row(s: GroupStats): string[] {
  const r = (v: number | null) => (v === null ? '-' : pct(v));
  const l = (v: number | undefined) => (v === undefined ? '-' : formatDuration(v));
  return [s.key, String(s.decisions), String(s.byPeople), r(s.approvalRate), r(s.denialRate), r(s.modificationRate), pct(s.expiryRate), pct(s.policyShare), l(s.latency?.p50Ms), l(s.latency?.p90Ms), l(s.latency?.maxMs)];
}

function aligned(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

function table(title: string, groups: GroupStats[]): string[] {
  return aligned([[title, ...COLUMNS], ...groups.map(row)]);
}

const orDash = (v: number | null, f: (n: number) => string) => (v === null ? '-' : f(v));

function reviewerTable(reviewers: ReviewerStats[]): string[] {
  const rows = reviewers.map((s) => [
    `${s.reviewer ?? 'unknown'} (${s.reviewerGroup ?? '-'})`,
    String(s.decisions),
    s.decisionsPerHour.toFixed(1),
    orDash(s.medianTimeOnCardMs, formatDuration),
    orDash(s.fastApprovalShare, pct),
    orDash(s.approvalRate, pct),
    orDash(s.groupApprovalRate, pct),
  ]);
  return aligned([['reviewer', 'decisions', 'per hour', 'card p50', 'fast approvals', 'approved', 'group approved'], ...rows]);
}

function outOfHoursTable(stats: OutOfHoursStats[]): string[] {
  const rows = stats.map((s) => [
    `${s.reviewerGroup ?? '-'} ${s.outOfHours ? 'out of hours' : 'in hours'}`,
    String(s.requests),
    pct(s.share),
    pct(s.expiryRate),
    orDash(s.p50Ms, formatDuration),
    orDash(s.p90Ms, formatDuration),
  ]);
  return aligned([['arrived', 'requests', 'share', 'expired', 'p50', 'p90'], ...rows]);
}

const SCOPE_LABEL: Record<Finding['scope'], string> = { agent: 'agent ', actionType: '', reviewer: 'reviewer ', reviewerGroup: 'group ' };

/** The report as a compact text table and its findings. */
export function formatReport(r: DecisionReport): string {
  const o = r.overall;
  const span = r.window ? ` from ${r.window.from} to ${r.window.to}` : '';
  const cancelled = o.cancelled > 0 ? `, ${o.cancelled} cancelled` : '';
  const lines = [`${o.decisions} decision${o.decisions === 1 ? '' : 's'}${span}: ${o.byPeople} by people, ${o.byPolicy} by policy${cancelled}.`];
  if (o.decisions === 0) return lines.join('\n');
  lines.push('Rates of approved, denied and modified are over people\'s verdicts on approvals and verifications; latency is people\'s.', '');
  lines.push(...table('agent', r.byAgent), '', ...table('action type', r.byActionType), '');
  if (r.signals.reviewers.length > 0) lines.push(...reviewerTable(r.signals.reviewers), '');
  if (r.signals.outOfHours.length > 0) lines.push(...outOfHoursTable(r.signals.outOfHours), '');
  if (r.findings.length === 0) lines.push('No findings.');
  else lines.push('Findings:', ...r.findings.map((f) => `- ${SCOPE_LABEL[f.scope]}${f.key}: ${f.message}`));
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
  return events.filter(isFinalEvent).sort((a, b) => a.at.localeCompare(b.at) || a.requestId.localeCompare(b.requestId));
}

type RequestFields = Pick<StoredRequest, 'requestId' | 'ttlSeconds'> & Partial<Pick<StoredRequest, 'request' | 'reviewerGroup' | 'fallback' | 'round'>>;

const BATCH_GET_LIMIT = 100;
const REQUEST_FIELDS = ['requestId', 'ttlSeconds', 'request', 'reviewerGroup', 'fallback', 'round'] as const;

/** Request rows by id (BatchGetItem, 100 at a time, unprocessed keys retried), with the fields analytics reads. */
export async function requestRows(doc: DynamoDBDocumentClient, tableName: string, ids: string[]): Promise<Map<string, RequestFields>> {
  const rows = new Map<string, RequestFields>();
  const names = Object.fromEntries(REQUEST_FIELDS.map((f, i) => [`#f${i}`, f]));
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

/** The row's request facts, when the row and its request are there. */
function requestFacts(found: RequestFields | undefined): RequestFacts | undefined {
  if (!found?.request) return undefined;
  return {
    requestId: found.requestId,
    request: found.request,
    reviewerGroup: found.reviewerGroup ?? found.request.reviewerGroup ?? '',
    ttlSeconds: found.ttlSeconds,
    fallback: found.fallback ?? found.request.fallback,
    ...(found.round !== undefined ? { round: found.round } : {}),
  };
}

/** Final events and their request rows as decision records, each with its SQL row. */
export function recordsOf(events: readonly LogEvent[], requests: ReadonlyMap<string, RequestFields>, options: { withRequest?: boolean; config?: DeploymentConfig } = {}): DecisionRecord[] {
  return events.filter(isFinalEvent).map((e) => {
    const found = requests.get(e.requestId);
    const facts = requestFacts(found);
    return {
      agent: e.agent ?? 'unknown',
      actionType: e.actionType ?? e.decision.kind,
      event: e.event as FinalEvent,
      decision: e.decision,
      ...(found?.ttlSeconds !== undefined ? { ttlSeconds: found.ttlSeconds } : {}),
      ...(options.withRequest && found?.request ? { request: found.request } : {}),
      row: decisionRow({ event: e, ...(facts ? { request: facts } : {}), ...(options.config ? { config: options.config } : {}) }),
    };
  });
}

/** The query step: final decisions for the query, each with its request's time box, its SQL row (and the request itself if asked). */
export async function fetchDecisions(source: DecisionSource, query: DecisionQuery, options: { withRequest?: boolean } = {}): Promise<DecisionRecord[]> {
  const events = await queryDecisionEvents(source.log, query);
  const requests = await requestRows(source.log.doc, source.requestsTable, [...new Set(events.map((e) => e.requestId))]);
  return recordsOf(events, requests, { ...options, ...(source.config ? { config: source.config } : {}) });
}
