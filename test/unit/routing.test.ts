import { describe, expect, it } from 'vitest';
import { isSampled, planRoute, sampleFraction } from '#shared/policies/routing.ts';
import { parseDeploymentConfig, type DeploymentConfigInput } from '#shared/schemas/config.ts';
import { parseReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';

function config(routing: DeploymentConfigInput['routing'] = {}) {
  return parseDeploymentConfig({
    sender: 'hitl@example.com',
    lowRiskClasses: ['read-only', 'internal'],
    reviewerGroups: { ops: { tiers: [{ name: 'on-call', members: ['a@example.com'] }] } },
    routing,
  });
}

const approval = (over: Partial<Extract<ReviewRequestInput, { kind: 'approval' }>> = {}) =>
  parseReviewRequest({
    kind: 'approval',
    agent: 'crm-agent',
    reason: 'tidy up a contact',
    risk: { class: 'internal', reversible: true },
    confidence: 0.95,
    reviewerGroup: 'ops',
    action: { name: 'crm.update_contact', args: { id: 'c-1' } },
    ...over,
  });

const disambiguation = (confidence: number | undefined) =>
  parseReviewRequest({
    kind: 'disambiguation',
    agent: 'support-agent',
    reason: 'which order?',
    risk: { class: 'read-only', reversible: true },
    confidence,
    reviewerGroup: 'ops',
    question: 'Which order does the customer mean?',
    options: [
      { id: 'o-1', label: 'Order O-1 (yesterday)' },
      { id: 'o-2', label: 'Order O-2 (last month)' },
    ],
  });

/** Request ids on either side of a sample rate, found by the same hash the policy uses. */
function idWhere(predicate: (fraction: number) => boolean): string {
  for (let i = 0; ; i++) if (predicate(sampleFraction(`r${i}`))) return `r${i}`;
}

describe('routing policy', () => {
  it('auto-approves a low-risk, reversible, confident approval and says why', () => {
    const plan = planRoute(approval(), 'r1', config({ autoApproveMinConfidence: 0.9 }));
    expect(plan).toMatchObject({ route: 'auto', policy: 'auto-approve', outcome: 'approved' });
    expect(plan.why).toContain('internal');
    expect(plan.why).toContain('0.95');
  });

  it('asks a person when auto-approval is not configured', () => {
    expect(planRoute(approval(), 'r1', config()).route).toBe('review');
  });

  it.each([
    ['risk class not marked low', { risk: { class: 'financial', reversible: true } }, 'financial'],
    ['irreversible action', { risk: { class: 'internal', reversible: false } }, 'reversible'],
    ['confidence below the threshold', { confidence: 0.89 }, '0.89'],
    ['no confidence given', { confidence: undefined }, 'no confidence'],
  ] as const)('sends an approval to review: %s', (_name, over, inWhy) => {
    const plan = planRoute(approval(over), 'r1', config({ autoApproveMinConfidence: 0.9 }));
    expect(plan.route).toBe('review');
    expect(plan.why).toContain(inWhy);
  });

  it('sends the audit sample to a person, deterministically by request id', () => {
    const cfg = config({ autoApproveMinConfidence: 0.5, sampleRate: 0.3 });
    const sampledId = idWhere((f) => f < 0.3);
    const notSampledId = idWhere((f) => f >= 0.3);
    expect(planRoute(approval(), sampledId, cfg)).toMatchObject({ route: 'review', why: expect.stringContaining('audit sample') });
    expect(planRoute(approval(), notSampledId, cfg).route).toBe('auto');
  });

  it('samples about the configured fraction', () => {
    let hits = 0;
    for (let i = 0; i < 4000; i++) if (isSampled(`r${i.toString(16).padStart(24, '0')}`, 0.25)) hits++;
    expect(hits / 4000).toBeGreaterThan(0.22);
    expect(hits / 4000).toBeLessThan(0.28);
    expect(isSampled('r1', 0)).toBe(false);
    expect(isSampled('r1', 1)).toBe(true);
  });

  it('answers a confident disambiguation with the first option, and asks when unsure', () => {
    const cfg = config({ disambiguateBelowConfidence: 0.7 });
    expect(planRoute(disambiguation(0.8), 'r1', cfg)).toMatchObject({ route: 'auto', policy: 'auto-answer', outcome: 'answered', option: { id: 'o-1' } });
    expect(planRoute(disambiguation(0.69), 'r1', cfg).route).toBe('review');
    expect(planRoute(disambiguation(undefined), 'r1', cfg).route).toBe('review');
  });

  it('always sends verification, escalation and correction to a person', () => {
    const cfg = config({ autoApproveMinConfidence: 0 });
    const request = parseReviewRequest({
      kind: 'verification',
      agent: 'writer',
      reason: 'customer email',
      risk: { class: 'internal', reversible: true },
      confidence: 1,
      reviewerGroup: 'ops',
      draft: { channel: 'email', body: 'Hello' },
    });
    expect(planRoute(request, 'r1', cfg)).toMatchObject({ route: 'review', why: expect.stringContaining('verification') });
  });
});
