import { describe, expect, it } from 'vitest';
import { planFallback } from '#shared/policies/fallback.ts';
import { backstopSeconds, longestLifeSeconds } from '#shared/policies/backstop.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { parseReviewRequest } from '#shared/schemas/review-request.ts';
import type { StoredRequest } from '#shared/store/model.ts';

const config = parseDeploymentConfig({
  sender: 'hitl@example.com',
  lowRiskClasses: ['read-only'],
  reviewerGroups: {
    ops: {
      tiers: [
        { name: 'on-call', members: ['a@example.com'] },
        { name: 'managers', members: ['m@example.com'] },
      ],
      timeZone: 'Europe/London',
      businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
      defaultTtlSeconds: 1800,
      maxTtlSeconds: 3600,
    },
    flat: { tiers: [{ name: 'team', members: ['t@example.com'] }] },
  },
});
const ops = config.reviewerGroups.ops!;
const flat = config.reviewerGroups.flat!;

function row(overrides: Partial<StoredRequest> & { riskClass?: string; reversible?: boolean } = {}): StoredRequest {
  const { riskClass = 'financial', reversible = false, ...rest } = overrides;
  const request = parseReviewRequest({
    kind: 'approval',
    agent: 'a',
    reason: 'r',
    risk: { class: riskClass, reversible },
    reviewerGroup: 'ops',
    action: { name: 'refund', args: {} },
  });
  return {
    requestId: 'r1', status: 'PENDING', kind: 'approval', agent: 'a', actionType: 'approval#refund', reviewerGroup: 'ops',
    fallback: 'deny', request, tier: 1, round: 1, createdAt: '2026-11-24T22:00:00.000Z', expiresAt: '2026-11-24T22:30:00.000Z',
    ttlSeconds: 1800, executionArn: 'arn:x', ...rest,
  };
}
const at2230 = new Date('2026-11-24T22:30:00Z');

describe('fallback policies', () => {
  it('deny is the default and says why', () => {
    const plan = planFallback(row(), ops, config, at2230);
    expect(plan).toMatchObject({ action: 'decide', outcome: 'expired', policy: 'fallback-deny' });
    expect(plan.why).toContain('No decision from on-call within 30 min');
  });

  it('approve applies only to reversible actions of low risk classes', () => {
    expect(planFallback(row({ fallback: 'approve', riskClass: 'read-only', reversible: true }), ops, config, at2230)).toMatchObject({ outcome: 'approved', policy: 'fallback-approve' });
    expect(planFallback(row({ fallback: 'approve' }), ops, config, at2230)).toMatchObject({ outcome: 'expired', policy: 'fallback-deny' });
    const irreversible = planFallback(row({ fallback: 'approve', riskClass: 'read-only' }), ops, config, at2230);
    expect(irreversible).toMatchObject({ outcome: 'expired', policy: 'fallback-deny', why: expect.stringContaining('not reversible') });
  });

  it('approve follows the risk the request was admitted at, not the agent\'s claim', () => {
    const policy = { rule: 'refunds', why: 'a person decides refunds', risk: { class: 'financial', reversible: false, low: false } };
    const lowClaim = row({ fallback: 'approve', riskClass: 'read-only', reversible: true, policy });
    expect(planFallback(lowClaim, ops, config, at2230)).toMatchObject({ outcome: 'expired', policy: 'fallback-deny', why: expect.stringContaining('financial') });
    // A class no longer marked low by the config of the moment is not approved either.
    const wasLow = row({ fallback: 'approve', riskClass: 'internal', reversible: true, policy: { ...policy, risk: { class: 'internal', reversible: true, low: true } } });
    expect(planFallback(wasLow, ops, config, at2230)).toMatchObject({ outcome: 'expired', policy: 'fallback-deny' });
  });

  it('escalate moves to the next tier, and denies on the last', () => {
    expect(planFallback(row({ fallback: 'escalate' }), ops, config, at2230)).toMatchObject({ action: 'escalate', toTier: 2 });
    const last = planFallback(row({ fallback: 'escalate', tier: 2 }), ops, config, at2230);
    expect(last).toMatchObject({ action: 'decide', outcome: 'expired' });
    expect(last.why).toContain('managers is the last tier');
  });

  it('hold waits for the next opening once, then denies', () => {
    expect(planFallback(row({ fallback: 'hold' }), ops, config, at2230)).toMatchObject({ action: 'hold', until: new Date('2026-11-25T09:00:00Z') });
    expect(planFallback(row({ fallback: 'hold', holdUsed: true }), ops, config, at2230)).toMatchObject({ action: 'decide', outcome: 'expired' });
    expect(planFallback(row({ fallback: 'hold' }), flat, config, at2230)).toMatchObject({ action: 'decide', outcome: 'expired' });
  });
});

describe('backstop', () => {
  it('outlasts every tier and a weekend hold, plus grace', () => {
    expect(longestLifeSeconds(ops)).toBe(2 * 3600 + 64 * 3600);
    expect(longestLifeSeconds(flat)).toBe(86400);
    expect(backstopSeconds(config)).toBe(66 * 3600 + 3600);
  });
});
