/**
 * `hitl whatif` and `hitl suggest` on small fixed logs whose figures are worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { suggest } from '#shared/policies/suggest.ts';
import { formatWhatIf, passingCount, whatIf } from '#shared/policies/whatif.ts';
import type { DecisionRecord } from '#shared/review/report.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { parseReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';

const current = parseDeploymentConfig(POLICY_CONFIG);

function variant(edit: (c: typeof POLICY_CONFIG) => void) {
  const copy = structuredClone(POLICY_CONFIG);
  edit(copy);
  return parseDeploymentConfig(copy);
}

let n = 0;
/** A final decision as the log holds it, with its request; `by` a person unless a policy name is given. */
function record(input: ReviewRequestInput, outcome: Decision['outcome'], extra: Partial<Decision> = {}, withRequest = true): DecisionRecord {
  const request = parseReviewRequest(input);
  const actionType = request.kind === 'approval' ? `approval#${request.action.name}` : request.kind === 'verification' ? `verification#${request.draft.channel}` : request.kind;
  const decision: Decision = {
    requestId: `r${String(++n).padStart(24, '0')}`,
    kind: request.kind,
    outcome,
    decidedBy: 'lead@example.com',
    tier: 1,
    requestedAt: '2026-11-20T10:00:00.000Z',
    decidedAt: '2026-11-20T10:05:00.000Z',
    latencyMs: 300_000,
    ...extra,
  };
  return { agent: request.agent, actionType, event: outcome === 'expired' ? 'expired' : 'decided', decision, ...(withRequest ? { request } : {}) };
}

const crm = (agent: string, confidence: number, id = 'c-1'): ReviewRequestInput => ({
  kind: 'approval',
  agent,
  reason: 'tidy a contact',
  risk: { class: 'internal', reversible: true },
  confidence,
  action: { name: 'crm.update', args: { id } },
});
const email = (confidence: number): ReviewRequestInput => ({
  kind: 'verification',
  agent: 'writer-bot',
  reason: 'reply',
  risk: { class: 'customer-facing', reversible: false },
  confidence,
  draft: { channel: 'email', body: 'Your order shipped.', recipients: ['jane@example.com'] },
});
const refund: ReviewRequestInput = { kind: 'approval', agent: 'billing-bot', reason: 'duplicate', risk: { class: 'financial', reversible: false }, action: { name: 'refund', args: { order_id: 'O-1' } } };
const policy = (name: string, why = 'by policy') => ({ decidedBy: `policy:${name}`, policy: { name, why } }) as Partial<Decision>;

describe('hitl whatif on a fixed log', () => {
  // What happened, under the current policy (CRM edits auto-approved at confidence 0.9 and above, customer emails risk-checked):
  const log = [
    record(crm('crm-bot', 0.95), 'approved', policy('auto-approve')), //           1 auto-approved
    record(crm('crm-bot', 0.85), 'approved'), //                                   2 a person approved
    record(crm('crm-bot', 0.82), 'denied', { reason: 'wrong contact' }), //        3 a person denied
    record(crm('crm-bot', 0.81), 'modified', { approvedArgs: { id: 'c-2' }, proposedArgs: { id: 'c-1' } }), // 4 a person changed it
    record(crm('crm-bot', 0.7), 'approved'), //                                    5 a person approved
    record(crm('crm-bot', 0.83), 'expired', policy('fallback-deny')), //           6 nobody decided in time
    record(email(0.95), 'approved', policy('below-risk-threshold')), //            7 passed unreviewed
    record(email(0.5), 'denied', { reason: 'tone' }), //                           8 a person denied
    record(refund, 'denied', { reason: 'already refunded' }), //                   9 a person denied
    record(crm('ops-bot', 0.85), 'approved'), //                                   10 a person approved
    record(crm('crm-bot', 0.99), 'approved', {}, false), //                        11 its request row is gone
  ];
  // Proposed: CRM edits auto-approved from 0.8 (looser), every customer email reviewed (tighter).
  const proposed = variant((c) => {
    c.policy.rules[1]!.autoApprove = { minConfidence: 0.8 };
    c.policy.rules[6]!.verification = { review: 'always' } as never;
  });

  it('counts reviews saved and added, and the disagreements that would pass, per agent and action type', () => {
    const result = whatIf(log, proposed);
    // Reviewed before: 2,3,4,5,6,8,9,10 = 8. After: 5 (0.7 < 0.8), 7, 8, 9 = 4. Saved: 2,3,4,6,10 = 5. Added: 7.
    // Passing: 3 (denied) and 4 (modified); 6 expired, so no person disagreed.
    expect(result.total).toEqual({ decisions: 10, reviewedBefore: 8, reviewedAfter: 4, saved: 5, added: 1, wouldPass: { denied: 1, modified: 1, corrected: 0 } });
    expect(result.missingRequests).toBe(1);
    expect(result.groups.map((g) => [g.agent, g.actionType, g.decisions, g.reviewedBefore, g.reviewedAfter, g.saved, g.added, g.wouldPass.denied, g.wouldPass.modified])).toEqual([
      ['billing-bot', 'approval#refund', 1, 1, 1, 0, 0, 0, 0],
      ['crm-bot', 'approval#crm.update', 6, 5, 1, 4, 0, 1, 1],
      ['ops-bot', 'approval#crm.update', 1, 1, 0, 1, 0, 0, 0],
      ['writer-bot', 'verification#email', 2, 1, 2, 0, 1, 0, 0],
    ]);
    expect(result.passing.map((p) => [p.requestId, p.kind, p.reason, p.rule])).toEqual([
      [log[2]!.decision.requestId, 'denied', 'wrong contact', 'crm-edits'],
      [log[3]!.decision.requestId, 'modified', undefined, 'crm-edits'],
    ]);
    expect(passingCount(result.total)).toBe(2);
    const text = formatWhatIf(result);
    expect(text).toContain('10 decisions replayed: 8 went to people, 4 would under the proposed policy (5 reviews saved, 1 added).');
    expect(text).toContain('2 decisions a person disagreed with would pass unreviewed:');
    expect(text).toContain(`- ${log[2]!.decision.requestId} crm-bot approval#crm.update: denied "wrong contact"; rule crm-edits: risk class internal is low`);
  });

  it('the current policy replayed on its own log changes nothing', () => {
    const result = whatIf(log, current);
    expect(result.total).toMatchObject({ decisions: 10, reviewedBefore: 8, reviewedAfter: 8, saved: 0, added: 0 });
    expect(passingCount(result.total)).toBe(0);
  });
});

describe('hitl suggest on a fixed log', () => {
  // A rule for tags (internal, reversible, always asked) and posts via the default rule (every draft reviewed).
  const config = variant((c) => {
    c.policy.rules.unshift({ name: 'tags', match: { kind: 'approval', action: 'tag*' }, risk: { class: 'internal', reversible: true }, reviewerGroup: 'support' } as never);
  });
  const tag = (i: number): ReviewRequestInput => ({ kind: 'approval', agent: 'crm-bot', reason: 'tag', risk: { class: 'internal', reversible: true }, confidence: 0.75 + (i % 20) / 100, action: { name: 'tag_contact', args: { id: `c-${i}` } } });
  const post = (i: number): ReviewRequestInput => ({ kind: 'verification', agent: 'social-bot', reason: 'post', risk: { class: 'customer-facing', reversible: false }, draft: { channel: 'post', body: `Post ${i}` } });
  const log = [
    // 120 tags, all approved as proposed (confidences 0.75 to 0.94): loosen to auto-approval at 0.75 with an audit sample.
    ...Array.from({ length: 120 }, (_, i) => record(tag(i), 'approved')),
    // 110 posts, 109 approved and 1 edited (99.1%): review a sample.
    ...Array.from({ length: 110 }, (_, i) => (i === 0 ? record(post(i), 'modified', { editedDraft: { channel: 'post', body: 'edited' } }) : record(post(i), 'approved'))),
    // 400 refunds approved, 3 denied for one reason (99.3%): irreversible, so never auto-approved; already reviewed.
    ...Array.from({ length: 400 }, () => record(refund, 'approved')),
    ...['Over the limit', 'over the limit.', 'OVER THE LIMIT'].map((reason) => record(refund, 'denied', { reason })),
    // eager-bot's CRM edits: 5 of 20 denied (25%) while some are auto-approved: review every one of its edits.
    ...Array.from({ length: 20 }, (_, i) => record(crm('eager-bot', 0.5), i < 5 ? 'denied' : 'approved', i < 5 ? { reason: `no ${i}` } : {})),
    ...Array.from({ length: 10 }, () => record(crm('eager-bot', 0.95), 'approved', policy('auto-approve'))),
  ];

  it('proposes rules with their evidence by the lesson\'s thresholds, and writes a config whatif accepts', () => {
    const { suggestions, proposal } = suggest(log, config, { minDecisions: 100, sampleRate: 0.1 });
    const brief = suggestions.map((s) => [s.finding, s.agent ?? '', s.actionType, s.proposed?.name ?? null]);
    expect(brief).toEqual(
      expect.arrayContaining([
        ['gate-unnecessary', '', 'approval#tag_contact', 'suggested-loosen-approval-tag-contact'],
        ['gate-unnecessary', '', 'verification#post', 'suggested-loosen-verification-post'],
        ['gate-unnecessary', '', 'approval#refund', null],
        ['consistent-denials', '', 'approval#refund', null],
        ['too-aggressive', 'eager-bot', 'approval#crm.update', 'suggested-review-approval-crm-update-eager-bot'],
      ]),
    );
    expect(suggestions).toHaveLength(5);
    const byName = (name: string) => suggestions.find((s) => s.proposed?.name === name)!;
    expect(byName('suggested-loosen-approval-tag-contact')).toMatchObject({
      evidence: 'people approved 120 of 120 approval#tag_contact requests (100%) as proposed',
      proposed: { match: { kind: 'approval', action: 'tag_contact' }, autoApprove: { minConfidence: 0.75 }, auditSample: 0.1, risk: { class: 'internal', reversible: true } },
    });
    expect(byName('suggested-loosen-verification-post').proposed).toMatchObject({ verification: { review: 'sample', rate: 0.1 }, reviewerGroup: 'support' });
    expect(byName('suggested-review-approval-crm-update-eager-bot')).toMatchObject({
      evidence: "people denied 5 of 20 (25%) of eager-bot's approval#crm.update requests, above 10%",
      proposed: { match: { agent: 'eager-bot', kind: 'approval', action: 'crm.update' }, risk: { class: 'internal', reversible: true } },
    });
    expect(byName('suggested-review-approval-crm-update-eager-bot').proposed!.autoApprove).toBeUndefined();
    expect(suggestions.find((s) => s.finding === 'consistent-denials')!.evidence).toBe('people denied approval#refund 3 times for the same reason: "Over the limit"');
    expect(suggestions.find((s) => s.finding === 'gate-unnecessary' && s.actionType === 'approval#refund')!.advice).toContain('a policy never approves financial · irreversible actions');

    // The proposal: agent-specific rule first, then the loosened ones, then the rules as they were.
    expect(proposal!.policy!.rules.map((r) => r.name).slice(0, 4)).toEqual(['suggested-review-approval-crm-update-eager-bot', 'suggested-loosen-approval-tag-contact', 'suggested-loosen-verification-post', 'tags']);
    const checked = parseDeploymentConfig(JSON.parse(JSON.stringify(proposal)));
    const replay = whatIf(log, checked);
    // Saved: the 120 tags outside the 10% audit sample, the posts outside the 10% sample; added: eager-bot's 10 auto-approved.
    expect(replay.total.added).toBe(10);
    expect(replay.total.saved).toBeGreaterThan(180);
    // The one edited post is the price: it passes unreviewed unless it lands in the sample.
    expect(replay.total.wouldPass.denied).toBe(0);
    expect(replay.total.wouldPass.modified).toBeLessThanOrEqual(1);
  });

  it('a config without a policy gets the evidence and no file', () => {
    const legacy = parseDeploymentConfig({ sender: 'hitl@example.com', reviewerGroups: { support: POLICY_CONFIG.reviewerGroups.support } });
    const { suggestions, proposal } = suggest(log, legacy);
    expect(suggestions.length).toBeGreaterThan(0);
    expect(proposal).toBeUndefined();
  });
});
