import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidRequestError } from '#shared/errors.ts';
import { dutyConflict } from '#shared/policies/duties.ts';
import { raiseRisk } from '#shared/policies/risk.ts';
import { planRoute } from '#shared/policies/routing.ts';
import { globMatches, policyOf, resolveRule } from '#shared/policies/rules.ts';
import { admitRequest } from '#shared/review/admission.ts';
import { parseDeploymentConfig, type DeploymentConfigInput } from '#shared/schemas/config.ts';
import { parseReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';
import { buildStack } from '../support/synth.ts';

const config = parseDeploymentConfig(POLICY_CONFIG);

/** The policy config with one change; `edit` gets a deep copy. */
function variant(edit: (c: typeof POLICY_CONFIG & Record<string, unknown>) => void): unknown {
  const copy = structuredClone(POLICY_CONFIG) as typeof POLICY_CONFIG & Record<string, unknown>;
  edit(copy);
  return copy;
}

function configIssues(input: unknown): string[] {
  try {
    parseDeploymentConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n').slice(1).map((l) => l.trim());
  }
  throw new Error('expected the config to be refused');
}

const approval = (over: Partial<Extract<ReviewRequestInput, { kind: 'approval' }>> = {}) =>
  parseReviewRequest({
    kind: 'approval',
    agent: 'billing-bot',
    reason: 'duplicate charge',
    risk: { class: 'read-only', reversible: true },
    reviewerGroup: 'support',
    action: { name: 'refund', args: { order_id: 'O-1', amount_usd: 5000 } },
    ...over,
  });

function admissionIssues(input: unknown): { path: string; message: string }[] {
  try {
    admitRequest(input, config);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return [...(err as InvalidRequestError).issues];
  }
  throw new Error('expected the request to be refused');
}

describe('policy config', () => {
  it('accepts the policy with every rule type, and the shipped cdk.json', () => {
    expect(config.policy?.rules).toHaveLength(7);
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { hitl: unknown } };
    expect(parseDeploymentConfig(cdkJson.context.hitl).policy?.rules.map((r) => r.name)).toContain('refunds');
  });

  it.each([
    [
      'auto-approval on an irreversible rule',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { autoApprove: { minConfidence: 0.99 } }),
      'policy.rules.0.autoApprove: a policy never approves this action: the action is irreversible',
    ],
    [
      'the approve fallback on an irreversible rule',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { fallbacks: ['deny', 'approve'] }),
      'policy.rules.0.fallbacks: fallback "approve" is refused: the action is irreversible',
    ],
    [
      'auto-approval of a class not marked low',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[1]!, { risk: { class: 'customer-facing', reversible: true } }),
      'policy.rules.1.autoApprove: a policy never approves this action: risk class customer-facing is not in lowRiskClasses',
    ],
    [
      'a rule that inherits the strictest risk and auto-approves',
      (c: typeof POLICY_CONFIG) => c.policy.rules.push({ name: 'lazy', match: { kind: 'approval', action: 'tag' }, autoApprove: { minConfidence: 0.5 } } as never),
      'policy.rules.7.autoApprove: a policy never approves this action: the action is irreversible',
    ],
    [
      'a default rule that is not the strictest',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.default, { risk: { class: 'internal', reversible: true } }),
      'policy.default.risk: the default rule is the strictest: destructive, irreversible',
    ],
    [
      'a quorum larger than a tier',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[2]!, { quorum: { approvals: 3 } }),
      'policy.rules.2.quorum.approvals: 3 approvals are needed but tier 2 (platform leads) of group platform has 2 members',
    ],
    [
      'an unknown reviewer group',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { reviewerGroup: 'finance' }),
      'policy.rules.0.reviewerGroup: no reviewer group "finance" is configured',
    ],
    [
      'a time box longer than the group allows',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { ttl: { max: 100_000 } }),
      'policy.rules.0.ttl.max: 100000 exceeds the maxTtlSeconds of group support (86400)',
    ],
    [
      'a risk class the policy does not rank',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { risk: { class: 'money', reversible: false } }),
      'policy.rules.0.risk.class: "money" is not in policy.riskClasses',
    ],
    [
      'low risk classes that are not the lowest',
      (c: typeof POLICY_CONFIG) => Object.assign(c, { lowRiskClasses: ['read-only', 'financial'] }),
      'lowRiskClasses.1: low risk classes must be the lowest of policy.riskClasses',
    ],
    [
      'verification settings on a rule that matches no verification',
      (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { verification: { review: 'sample', rate: 0.5 } }),
      'policy.rules.0.verification: applies to verification requests, and this rule matches none',
    ],
    ['routing beside a policy', (c: typeof POLICY_CONFIG) => Object.assign(c, { routing: { sampleRate: 0.1 } }), 'routing: with a policy, set these per rule instead'],
    [
      'the same address in two tiers of a group, in another case',
      (c: typeof POLICY_CONFIG) => c.reviewerGroups.support.tiers[1]!.members.push('Lead@Example.com'),
      'reviewerGroups.support.tiers.1.members.1: Lead@Example.com is also in tier 1 (support leads)',
    ],
    ['a fallback list without deny', (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[0]!, { fallbacks: ['escalate'] }), 'policy.rules.0.fallbacks: deny must be allowed'],
    ['a risk-based review with no condition', (c: typeof POLICY_CONFIG) => Object.assign(c.policy.rules[6]!, { verification: { review: 'risk' } }), 'policy.rules.6.verification: name at least one condition'],
  ])('refuses %s, naming the field path', (_name, edit, message) => {
    const issues = configIssues(variant(edit as (c: typeof POLICY_CONFIG) => void));
    expect(issues.some((i) => i.startsWith(`- ${message}`))).toBe(true);
  });

  it('synth fails with the field path of a bad policy', () => {
    const bad = variant((c) => Object.assign(c.policy.rules[0]!, { fallbacks: ['deny', 'approve'] }));
    expect(() => buildStack({ config: bad })).toThrow(/Invalid hitl config:\n\s+- policy\.rules\.0\.fallbacks: fallback "approve" is refused/);
  });

  it('maps a config without a policy to an implicit default rule that keeps routing and the agent\'s group', () => {
    const legacy = parseDeploymentConfig({
      sender: 'hitl@example.com',
      lowRiskClasses: ['read-only'],
      routing: { autoApproveMinConfidence: 0.9, sampleRate: 0.2 },
      reviewerGroups: { ops: { tiers: [{ name: 'on-call', members: ['a@example.com'] }] } },
    } satisfies DeploymentConfigInput);
    const p = policyOf(legacy);
    expect(p).toMatchObject({ explicit: false, rules: [], default: { name: 'default', autoApprove: { minConfidence: 0.9 }, autoAnswer: { minConfidence: 0.7 }, auditSample: 0.2 } });
    expect(p.default.risk).toBeUndefined();
    expect(p.default.fallbacks).toEqual(['deny', 'approve', 'escalate', 'hold']);
    const admitted = admitRequest({ ...approval(), reviewerGroup: 'ops', risk: { class: 'read-only', reversible: true } }, legacy);
    expect(admitted.request.reviewerGroup).toBe('ops');
    expect(admitted.resolved.risk).toEqual({ class: 'read-only', reversible: true, low: true });
  });
});

describe('rules', () => {
  it('globs: * is any run, ? one character, the rest literal', () => {
    expect(globMatches('crm.*', 'crm.update_contact')).toBe(true);
    expect(globMatches('crm.*', 'crmXupdate')).toBe(false);
    expect(globMatches('refund?', 'refunds')).toBe(true);
    expect(globMatches('refund?', 'refund')).toBe(false);
    expect(globMatches('*.delete*', 'db.delete_table')).toBe(true);
  });

  it('the first matching rule wins; what no rule matches takes the default, the strictest', () => {
    expect(resolveRule(config, approval()).rule.name).toBe('refunds');
    expect(resolveRule(config, approval({ agent: 'owner-bot' })).rule.name).toBe('refunds');
    expect(resolveRule(config, approval({ agent: 'owner-bot', action: { name: 'tag', args: {} } })).rule.name).toBe('owner-only');
    const unknown = resolveRule(config, approval({ action: { name: 'transfer_funds', args: {} } }));
    expect(unknown.rule.name).toBe('default');
    expect(unknown.risk).toEqual({ class: 'destructive', reversible: false, low: false });
  });

  it('a rule takes what it leaves out from the default rule', () => {
    const owner = resolveRule(config, approval({ agent: 'owner-bot', action: { name: 'tag', args: {} } })).rule;
    expect(owner).toMatchObject({ reviewerGroup: 'solo', risk: { class: 'destructive', reversible: false }, fallbacks: ['deny', 'escalate'] });
  });

  it('the agent\'s claim raises the policy\'s risk and never lowers it; an unlisted class ranks above all', () => {
    const scale = policyOf(config);
    const financial = { class: 'financial', reversible: false };
    expect(raiseRisk(scale, financial, { class: 'read-only', reversible: true })).toEqual({ class: 'financial', reversible: false, low: false });
    expect(raiseRisk(scale, { class: 'internal', reversible: true }, { class: 'internal', reversible: false })).toEqual({ class: 'internal', reversible: false, low: true });
    expect(raiseRisk(scale, financial, { class: 'destructive', reversible: false }).class).toBe('destructive');
    expect(raiseRisk(scale, { class: 'read-only', reversible: true }, { class: 'radioactive', reversible: true }).class).toBe('radioactive');
  });
});

describe('routing under a policy', () => {
  it('never auto-approves an irreversible action, whatever the agent claims', () => {
    const refund = approval({ confidence: 0.99 });
    expect(planRoute(refund, 'r1', config)).toMatchObject({ route: 'review', why: expect.stringContaining('rule refunds') });
    const crm = approval({ action: { name: 'crm.update', args: {} }, risk: { class: 'read-only', reversible: true }, confidence: 0.95 });
    expect(planRoute(crm, 'r1', config)).toMatchObject({ route: 'auto', policy: 'auto-approve' });
    // The agent says it cannot be undone: the claim raises the risk, and nothing is approved alone.
    expect(planRoute({ ...crm, risk: { class: 'internal', reversible: false } }, 'r1', config)).toMatchObject({ route: 'review', why: 'the action is not reversible' });
    expect(planRoute({ ...crm, risk: { class: 'financial', reversible: true } }, 'r1', config)).toMatchObject({ route: 'review', why: 'risk class financial is not marked low' });
  });

  it('escalations and corrections always go to a person; disambiguations only when a rule auto-answers', () => {
    const common = { agent: 'a', reason: 'r', risk: { class: 'read-only', reversible: true }, confidence: 1 } as const;
    expect(planRoute(parseReviewRequest({ ...common, kind: 'escalation', task: { summary: 'x' } }), 'r1', config).route).toBe('review');
    const question = parseReviewRequest({ ...common, kind: 'disambiguation', question: 'q', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] });
    expect(planRoute(question, 'r1', config)).toMatchObject({ route: 'review', why: 'rule default asks a person every time' });
  });
});

describe('admission under a policy', () => {
  it('the $5,000 refund labelled read-only with fallback approve and a 60 s time box is refused, by field', () => {
    const issues = admissionIssues({ ...approval(), fallback: 'approve', ttlSeconds: 60 });
    expect(issues.map((i) => i.path).sort()).toEqual(['fallback', 'ttlSeconds']);
    expect(issues.find((i) => i.path === 'fallback')!.message).toBe(
      'fallback "approve" is not allowed by policy rule refunds; allowed: deny, escalate',
    );
    expect(issues.find((i) => i.path === 'ttlSeconds')!.message).toBe("60 is below policy rule refunds's minimum of 300 seconds");
  });

  it('refuses the approve fallback where the agent\'s claim raised a low rule\'s risk', () => {
    const issues = admissionIssues(approval({ action: { name: 'crm.update', args: {} }, risk: { class: 'internal', reversible: false }, fallback: 'approve' }));
    expect(issues).toEqual([
      { path: 'fallback', message: 'fallback "approve" is refused for internal · irreversible: the action is not reversible, and a policy approves only reversible actions of a low risk class' },
    ]);
  });

  it('uses the rule\'s group, not the one the agent names, and the rule\'s risk', () => {
    const admitted = admitRequest({ ...approval(), reviewerGroup: 'editors' }, config);
    expect(admitted.request.reviewerGroup).toBe('support');
    expect(admitted.resolved.risk).toEqual({ class: 'financial', reversible: false, low: false });
    expect(admitRequest({ ...approval(), reviewerGroup: undefined }, config).request.reviewerGroup).toBe('support');
  });

  it('refuses a request only the person it acts for could decide, or that too few others could approve', () => {
    expect(admissionIssues(approval({ agent: 'owner-bot', action: { name: 'tag', args: {} }, requestedBy: 'Owner@example.com' }))).toEqual([
      { path: 'requestedBy', message: 'nobody in tier 1 (owner) other than Owner@example.com, for whom the agent acts, can decide it' },
    ]);
    // Two of the three others can still approve a deletion.
    expect(() => admitRequest(approval({ action: { name: 'delete_bucket', args: {} }, requestedBy: 'ops1@example.com' }), config)).not.toThrow();
    const twoOfTwo = parseDeploymentConfig(variant((c) => c.reviewerGroups.platform.tiers[0]!.members.pop()));
    expect(() => admitRequest(approval({ action: { name: 'delete_bucket', args: {} }, requestedBy: 'ops1@example.com' }), twoOfTwo)).toThrow(
      /requestedBy: only 1 in tier 1 \(platform on-call\) other than ops1@example.com, for whom the agent acts, can decide it, and policy rule deletions needs 2 approvals/,
    );
  });
});

describe('separation of duties', () => {
  const row = { request: { requestedBy: 'Lead@Example.com' }, history: [{ tier: 2, tierName: 'managers', at: '2026-01-01T00:00:00Z', why: 'escalated', by: 'lead2@example.com' }] };

  it('the person the agent acts for never decides, in any case; whoever escalated does not decide later rounds', () => {
    expect(dutyConflict(row, 'lead@example.com')).toMatchObject({ reason: 'requester' });
    expect(dutyConflict(row, 'LEAD2@example.com')).toMatchObject({ reason: 'escalator', message: expect.stringContaining('escalated this request') });
    expect(dutyConflict(row, 'manager@example.com')).toBeUndefined();
  });
});
