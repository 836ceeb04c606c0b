/** The web inbox's pure parts: its signed tokens and form token, and trust rules' bounds, creation checks and matching. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '#shared/errors.ts';
import { formToken, InboxTokenError, newNonce, signToken, verifyFormToken, verifyToken, type InboxToken } from '#shared/inbox/tokens.ts';
import { matchTrustRule, whyNotTrustable, withinBounds } from '#shared/policies/trust-rules.ts';
import { resolveRule } from '#shared/policies/rules.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { parseReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { parseTrustRuleForm, type TrustRule } from '#shared/schemas/trust-rule.ts';
import { parseKeyRing, reviewUrl } from '#shared/signing.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';

const ring = parseKeyRing(JSON.stringify({ current: 'k2', k1: 'a'.repeat(40), k2: 'b'.repeat(40) }));
const NOW = Date.parse('2026-03-02T10:00:00Z');
const token = (over: Partial<InboxToken> = {}): InboxToken => ({ purpose: 'sign-in', approver: 'lead@example.com', expiresAt: NOW / 1000 + 900, nonce: newNonce(), ...over });

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof InboxTokenError ? err.reason : String(err);
  }
}

describe('inbox tokens', () => {
  it('verify when untouched, for their own purpose only', () => {
    const t = token();
    const text = signToken(ring, t);
    expect(verifyToken(ring, 'sign-in', text, NOW)).toEqual(t);
    expect(reason(() => verifyToken(ring, 'session', text, NOW))).toBe('bad-signature');
  });

  it('refuse a changed payload, a changed signature, an unknown key and junk; report expiry only for an authentic token', () => {
    const text = signToken(ring, token());
    const [payload, keyId, sig] = text.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), a: 'manager@example.com' })).toString('base64url');
    expect(reason(() => verifyToken(ring, 'sign-in', `${other}.${keyId}.${sig}`, NOW))).toBe('bad-signature');
    expect(reason(() => verifyToken(ring, 'sign-in', `${payload}.${keyId}.${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`, NOW))).toBe('bad-signature');
    expect(reason(() => verifyToken(ring, 'sign-in', `${payload}.k9.${sig}`, NOW))).toBe('bad-signature');
    for (const junk of [undefined, '', 'a.b', `${payload}.${keyId}.${sig}.x`, 'x'.repeat(2000)]) expect(reason(() => verifyToken(ring, 'sign-in', junk, NOW))).toBe('malformed');
    expect(reason(() => verifyToken(ring, 'sign-in', text, NOW + 900_000))).toBe('expired');
  });

  it('is not a review link signature, and a review link is not a token: the keys are derived per purpose', () => {
    const link = new URL(reviewUrl('https://x.example', { requestId: 'r1', approver: 'lead@example.com', expiresAt: NOW / 1000 + 900 }, ring));
    const s = link.searchParams.get('s')!;
    const text = signToken(ring, token());
    const [payload] = text.split('.');
    expect(reason(() => verifyToken(ring, 'sign-in', `${payload}.k2.${s}`, NOW))).toBe('bad-signature');
  });

  it('a token signed with an older key of the ring still verifies (a rotation does not sign everyone out)', () => {
    const old = parseKeyRing(JSON.stringify({ current: 'k1', k1: 'a'.repeat(40) }));
    const t = token({ purpose: 'session' });
    expect(verifyToken(ring, 'session', signToken(old, t), NOW)).toEqual(t);
  });

  it('the form token belongs to one session', () => {
    const session = token({ purpose: 'session' });
    const f = formToken(ring, session);
    expect(verifyFormToken(ring, session, f)).toBe(true);
    expect(verifyFormToken(ring, { ...session, nonce: newNonce() }, f)).toBe(false);
    expect(verifyFormToken(ring, session, undefined)).toBe(false);
    expect(verifyFormToken(ring, session, 'x')).toBe(false);
  });
});

const config = parseDeploymentConfig({
  ...POLICY_CONFIG,
  policy: {
    ...POLICY_CONFIG.policy,
    rules: [{ name: 'credits', match: { kind: 'approval', action: 'credit' }, risk: { class: 'financial', reversible: true }, reviewerGroup: 'support' }, ...POLICY_CONFIG.policy.rules],
  },
});
const now = new Date(NOW);

const rule = (over: Partial<TrustRule> = {}): TrustRule => ({
  id: 'tr-000000000001',
  group: 'support',
  agent: 'billing-bot',
  action: 'credit',
  bounds: [{ arg: 'amount_usd', op: '<=', value: 50 }],
  createdBy: 'lead@example.com',
  createdAt: '2026-03-02T09:00:00.000Z',
  expiresAt: '2026-03-02T12:00:00.000Z',
  ...over,
});

function credit(args: Record<string, unknown>, over: Partial<ReviewRequestInput> = {}) {
  const request = parseReviewRequest({
    kind: 'approval',
    agent: 'billing-bot',
    reason: 'goodwill',
    risk: { class: 'financial', reversible: true },
    action: { name: 'credit', args },
    ...over,
  } as ReviewRequestInput);
  return { request: { ...request, reviewerGroup: 'support' }, resolved: resolveRule(config, request) };
}

describe('trust rule form', () => {
  it('reads bounds as <argument> <op> <value>, with ≤ and ≥ and quoted strings', () => {
    const form = parseTrustRuleForm({ group: 'support', agent: 'billing-bot', action: 'credit', bounds: 'amount_usd ≤ 50, currency = "USD"\nretries >= 0', hours: '4' });
    expect(form.bounds).toEqual([
      { arg: 'amount_usd', op: '<=', value: 50 },
      { arg: 'currency', op: '=', value: 'USD' },
      { arg: 'retries', op: '>=', value: 0 },
    ]);
  });

  it('names the bad field: an unreadable or non-numeric comparison, no bounds, too many hours', () => {
    const issues = (fields: Record<string, string>) => {
      try {
        parseTrustRuleForm({ group: 'support', agent: 'billing-bot', action: 'credit', hours: '4', ...fields });
        return [];
      } catch (err) {
        return (err as InvalidRequestError).issues.map((i) => `${i.path}: ${i.message}`);
      }
    };
    expect(issues({ bounds: 'amount_usd about 50' })[0]).toMatch(/^bounds: "amount_usd about 50": write <argument> <op> <value>/);
    expect(issues({ bounds: 'currency <= USD' })[0]).toMatch(/^bounds: "currency <= USD"/);
    expect(issues({ bounds: ' , ' })[0]).toMatch(/^bounds: name 1 to 10 argument bounds/);
    expect(issues({ bounds: 'amount_usd <= 5', hours: '73' })[0]).toMatch(/^hours: /);
  });
});

describe('creating a trust rule', () => {
  const target = { group: 'support', agent: 'billing-bot', action: 'credit', createdBy: 'lead2@example.com' };
  it('is allowed for a reversible action of the reviewer\'s own group', () => {
    expect(whyNotTrustable(config, target, [], now)).toBeUndefined();
  });
  it('is refused for an irreversible action, a quorum rule, another group\'s action, or a non-member', () => {
    expect(whyNotTrustable(config, { ...target, action: 'refund' }, [], now)).toBe('policy rule refunds treats refund as financial · irreversible: irreversible actions always go to a person');
    expect(whyNotTrustable(config, { ...target, action: 'transfer_funds' }, [], now)).toContain('policy rule default treats transfer_funds as destructive · irreversible');
    expect(whyNotTrustable(config, { ...target, group: 'platform', action: 'delete_user', createdBy: 'ops1@example.com' }, [], now)).toContain('irreversible');
    expect(whyNotTrustable(config, { ...target, action: 'crm.update_contact', group: 'editors', createdBy: 'editor@example.com' }, [], now)).toBe(
      'policy rule crm-edits sends crm.update_contact requests to the "support" group, not "editors"',
    );
    expect(whyNotTrustable(config, { ...target, createdBy: 'editor@example.com' }, [], now)).toBe('editor@example.com is not a member of the "support" group');
  });
});

describe('matching a trust rule', () => {
  it('within bounds, active, same group, agent and action: the rule', () => {
    const { request, resolved } = credit({ account: 'A-1', amount_usd: 50 });
    expect(matchTrustRule([rule()], request, resolved, now)?.id).toBe('tr-000000000001');
  });

  it('no match outside the bounds, with the bounded argument missing or not a number', () => {
    expect(withinBounds(rule().bounds, { amount_usd: 50.01 })).toBe(false);
    expect(withinBounds(rule().bounds, {})).toBe(false);
    expect(withinBounds(rule().bounds, { amount_usd: '10' })).toBe(false);
    expect(withinBounds([{ arg: 'currency', op: '=', value: 'USD' }], { currency: 'USD' })).toBe(true);
  });

  it('no match once revoked or expired, for another agent, action or group, or for the rule creator\'s own request', () => {
    const { request, resolved } = credit({ amount_usd: 10 });
    expect(matchTrustRule([rule({ revokedAt: '2026-03-02T09:30:00.000Z', revokedBy: 'lead2@example.com' })], request, resolved, now)).toBeUndefined();
    expect(matchTrustRule([rule({ expiresAt: '2026-03-02T10:00:00.000Z' })], request, resolved, now)).toBeUndefined();
    expect(matchTrustRule([rule({ agent: 'other-bot' })], request, resolved, now)).toBeUndefined();
    expect(matchTrustRule([rule({ action: 'credit2' })], request, resolved, now)).toBeUndefined();
    expect(matchTrustRule([rule({ group: 'editors' })], request, resolved, now)).toBeUndefined();
    const own = credit({ amount_usd: 10 }, { requestedBy: 'LEAD@example.com' });
    expect(matchTrustRule([rule()], own.request, own.resolved, now)).toBeUndefined();
  });

  it('no match when the agent claims the action irreversible: the effective risk is re-checked at match time', () => {
    const { request, resolved } = credit({ amount_usd: 10 }, { risk: { class: 'financial', reversible: false } });
    expect(resolved.risk.reversible).toBe(false);
    expect(matchTrustRule([rule()], request, resolved, now)).toBeUndefined();
  });
});
