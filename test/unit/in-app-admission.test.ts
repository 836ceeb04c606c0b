import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '#shared/errors.ts';
import { backstopSeconds } from '#shared/policies/backstop.ts';
import { admitRequest } from '#shared/review/admission.ts';
import { IN_APP_GROUP } from '#shared/review/groups.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';

const shipped = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { hitl: Record<string, unknown> } }).context.hitl;
const inApp = { issuer: 'https://auth.example.com/', audience: ['host-app'], maxTtlSeconds: 7 * 86400 };
const enabled = parseDeploymentConfig({ ...shipped, inApp });
const disabled = parseDeploymentConfig(shipped);

const crmEdit = (extra: Partial<ReviewRequestInput> = {}): ReviewRequestInput =>
  ({
    kind: 'approval',
    agent: 'crm-agent',
    action: { name: 'crm.update_contact', args: { contact_id: 'C-1' } },
    reason: 'asked by the customer',
    risk: { class: 'internal', reversible: true },
    respondent: { id: 'alice' },
    ...extra,
  }) as ReviewRequestInput;

function issues(input: ReviewRequestInput, config = enabled): { path: string; message: string }[] {
  try {
    admitRequest(input, config);
  } catch (err) {
    if (err instanceof InvalidRequestError) return [...err.issues];
    throw err;
  }
  throw new Error('admitted');
}

describe('admitting a request that names a respondent', () => {
  it('routes it to the respondent, with the in-app time box, when the config enables in-app', () => {
    const { request, group } = admitRequest(crmEdit(), enabled);
    expect(request.reviewerGroup).toBe(IN_APP_GROUP);
    expect(request.ttlSeconds).toBe(1800);
    expect(group.tiers).toEqual([{ name: 'the respondent', members: [] }]);
  });

  it('is refused, naming respondent, when the deployment does not enable in-app', () => {
    expect(issues(crmEdit(), disabled)).toEqual([expect.objectContaining({ path: 'respondent', message: expect.stringContaining('config inApp') })]);
  });

  it('is refused with both a respondent and a reviewer group', () => {
    expect(issues(crmEdit({ reviewerGroup: 'support-leads' })).map((i) => i.path)).toContain('respondent');
  });

  it('goes to the group a matching rule names (refunds), whatever the respondent', () => {
    const refund = crmEdit({ action: { name: 'refund', args: { order_id: 'O-1' } }, risk: { class: 'financial', reversible: false }, ttlSeconds: 300 } as Partial<ReviewRequestInput>);
    expect(admitRequest(refund, enabled).request.reviewerGroup).toBe('support-leads');
  });

  it('refuses a hold fallback (no business hours), the respondent being the person the agent acts for, and a time box over the in-app maximum', () => {
    expect(issues(crmEdit({ fallback: 'hold' } as Partial<ReviewRequestInput>)).map((i) => i.path)).toContain('fallback');
    expect(issues(crmEdit({ respondent: { id: 'alice', email: 'Alice@example.com' }, requestedBy: 'alice@example.com' })).map((i) => i.path)).toEqual(['respondent']);
    const short = parseDeploymentConfig({ ...shipped, inApp: { ...inApp, defaultTtlSeconds: 300, maxTtlSeconds: 600 } });
    expect(issues(crmEdit({ ttlSeconds: 900 }), short)).toEqual([expect.objectContaining({ path: 'ttlSeconds', message: expect.stringContaining("in-app requests' maximum of 600") })]);
  });

  it('the backstop covers the longest in-app time box', () => {
    expect(backstopSeconds(enabled)).toBeGreaterThanOrEqual(7 * 86400 + enabled.backstopGraceSeconds);
  });

  it('Decision accepts the channel field and refuses an unknown one', () => {
    const base = { requestId: 'r1', kind: 'approval', outcome: 'approved', decidedBy: 'alice', tier: 1, requestedAt: '2026-01-01T00:00:00.000Z', decidedAt: '2026-01-01T00:01:00.000Z', latencyMs: 60000 };
    expect(Decision.safeParse({ ...base, channel: 'in-app' }).success).toBe(true);
    expect(Decision.safeParse({ ...base, channel: 'fax' }).success).toBe(false);
  });
});
