import { describe, expect, it } from 'vitest';
import { describeTally, tally } from '#shared/policies/quorum.ts';
import { planRoute } from '#shared/policies/routing.ts';
import { policyOf } from '#shared/policies/rules.ts';
import { domainAllowed, normalizeForTerms, riskReasons } from '#shared/policies/verification.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import type { Vote } from '#shared/schemas/decision.ts';
import { parseReviewRequest } from '#shared/schemas/review-request.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';

const config = parseDeploymentConfig(POLICY_CONFIG);

function draft(over: { confidence?: number; recipients?: string[]; body?: string; title?: string; risk?: string; channel?: 'email' | 'report' } = {}) {
  const request = parseReviewRequest({
    kind: 'verification',
    agent: 'writer-bot',
    reason: 'reply to a customer',
    risk: { class: over.risk ?? 'customer-facing', reversible: false },
    confidence: over.confidence ?? 0.95,
    draft: { channel: over.channel ?? 'email', title: over.title, body: over.body ?? 'Your order has shipped.', recipients: over.recipients ?? ['jane@example.com'] },
  });
  if (request.kind !== 'verification') throw new Error('unreachable');
  return request;
}

describe('risk-based verification', () => {
  const review = config.policy!.rules.find((r) => r.name === 'customer-emails')!.verification as Extract<NonNullable<(typeof config.policy)>['rules'][number]['verification'], { review: 'risk' }>;

  it.each([
    ['none met', {}, []],
    ['low confidence', { confidence: 0.79 }, ['confidence 0.79 is below 0.8']],
    ['a recipient outside the allowed domains', { recipients: ['jane@example.com', 'bob@gmail.com'] }, ['a recipient is outside the allowed domains (bob@gmail.com)']],
    ['a subdomain of an allowed domain', { recipients: ['jane@mail.example.com'] }, []],
    ['a look-alike domain', { recipients: ['jane@evilexample.com'] }, ['a recipient is outside the allowed domains (jane@evilexample.com)']],
    ['no recipients to check', { recipients: [] }, ['it names no recipients to check against the allowed domains']],
    ['a listed term, case aside', { body: 'About your REFUND request' }, ['it mentions "refund"']],
    ['a term split by an invisible character', { title: 'Re\u200bfund', body: 'hello' }, ['it mentions "refund"']],
    ['the agent rating it financial', { risk: 'financial' }, ['the agent rates it financial, at or above financial']],
    ['the agent rating it with an unlisted class', { risk: 'radioactive' }, ['the agent rates it radioactive, at or above financial']],
    ['two conditions', { confidence: 0.5, body: 'we may face a lawsuit' }, ['confidence 0.5 is below 0.8', 'it mentions "lawsuit"']],
  ] as const)('%s', (_name, over, reasons) => {
    const request = draft(over as Parameters<typeof draft>[0]);
    expect(riskReasons(request, review, policyOf(config))).toEqual(reasons);
    const plan = planRoute(request, 'r1', config);
    if (reasons.length) expect(plan).toEqual({ route: 'review', why: reasons.join('; ') });
    else expect(plan).toMatchObject({ route: 'auto', policy: 'below-risk-threshold', outcome: 'approved' });
  });

  it('domains and terms compare without case, width variants or invisible characters', () => {
    expect(domainAllowed('A@Example.COM', ['example.com'])).toBe(true);
    expect(normalizeForTerms('Ｒｅ\u200dfund\u202e')).toBe('refund');
  });
});

describe('sampled verification', () => {
  it('reviews a deterministic sample; the rest pass as not-sampled', () => {
    let reviewed = 0;
    for (let i = 0; i < 2000; i++) {
      const plan = planRoute(draft({ channel: 'report' }), `r${i}`, config);
      if (plan.route === 'review') reviewed++;
      else expect(plan).toMatchObject({ policy: 'not-sampled', why: 'not picked for the 10% review sample' });
      expect(planRoute(draft({ channel: 'report' }), `r${i}`, config).route).toBe(plan.route);
    }
    // Binomial(2000, 0.1): mean 200, sd 13.4; four sd either side.
    expect(Math.abs(reviewed - 200)).toBeLessThan(54);
  });
});

describe('quorum tally', () => {
  const vote = (by: string, v: 'approve' | 'deny'): Vote => ({ by, vote: v, at: '2026-01-01T00:00:00.000Z', tier: 1, round: 1 });

  it('N approvals decide; a denial vetoes; without veto it denies once N is out of reach', () => {
    const veto = { approvals: 2, denyVetoes: true };
    expect(tally([vote('a', 'approve')], veto, 3).outcome).toBe('open');
    expect(tally([vote('a', 'approve'), vote('b', 'approve')], veto, 3).outcome).toBe('approved');
    expect(tally([vote('a', 'approve'), vote('b', 'deny')], veto, 3).outcome).toBe('denied');
    const noVeto = { approvals: 2, denyVetoes: false };
    expect(tally([vote('a', 'deny')], noVeto, 3).outcome).toBe('open');
    expect(tally([vote('a', 'deny'), vote('b', 'approve')], noVeto, 3).outcome).toBe('open');
    expect(tally([vote('a', 'deny'), vote('b', 'approve'), vote('c', 'approve')], noVeto, 3).outcome).toBe('approved');
    expect(tally([vote('a', 'deny'), vote('b', 'deny')], noVeto, 3).outcome).toBe('denied');
    expect(describeTally(tally([vote('lead@example.com', 'approve')], veto, 3))).toBe('1 of 2 approvals so far (lead@example.com)');
  });
});
