/** The hitl_decision record: its fields for each kind of decider, the log line, out of hours, time on card. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '#shared/clients.ts';
import {
  buildHitlDecision,
  decisionExtrasDetails,
  decisionExtrasOf,
  isOutOfHours,
  logHitlDecision,
  timeOnCardMs,
  type HitlDecision,
} from '#shared/review/decision-record.ts';
import { renderReviewPage } from '#shared/render/review-page.ts';
import { ReviewerGroup } from '#shared/schemas/config.ts';
import { parseResponseForm } from '#shared/schemas/response-form.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { storedRequest } from '../support/stored-request.ts';

afterEach(() => vi.restoreAllMocks());

const row = storedRequest(undefined, { status: 'DECIDED', round: 2, tier: 2 });

function decision(overrides: Partial<Decision>): Decision {
  return {
    requestId: row.requestId,
    kind: 'approval',
    outcome: 'approved',
    decidedBy: 'manager@example.com',
    tier: 2,
    requestedAt: row.createdAt,
    decidedAt: '2025-06-03T13:04:10.000Z',
    latencyMs: 250_000,
    ...overrides,
  };
}

const LESSON_FIELDS = ['request_id', 'user_id', 'action_type', 'agent_proposed', 'agent_reason', 'human_decision', 'human_feedback', 'decision_latency_ms'];
const EXTRA_FIELDS = ['kind', 'agent', 'policy', 'channel', 'tier', 'round', 'out_of_hours', 'time_on_card_ms'];

describe('buildHitlDecision', () => {
  it("a person's modification: the lesson's fields and the extras, nothing else", () => {
    const d = decision({ outcome: 'modified', proposedArgs: { order_id: 'O-9421', amount_usd: 350 }, approvedArgs: { order_id: 'O-9421', amount_usd: 300 }, comment: 'partial refund' });
    const record = buildHitlDecision(row, d, { channel: 'email', timeOnCardMs: 42_000, outOfHours: false });
    expect(Object.keys(record).sort()).toEqual([...LESSON_FIELDS, ...EXTRA_FIELDS].sort());
    expect(record).toEqual<HitlDecision>({
      request_id: row.requestId,
      user_id: 'manager@example.com',
      action_type: 'approval#refund',
      agent_proposed: { action: { name: 'refund', args: { order_id: 'O-9421', amount_usd: 350 } } },
      agent_reason: 'customer reported defective product, attached photos confirm',
      human_decision: 'modified',
      human_feedback: { comment: 'partial refund', approved_args: { order_id: 'O-9421', amount_usd: 300 } },
      decision_latency_ms: 250_000,
      kind: 'approval',
      agent: 'customer-support-agent',
      policy: null,
      channel: 'email',
      tier: 2,
      round: 2,
      out_of_hours: false,
      time_on_card_ms: 42_000,
    });
  });

  it('a policy decided: no user, no channel, no feedback, no time on card; the policy is named', () => {
    const d = decision({ outcome: 'expired', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny', why: 'nobody in 30 min' }, reason: 'nobody in 30 min' });
    const record = buildHitlDecision(row, d, { channel: 'email', timeOnCardMs: 5, outOfHours: true });
    expect(record).toMatchObject({ user_id: null, channel: null, human_feedback: null, time_on_card_ms: null, policy: 'fallback-deny', human_decision: 'expired', out_of_hours: true });
  });

  it('a cancellation is nobody\'s verdict: no user and no feedback', () => {
    const d = decision({ outcome: 'cancelled' as Decision['outcome'], decidedBy: 'agent:customer-support-agent', reason: 'customer withdrew' });
    expect(buildHitlDecision(row, d)).toMatchObject({ human_decision: 'cancelled', user_id: null, human_feedback: null, policy: null, channel: null });
  });

  it("a disambiguation: the agent proposed its first option; the answer is the person's feedback", () => {
    const request = {
      kind: 'disambiguation' as const,
      agent: 'support-agent',
      reason: 'two accounts match',
      question: 'Which account?',
      options: [
        { id: 'a', label: 'Personal' },
        { id: 'b', label: 'Business' },
      ],
      risk: { class: 'account', reversible: true },
      reviewerGroup: 'support-leads',
    };
    const r = storedRequest(request, { actionType: 'disambiguation' });
    const record = buildHitlDecision(r, decision({ kind: 'disambiguation', outcome: 'answered', chosenOption: { id: 'b', label: 'Business' } }));
    expect(record.agent_proposed).toEqual({ question: 'Which account?', option: { id: 'a', label: 'Personal' } });
    expect(record.human_feedback).toEqual({ chosen_option: { id: 'b', label: 'Business' } });
    expect(record.out_of_hours).toBeNull(); // not given
  });

  it('unknown request (row purged): the proposal and reason are null, the rest stands', () => {
    const { request: _request, ...bare } = row;
    expect(buildHitlDecision(bare, decision({}))).toMatchObject({ agent_proposed: null, agent_reason: null, human_decision: 'approved', user_id: 'manager@example.com' });
  });
});

describe('logHitlDecision', () => {
  it('one INFO line from the Powertools logger: message hitl_decision, the record at the top level (null fields left out, as Powertools does)', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    vi.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
    const record = buildHitlDecision(row, decision({ outcome: 'denied', reason: 'not eligible' }), { channel: 'email' });
    logHitlDecision(createLogger('respond'), record);
    vi.restoreAllMocks();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'hitl_decision');
    expect(parsed).toHaveLength(1);
    const present = Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null));
    expect(parsed[0]).toMatchObject({ level: 'INFO', service: 'hitl', fn: 'respond', ...present });
    expect(Object.keys(present)).toEqual(expect.arrayContaining(['request_id', 'user_id', 'action_type', 'agent_proposed', 'agent_reason', 'human_decision', 'human_feedback', 'decision_latency_ms']));
    for (const key of ['policy', 'out_of_hours', 'time_on_card_ms']) expect(parsed[0]).not.toHaveProperty(key);
  });
});

describe('isOutOfHours', () => {
  const london = ReviewerGroup.parse({
    tiers: [{ name: 'leads', members: ['lead@example.com'] }],
    timeZone: 'Europe/London',
    businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
  });

  it("in the group's own time zone, summer time included", () => {
    expect(isOutOfHours(london, '2026-07-07T08:30:00Z')).toBe(false); // Tue 09:30 BST
    expect(isOutOfHours(london, '2026-07-07T07:30:00Z')).toBe(true); // Tue 08:30 BST
    expect(isOutOfHours(london, '2026-01-06T16:59:00Z')).toBe(false); // Tue 16:59 GMT
    expect(isOutOfHours(london, '2026-01-06T17:00:00Z')).toBe(true); // closing time
    expect(isOutOfHours(london, '2026-07-11T12:00:00Z')).toBe(true); // Saturday
  });

  it('a group without business hours has no out of hours; an unknown group is unknown', () => {
    const { businessHours: _hours, ...always } = london;
    expect(isOutOfHours(always, '2026-07-11T03:00:00Z')).toBe(false);
    expect(isOutOfHours(undefined, '2026-07-11T03:00:00Z')).toBeUndefined();
  });
});

describe('timeOnCardMs', () => {
  const created = { createdAt: '2025-06-03T13:00:00.000Z' };
  it('from the page render to the decision', () => {
    expect(timeOnCardMs('2025-06-03T13:04:07.500Z', created, '2025-06-03T13:04:10.000Z')).toBe(2500);
  });
  it('a value from before the request, after the decision, or not a time is unknown', () => {
    expect(timeOnCardMs('2025-06-03T12:59:59.000Z', created, '2025-06-03T13:04:10.000Z')).toBeUndefined();
    expect(timeOnCardMs('2025-06-03T13:05:00.000Z', created, '2025-06-03T13:04:10.000Z')).toBeUndefined();
    expect(timeOnCardMs('yesterday', created, '2025-06-03T13:04:10.000Z')).toBeUndefined();
    expect(timeOnCardMs(undefined, created, '2025-06-03T13:04:10.000Z')).toBeUndefined();
  });
});

describe('extras on the final log event', () => {
  it('round-trip through the details; wrong types are ignored', () => {
    const extras = { channel: 'email', timeOnCardMs: 1200, outOfHours: true };
    expect(decisionExtrasOf({ round: 1, ...decisionExtrasDetails(extras) })).toEqual(extras);
    expect(decisionExtrasDetails({})).toEqual({});
    expect(decisionExtrasOf({ channel: 3, timeOnCardMs: -1, outOfHours: 'yes' })).toEqual({});
    expect(decisionExtrasOf(undefined)).toEqual({});
  });
});

describe('time on card from the review page', () => {
  const group = ReviewerGroup.parse({ tiers: [{ name: 'leads', members: ['lead@example.com'] }] });

  it('every form posts back when the page was rendered; the decision then knows its time on card', () => {
    const opened = new Date('2025-06-03T13:02:00.000Z');
    const html = renderReviewPage({ request: storedRequest(), group, now: opened, approver: 'lead@example.com', formAction: 'https://example.com/r/x', canEscalate: false });
    const forms = html.split('<form').length - 1;
    const values = [...html.matchAll(/name="opened" value="([^"]+)"/g)].map((m) => m[1]);
    expect(values).toHaveLength(forms);
    expect(new Set(values)).toEqual(new Set([opened.toISOString()]));
    const form = parseResponseForm({ choice: 'approve', round: '1', opened: values[0]! });
    expect(timeOnCardMs(form.opened, storedRequest(), '2025-06-03T13:02:04.250Z')).toBe(4250);
  });

  it('a missing or mangled value never refuses the decision', () => {
    expect(parseResponseForm({ choice: 'deny', round: '1', reason: 'no' }).opened).toBeUndefined();
    const long = parseResponseForm({ choice: 'approve', round: '1', opened: 'x'.repeat(500) });
    expect(long.choice).toBe('approve');
    expect(long.opened).toBeUndefined();
    expect(timeOnCardMs(parseResponseForm({ choice: 'approve', round: '1', opened: 'soon' }).opened, storedRequest(), '2025-06-03T13:02:04.250Z')).toBeUndefined();
  });
});
