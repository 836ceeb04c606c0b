/** The eval export: which people's decisions are disagreements with the agent, and what a case holds. */
import { describe, expect, it } from 'vitest';
import { evalCases, toJsonLines, type EvalCase } from '#shared/review/eval-export.ts';
import type { DecisionRecord } from '#shared/review/report.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { parseReviewRequest, type ReviewRequest } from '#shared/schemas/review-request.ts';

const common = { agent: 'support-agent', reason: 'customer asked', risk: { class: 'financial', reversible: false }, reviewerGroup: 'support-leads' };
const refund = parseReviewRequest({ ...common, kind: 'approval', action: { name: 'refund', args: { order_id: 'O-1', amount_usd: 350 } } });
const pick = parseReviewRequest({
  ...common,
  kind: 'disambiguation',
  question: 'Which order?',
  options: [
    { id: 'o1', label: 'Order O-1' },
    { id: 'o2', label: 'Order O-2' },
  ],
});
const draft = parseReviewRequest({ ...common, kind: 'verification', draft: { channel: 'email', title: 'Your refund', body: 'We refunded $350.' } });
const sent = parseReviewRequest({ ...common, kind: 'correction', output: { id: 'msg-7', content: 'Refunds take 30 days.' }, issue: 'wrong policy' });
const handOff = parseReviewRequest({ ...common, kind: 'escalation', task: { summary: 'angry customer' } });

let seq = 0;
function record(request: ReviewRequest | undefined, fields: Partial<Decision>): DecisionRecord {
  const kind = request?.kind ?? 'approval';
  const decision: Decision = {
    requestId: `r${++seq}`,
    kind,
    outcome: 'approved',
    decidedBy: 'lead@example.com',
    tier: 1,
    requestedAt: '2026-11-24T10:00:00.000Z',
    decidedAt: '2026-11-24T10:02:00.000Z',
    latencyMs: 120_000,
    ...fields,
  };
  return { agent: 'support-agent', actionType: kind === 'approval' ? 'approval#refund' : kind, event: fields.outcome === 'corrected' ? 'corrected' : 'decided', decision, ttlSeconds: 1800, ...(request ? { request } : {}) };
}

const args = refund.kind === 'approval' ? refund.action.args : {};
const records = [
  record(refund, { outcome: 'approved', proposedArgs: args, approvedArgs: args }),
  record(refund, { outcome: 'denied', reason: 'wrong amount', comment: 'see ticket', proposedArgs: args }),
  record(refund, { outcome: 'modified', proposedArgs: args, approvedArgs: { order_id: 'O-1', amount_usd: 200 } }),
  record(refund, { outcome: 'modified', proposedArgs: args, approvedArgs: args }), // "modified" to the same values
  record(pick, { outcome: 'answered', chosenOption: { id: 'o1', label: 'Order O-1' } }),
  record(pick, { outcome: 'answered', chosenOption: { id: 'o2', label: 'Order O-2' } }),
  record(pick, { outcome: 'denied', reason: 'neither' }),
  record(draft, { outcome: 'modified', editedDraft: { channel: 'email', title: 'Your refund', body: 'We refunded $200.' } }),
  record(sent, { outcome: 'corrected', correctedOutput: 'Refunds take 5 days.', correctionCategory: 'policy' }),
  record(sent, { outcome: 'denied', reason: 'the output was right' }),
  record(handOff, { outcome: 'resolved', result: 'called the customer' }),
  record(refund, { outcome: 'approved', decidedBy: 'policy:auto-approve', policy: { name: 'auto-approve', why: 'low risk' } }),
  record(undefined, { outcome: 'denied', reason: 'row purged' }),
];

describe('eval export', () => {
  const { cases, humanDecisions, missingRequests } = evalCases(records);

  it('keeps the disagreements: denied, really modified, another option, corrected', () => {
    expect(cases.map((c) => [c.kind, c.disagreement])).toEqual([
      ['approval', 'denied'],
      ['approval', 'modified'],
      ['disambiguation', 'other-option'],
      ['disambiguation', 'denied'],
      ['verification', 'modified'],
      ['correction', 'corrected'],
    ]);
    expect(humanDecisions).toBe(12);
    expect(missingRequests).toBe(1);
  });

  it('a case holds the request as sent, the agent\'s proposal, the person\'s decision and the latency, not the reviewer', () => {
    const modified = cases.find((c) => c.disagreement === 'modified' && c.kind === 'approval')!;
    expect(modified).toMatchObject({
      agent: 'support-agent',
      actionType: 'approval#refund',
      request: refund,
      proposal: { action: { name: 'refund', args: { order_id: 'O-1', amount_usd: 350 } } },
      human: { outcome: 'modified', approvedArgs: { order_id: 'O-1', amount_usd: 200 }, changedArgs: { amount_usd: { from: 350, to: 200 } }, tier: 1 },
      latencyMs: 120_000,
    });
    expect(JSON.stringify(cases)).not.toContain('lead@example.com');

    const denied = cases[0]!;
    expect(denied.human).toEqual({ outcome: 'denied', reason: 'wrong amount', comment: 'see ticket', tier: 1 });
    expect(cases.find((c) => c.disagreement === 'other-option')!).toMatchObject({
      proposal: { question: 'Which order?', option: { id: 'o1' } },
      human: { chosenOption: { id: 'o2', label: 'Order O-2' } },
    });
    expect(cases.find((c) => c.kind === 'correction')!).toMatchObject({
      proposal: { output: { id: 'msg-7', content: 'Refunds take 30 days.' } },
      human: { correctedOutput: 'Refunds take 5 days.', correctionCategory: 'policy' },
    });
    expect(cases.find((c) => c.kind === 'verification')!.human.editedDraft!.body).toBe('We refunded $200.');
  });

  it('with all: every decision by a person, agreements marked null; policy decisions never', () => {
    const all = evalCases(records, { all: true }).cases;
    expect(all).toHaveLength(11);
    expect(all.filter((c) => c.disagreement === null).map((c) => c.human.outcome)).toEqual(['approved', 'modified', 'answered', 'denied', 'resolved']);
    expect(all.map((c) => c.requestId)).not.toContain(records[11]!.decision.requestId);
  });

  it('writes one JSON object per line', () => {
    const text = toJsonLines(cases);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(text.endsWith('\n')).toBe(true);
    expect((JSON.parse(lines[1]!) as EvalCase).disagreement).toBe('modified');
  });
});
