/** What reviewers see of the policy: the risk beside the agent's claim, the approvals so far, who may not decide. */
import { describe, expect, it } from 'vitest';
import { buildCard } from '#shared/render/card.ts';
import { renderReviewEmail, renderReviewPage, renderStatusPage } from '#shared/render/index.ts';
import { ReviewerGroup } from '#shared/schemas/config.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { storedRequest } from '../support/stored-request.ts';

const group = ReviewerGroup.parse({
  tiers: [
    { name: 'platform on-call', members: ['ops1@example.com', 'ops2@example.com', 'ops3@example.com'] },
    { name: 'platform leads', members: ['plat-lead@example.com', 'plat-lead2@example.com'] },
  ],
});
const NOW = new Date('2025-06-03T13:03:00Z');
const refundPolicy: StoredRequest['policy'] = { rule: 'refunds', why: 'the action is not reversible', risk: { class: 'financial', reversible: false, low: false } };

const fact = (row: StoredRequest, label: string) => buildCard({ request: row, group, now: NOW }).facts.find((f) => f.label === label)?.value;

describe('the card under a policy', () => {
  it('shows the agent\'s lower claim beside the policy\'s risk', () => {
    const row = storedRequest(undefined, { request: { ...storedRequest().request, risk: { class: 'read-only', reversible: true } }, policy: refundPolicy });
    expect(fact(row, 'Risk')).toBe('agent says read-only · reversible; policy: financial · irreversible');
    expect(fact(storedRequest(undefined, { policy: refundPolicy }), 'Risk')).toBe('financial · irreversible');
    expect(fact(storedRequest(), 'Risk')).toBe('financial · irreversible');
  });

  it('shows approvals so far under a quorum, and who the agent acts for', () => {
    const votes = { '1:ops1@example.com': { by: 'ops1@example.com', vote: 'approve' as const, at: '2025-06-03T13:01:00.000Z', tier: 1, round: 1 } };
    const base = storedRequest();
    const row = storedRequest(undefined, {
      request: { ...base.request, requestedBy: 'ops3@example.com' },
      policy: { ...refundPolicy, rule: 'deletions', quorum: { approvals: 2, denyVetoes: true } },
      votes,
      voteCount: 1,
    });
    expect(fact(row, 'Approvals')).toBe('1 of 2 approvals so far (ops1@example.com); any denial ends it');
    expect(fact(row, 'Requested by')).toBe('ops3@example.com (the agent acts for them; they may not decide it)');
    const email = renderReviewEmail({ request: row, group, now: NOW, link: 'https://review.example.com/r/x?a=ops2', approver: 'ops2@example.com' });
    expect(email.text).toContain('1 of 2 approvals so far (ops1@example.com)');
    // Every approval is of the request as proposed: no modify form.
    const page = renderReviewPage({ request: row, group, now: NOW, approver: 'ops2@example.com', formAction: 'https://review.example.com/r/x', canEscalate: true });
    expect(page).toContain('value="approve"');
    expect(page).not.toContain('value="modify"');
  });

  it('the status page of a quorum decision names every approver and the rule', () => {
    const decision: Decision = {
      requestId: 'r0123456789abcdef01234567',
      kind: 'approval',
      outcome: 'approved',
      decidedBy: 'ops2@example.com',
      approvers: ['ops1@example.com', 'ops2@example.com'],
      policy: { rule: 'deletions', why: 'the action is not reversible' },
      tier: 1,
      requestedAt: '2025-06-03T13:00:00.000Z',
      decidedAt: '2025-06-03T13:02:00.000Z',
      latencyMs: 120_000,
    };
    const html = renderStatusPage({ request: storedRequest(undefined, { status: 'DECIDED', decision }), group, now: NOW });
    expect(html).toContain('Approved by ops2@example.com');
    expect(html).toContain('ops1@example.com, ops2@example.com');
    expect(html).toContain('deletions');
    const passed = renderStatusPage({
      request: storedRequest(undefined, { status: 'DECIDED', decision: { ...decision, decidedBy: 'policy:not-sampled', approvers: undefined, policy: { name: 'not-sampled', rule: 'sampled-reports', why: 'not picked for the 10% review sample' } } }),
      group,
      now: NOW,
    });
    expect(passed).toContain('Passed without review');
    expect(passed).toContain('not picked for the 10% review sample');
  });
});
