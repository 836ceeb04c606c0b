/** The analyst's report: aggregation and findings over hand-built decisions, and the query step's index choice. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { reportWindow } from '#local/cli.ts';
import type { DecisionRow } from '#shared/analytics/rows.ts';
import { fetchDecisions, formatReport, groupStats, percentile, report, rowOf, type DecisionRecord } from '#shared/review/report.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { DecisionLog } from '#shared/store/decision-log.ts';
import type { LogEvent } from '#shared/store/model.ts';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { ReviewRequest } from '#shared/schemas/review-request.ts';

const DEMO = ReviewRequest.parse(DEMO_REQUEST);

const NOW = new Date('2026-11-24T18:00:00Z');
const MIN = 60_000;
let seq = 0;

function decision(overrides: Partial<Decision> = {}): Decision {
  const requestedAt = '2026-11-24T10:00:00.000Z';
  const latencyMs = overrides.latencyMs ?? MIN;
  return {
    requestId: `r${++seq}`,
    kind: 'approval',
    outcome: 'approved',
    decidedBy: 'lead@example.com',
    tier: 1,
    requestedAt,
    decidedAt: new Date(Date.parse(requestedAt) + latencyMs).toISOString(),
    latencyMs,
    ...overrides,
  };
}

function record(overrides: Partial<Decision> = {}, extras: Partial<DecisionRecord> = {}): DecisionRecord {
  const d = decision(overrides);
  return {
    agent: 'support-agent',
    actionType: d.kind === 'approval' ? 'approval#refund' : d.kind,
    event: d.outcome === 'corrected' ? 'corrected' : 'decided',
    decision: d,
    ttlSeconds: 1800,
    ...extras,
  };
}

const approve = (n: number, extras: Partial<DecisionRecord> = {}, latencyMs = MIN) => Array.from({ length: n }, () => record({ outcome: 'approved', latencyMs }, extras));
const deny = (n: number, reason = 'not eligible', extras: Partial<DecisionRecord> = {}) => Array.from({ length: n }, () => record({ outcome: 'denied', reason }, extras));
const autoApproved = () => record({ decidedBy: 'policy:auto-approve', policy: { name: 'auto-approve', why: 'low risk' }, latencyMs: 0 });
const expiredDenied = () =>
  record({ outcome: 'expired', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny', why: 'no decision within 30 min' }, latencyMs: 30 * MIN }, { event: 'expired' });

function rules(records: DecisionRecord[]) {
  return report(records, NOW).findings.map((f) => `${f.scope}:${f.key}:${f.rule}`);
}

describe('report: rates and latency', () => {
  const records = [
    ...[1, 2, 3].map((m) => record({ outcome: 'approved', latencyMs: m * MIN })),
    record({ outcome: 'modified', latencyMs: 4 * MIN, proposedArgs: { amount_usd: 350 }, approvedArgs: { amount_usd: 200 } }),
    record({ outcome: 'denied', reason: 'wrong amount', latencyMs: 5 * MIN }),
    record({ outcome: 'denied', reason: 'duplicate', latencyMs: 6 * MIN }),
    autoApproved(),
    expiredDenied(),
    record({ kind: 'disambiguation', outcome: 'answered', chosenOption: { id: 'b', label: 'B' }, latencyMs: 10 * MIN }, { agent: 'triage-bot' }),
  ];
  const r = report(records, NOW, { window: { from: '2026-11-17T18:00:00.000Z', to: NOW.toISOString() } });

  it('counts outcomes, people and policies per action type; rates are over people\'s verdicts on the gate', () => {
    const refund = r.byActionType.find((s) => s.key === 'approval#refund')!;
    expect(refund).toMatchObject({
      decisions: 8,
      outcomes: { approved: 4, modified: 1, denied: 2, expired: 1 },
      byPeople: 6,
      byPolicy: 2,
      policyShare: 0.25,
      expired: 1,
      expiryRate: 0.125,
      gated: 6,
      medianTtlSeconds: 1800,
    });
    expect(refund.approvalRate).toBeCloseTo(4 / 6);
    expect(refund.denialRate).toBeCloseTo(2 / 6);
    expect(refund.modificationRate).toBeCloseTo(1 / 6);
  });

  it('latency percentiles are people\'s only (nearest rank); the expired request\'s 30 min is not one', () => {
    const refund = r.byActionType.find((s) => s.key === 'approval#refund')!;
    expect(refund.latency).toEqual({ p50Ms: 3 * MIN, p90Ms: 6 * MIN, maxMs: 6 * MIN });
  });

  it('groups by agent and overall; a disambiguation has no gate rates of its own', () => {
    expect(r.byAgent.map((s) => [s.key, s.decisions])).toEqual([['support-agent', 8], ['triage-bot', 1]]);
    const triage = r.byAgent.find((s) => s.key === 'triage-bot')!;
    expect(triage).toMatchObject({ gated: 0, approvalRate: null, denialRate: null, outcomes: { answered: 1 } });
    expect(r.overall).toMatchObject({ key: 'all', decisions: 9, byPeople: 7, gated: 6 });
    expect(r.overall.latency!.maxMs).toBe(10 * MIN);
    expect(r.window).toEqual({ from: '2026-11-17T18:00:00.000Z', to: NOW.toISOString() });
    expect(r.generatedAt).toBe(NOW.toISOString());
  });

  it('prints a table per dimension and the findings', () => {
    const text = formatReport(r);
    expect(text).toContain('9 decisions from 2026-11-17T18:00:00.000Z to 2026-11-24T18:00:00.000Z: 7 by people, 2 by policy.');
    const refundLine = text.split('\n').find((l) => l.startsWith('approval#refund'))!;
    expect(refundLine.split(/\s{2,}/)).toEqual(['approval#refund', '8', '6', '66.7%', '33.3%', '16.7%', '12.5%', '25%', '3.0 min', '6.0 min', '6.0 min']);
    expect(text).toContain('No findings.');
  });

  it('an empty window is a report of zero decisions', () => {
    const empty = report([], NOW);
    expect(empty.overall).toMatchObject({ decisions: 0, approvalRate: null, latency: null, policyShare: 0 });
    expect(empty.findings).toEqual([]);
    expect(formatReport(empty)).toBe('0 decisions: 0 by people, 0 by policy.');
  });
});

describe('report: findings', () => {
  it('gate probably unnecessary: approval rate above 99% over at least 100 reviews', () => {
    expect(rules(approve(100))).toEqual(['actionType:approval#refund:gate-unnecessary']);
    expect(rules([...approve(199), ...deny(1)])).toEqual(['actionType:approval#refund:gate-unnecessary']);
    expect(rules(approve(99))).toEqual([]); // too few to tell
    expect(rules([...approve(99), ...deny(1)])).toEqual([]); // exactly 99% is not over
    // Policy approvals are not reviews.
    expect(rules([...approve(60), ...Array.from({ length: 60 }, autoApproved)])).toEqual([]);
  });

  it('agent too aggressive: denial rate above 10% over at least 10 reviews, per action type and per agent', () => {
    expect(rules([...approve(9), ...deny(2, 'a')])).toEqual(['actionType:approval#refund:too-aggressive', 'agent:support-agent:too-aggressive']);
    expect(rules([...approve(9), ...deny(1)])).toEqual([]); // 10% is not above
    expect(rules([...approve(2), ...deny(1, 'a'), ...deny(1, 'b')])).toEqual([]); // 4 reviews: too few
    const f = report([...approve(8), ...deny(1, 'a'), ...deny(1, 'b'), ...deny(1, 'c')], NOW).findings[0]!;
    expect(f.message).toContain('denied 27.3% of 11 reviews');
  });

  it('consistent denials: the same reason three times, whatever the case, spacing or final full stop', () => {
    const records = [...deny(1, 'Wrong amount.'), ...deny(1, 'wrong  amount'), ...deny(1, 'WRONG AMOUNT'), ...deny(2, 'customer not eligible')];
    const r = report(records, NOW);
    expect(r.byActionType[0]!.denialReasons).toEqual([
      { reason: 'Wrong amount.', key: 'wrong amount', count: 3 },
      { reason: 'customer not eligible', key: 'customer not eligible', count: 2 },
    ]);
    expect(r.findings.map((f) => f.rule)).toEqual(['consistent-denials']);
    expect(r.findings[0]!.message).toContain('"Wrong amount." ×3');
    expect(r.findings[0]!.message).not.toContain('eligible');
    expect(rules(deny(2, 'wrong amount'))).toEqual([]);
  });

  it('slow surface: p90 of people\'s latency above half the time box, over at least 10 decisions', () => {
    // 9 quick decisions and one at 16 min: p90 is the 9th value, so two slow ones are needed.
    const slow = [...approve(8), ...approve(2, {}, 16 * MIN)];
    expect(rules(slow)).toEqual(['actionType:approval#refund:slow-surface']);
    expect(report(slow, NOW).findings[0]!.message).toContain('1 in 10 decisions takes over 16.0 min, more than 15.0 min (50% of the 30.0 min time box)');
    expect(rules([...approve(8), ...approve(2, {}, 14 * MIN)])).toEqual([]);
    expect(rules([...approve(7), ...approve(2, {}, 16 * MIN)])).toEqual([]); // 9 decisions: too few
    // A longer time box tolerates longer decisions.
    expect(rules([...approve(8, { ttlSeconds: 4 * 3600 }), ...approve(2, { ttlSeconds: 4 * 3600 }, 16 * MIN)])).toEqual([]);
  });

  it('slow surface: without a known time box the limit is 10 min; many expiries count too', () => {
    expect(rules([...approve(8, { ttlSeconds: undefined }), ...approve(2, { ttlSeconds: undefined }, 11 * MIN)])).toEqual(['actionType:approval#refund:slow-surface']);
    const expiring = [...approve(8), expiredDenied(), expiredDenied()];
    expect(rules(expiring)).toEqual(['actionType:approval#refund:slow-surface']);
    expect(report(expiring, NOW).findings[0]!.message).toContain('20% of requests expired before anyone decided');
    expect(rules([...approve(9), expiredDenied()])).toEqual([]);
  });

  it('thresholds can be overridden', () => {
    expect(report(approve(5), NOW, { thresholds: { gateMinDecisions: 5 } }).findings.map((f) => f.rule)).toEqual(['gate-unnecessary']);
  });
});

describe('report: bottleneck findings and cancellations', () => {
  const withRow = (r: DecisionRecord, patch: Partial<DecisionRow>): DecisionRecord => ({ ...r, row: { ...rowOf(r), reviewer_group: 'support-leads', ...patch } });
  const approvals = (n: number, timeOnCardMs: number, reviewer = 'lead2@example.com') =>
    Array.from({ length: n }, () => withRow(record({ outcome: 'approved', decidedBy: reviewer }), { user_id: reviewer, time_on_card_ms: timeOnCardMs }));
  const asked = (n: number, outOfHours: boolean, expired: boolean) =>
    Array.from({ length: n }, () =>
      withRow(expired ? expiredDenied() : record({ outcome: 'approved' }), { out_of_hours: outOfHours }),
    );

  it('possible rubber-stamping: more than half of 20 or more timed approvals within 3 s of opening the card', () => {
    const stamp = (fast: number, slow: number) => report([...approvals(fast, 1200), ...approvals(slow, 45_000)], NOW).findings.filter((f) => f.rule === 'rubber-stamping');
    expect(stamp(11, 9).map((f) => f.key)).toEqual(['lead2@example.com (support-leads)']);
    expect(stamp(11, 9)[0]!.message).toContain('55% of 20 approvals came within 3.0 s of opening the card');
    expect(stamp(10, 10)).toEqual([]); // half is not more than half
    expect(stamp(19, 0)).toEqual([]); // too few
    // Approvals whose time on card is unknown are not counted either way.
    const unknown = Array.from({ length: 30 }, () => withRow(record({ outcome: 'approved', decidedBy: 'lead2@example.com' }), { user_id: 'lead2@example.com', time_on_card_ms: null }));
    expect(report([...unknown, ...approvals(5, 1000)], NOW).findings.filter((f) => f.rule === 'rubber-stamping')).toEqual([]);
  });

  it('out-of-hours degradation: out-of-hours requests expire above 10% and twice as often as in hours', () => {
    const ooh = (outExpired: number, inExpired: number) =>
      report([...asked(10 - outExpired, true, false), ...asked(outExpired, true, true), ...asked(20 - inExpired, false, false), ...asked(inExpired, false, true)], NOW).findings.filter((f) => f.rule === 'out-of-hours');
    expect(ooh(3, 1).map((f) => `${f.scope}:${f.key}`)).toEqual(['reviewerGroup:support-leads']);
    expect(ooh(3, 1)[0]!.message).toContain('10 requests (33.3%) arrived out of hours and 30% of them expired (in hours 5%)');
    expect(ooh(3, 4)).toEqual([]); // 30% is less than twice 20%
    expect(ooh(1, 0)).toEqual([]); // 10% is not above 10%
  });

  it('a cancellation is neither a person\'s nor a policy\'s decision, and no verdict', () => {
    const cancelled = record({ outcome: 'cancelled' as Decision['outcome'], decidedBy: 'agent:support-agent', latencyMs: 9 * MIN }, { event: 'cancelled' as DecisionRecord['event'] });
    const r = report([...approve(2), cancelled], NOW);
    expect(r.overall).toMatchObject({ decisions: 3, byPeople: 2, byPolicy: 0, cancelled: 1, gated: 2, approvalRate: 1 });
    expect(r.overall.latency!.maxMs).toBe(MIN);
    expect(formatReport(r)).toContain('3 decisions: 2 by people, 0 by policy, 1 cancelled.');
  });
});

describe('percentile and group stats', () => {
  it('nearest rank', () => {
    expect(percentile([5], 0.9)).toBe(5);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    // Rank ⌈0.9 × 30⌉ is 27 exactly, as SQL computes it; floating point would give 0.9 × 30 = 27.000000000000004 → 28.
    expect(percentile(Array.from({ length: 30 }, (_, i) => i + 1), 0.9)).toBe(27);
    expect(() => percentile([], 0.5)).toThrow(RangeError);
  });

  it('time boxes are taken from records that know theirs', () => {
    expect(groupStats('x', [...approve(1, { ttlSeconds: 600 }), ...approve(2, { ttlSeconds: undefined })]).medianTtlSeconds).toBe(600);
  });
});

describe('query step', () => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
  const ddb = mockClient(doc);
  const log = new DecisionLog(doc, 'decisions');
  const window = { from: '2026-11-22T12:00:00.000Z', to: '2026-11-24T12:00:00.000Z' };

  function finalEvent(agent: string, requestId: string, at: string): LogEvent {
    const d = decision({ requestId, decidedAt: at });
    return { requestId, eventKey: `${at}#final`, event: 'decided', at, actor: d.decidedBy, tier: 1, agent, actionType: 'approval#refund', day: at.slice(0, 10), decision: d };
  }

  beforeEach(() => {
    ddb.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(BatchGetCommand).resolves({ Responses: { requests: [] } });
  });

  const queries = () => ddb.commandCalls(QueryCommand).map((c) => [c.args[0].input.IndexName, c.args[0].input.ExpressionAttributeValues![':key']]);

  it('an agent filter queries decisions-by-agent; an action type decisions-by-action; nothing else by day; never a Scan', async () => {
    await fetchDecisions({ log, requestsTable: 'requests' }, { window, agent: 'support-agent' });
    expect(queries()).toEqual([['decisions-by-agent', 'support-agent']]);
    ddb.resetHistory();
    await fetchDecisions({ log, requestsTable: 'requests' }, { window, actionType: 'approval#refund' });
    expect(queries()).toEqual([['decisions-by-action', 'approval#refund']]);
    ddb.resetHistory();
    await fetchDecisions({ log, requestsTable: 'requests' }, { window });
    expect(queries()).toEqual([
      ['decisions-by-day', '2026-11-22'],
      ['decisions-by-day', '2026-11-23'],
      ['decisions-by-day', '2026-11-24'],
    ]);
    expect(ddb.commandCalls(QueryCommand)[0]!.args[0].input.ExpressionAttributeValues).toMatchObject({ ':from': window.from, ':to': window.to });
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
  });

  it('agent and action type together: by action, then only that agent\'s; each record gets its request\'s time box', async () => {
    ddb.on(QueryCommand).resolves({ Items: [finalEvent('support-agent', 'r-b', '2026-11-24T09:00:00.000Z'), finalEvent('ops-bot', 'r-x', '2026-11-23T09:00:00.000Z'), finalEvent('support-agent', 'r-a', '2026-11-23T08:00:00.000Z')] });
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { requests: [{ requestId: 'r-a', ttlSeconds: 600 }] }, UnprocessedKeys: { requests: { Keys: [{ requestId: 'r-b' }] } } })
      .resolvesOnce({ Responses: { requests: [{ requestId: 'r-b', ttlSeconds: 900, reviewerGroup: 'support-leads', request: DEMO }] } });

    const records = await fetchDecisions({ log, requestsTable: 'requests' }, { window, agent: 'support-agent', actionType: 'approval#refund' }, { withRequest: true });
    expect(queries()).toEqual([['decisions-by-action', 'approval#refund']]);
    expect(records.map((r) => [r.decision.requestId, r.ttlSeconds])).toEqual([['r-a', 600], ['r-b', 900]]);
    expect(records[1]!.request).toEqual(DEMO);
    // Each record carries its SQL row; the one whose request row is gone has no group or proposal.
    expect(records.map((r) => [r.row?.request_id, r.row?.reviewer_group, r.row?.agent_proposed !== null])).toEqual([['r-a', null, false], ['r-b', 'support-leads', true]]);
    const gets = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.requests!);
    expect(gets.map((g) => g.Keys)).toEqual([[{ requestId: 'r-a' }, { requestId: 'r-b' }], [{ requestId: 'r-b' }]]);
  });

  it('reads only the request fields analytics uses: never the task token or the stored decision', async () => {
    ddb.on(QueryCommand).resolves({ Items: [finalEvent('support-agent', 'r-a', '2026-11-23T08:00:00.000Z')] });
    const [record] = await fetchDecisions({ log, requestsTable: 'requests' }, { window, agent: 'support-agent' });
    const names = Object.values(ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!.requests!.ExpressionAttributeNames!);
    expect(names.sort()).toEqual(['fallback', 'request', 'requestId', 'reviewerGroup', 'round', 'ttlSeconds']);
    expect(record!.request).toBeUndefined(); // attached only for the export
  });
});

describe('report window', () => {
  it('--since takes an age or a timestamp; --until defaults to now', () => {
    expect(reportWindow(undefined, undefined, NOW)).toEqual({ from: '2026-11-17T18:00:00.000Z', to: '2026-11-24T18:00:00.000Z' });
    expect(reportWindow('24h', '2026-11-20T00:00:00Z', NOW)).toEqual({ from: '2026-11-19T00:00:00.000Z', to: '2026-11-20T00:00:00.000Z' });
    expect(reportWindow('2w', undefined, NOW).from).toBe('2026-11-10T18:00:00.000Z');
    expect(reportWindow('30m', undefined, NOW).from).toBe('2026-11-24T17:30:00.000Z');
    expect(reportWindow('2026-11-01', undefined, NOW).from).toBe('2026-11-01T00:00:00.000Z');
  });

  it('refuses what it cannot read', () => {
    expect(() => reportWindow('7 days', undefined, NOW)).toThrow('--since takes an ISO timestamp or an age such as 7d, got "7 days"');
    expect(() => reportWindow(undefined, 'yesterday', NOW)).toThrow('--until takes an ISO timestamp');
    expect(() => reportWindow('2026-12-01T00:00:00Z', undefined, NOW)).toThrow('is after --until');
  });
});
