import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseReviewRequest } from '#shared/schemas/review-request.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { parseResponseForm } from '#shared/schemas/response-form.ts';
import { JSON_SCHEMA_FILES, renderJsonSchema } from '#shared/schemas/json-schema.ts';
import { ConfigError, InvalidRequestError } from '#shared/errors.ts';
import { DEMO_REQUEST } from '#local/demo-agent.ts';

const refund = DEMO_REQUEST;

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidRequestError);
    return [...(e as InvalidRequestError).issues];
  }
  throw new Error('expected an InvalidRequestError');
}

describe('ReviewRequest', () => {
  it('accepts the lesson example and applies defaults', () => {
    const r = parseReviewRequest(refund);
    expect(r.kind).toBe('approval');
    expect(r.fallback).toBe('deny');
  });

  it('rejects bad input with the zod path of each problem', () => {
    const paths = issuesOf(() =>
      parseReviewRequest({ ...refund, action: { name: '1 bad', args: [] }, planStep: { current: 5, total: 4 }, risk: { class: 'Financial!' } }),
    ).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['action.name', 'action.args', 'planStep.current', 'risk.class', 'risk.reversible']));
  });

  it('names the missing discriminator and unknown kinds', () => {
    expect(issuesOf(() => parseReviewRequest({ ...refund, kind: 'vibes' }))[0]?.path).toBe('kind');
  });

  it('validates every kind', () => {
    const base = { agent: 'a', reason: 'r', risk: { class: 'low', reversible: true }, reviewerGroup: 'g' };
    expect(parseReviewRequest({ ...base, kind: 'disambiguation', question: 'Which?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] }).kind).toBe('disambiguation');
    expect(issuesOf(() => parseReviewRequest({ ...base, kind: 'disambiguation', question: 'Which?', options: [{ id: 'a', label: 'A' }, { id: 'a', label: 'B' }] }))[0]?.path).toBe('options');
    expect(parseReviewRequest({ ...base, kind: 'verification', draft: { channel: 'email', body: 'Hello' } }).kind).toBe('verification');
    expect(parseReviewRequest({ ...base, kind: 'escalation', task: { summary: 'Angry customer' } }).kind).toBe('escalation');
    expect(issuesOf(() => parseReviewRequest({ ...base, kind: 'correction', output: { id: 'm1' } }))[0]?.path).toBe('output.content');
  });

  it('never lets the agent pick an approver address', () => {
    expect(issuesOf(() => parseReviewRequest({ ...refund, reviewerGroup: 'boss@example.com' }))[0]?.path).toBe('reviewerGroup');
  });
});

describe('deployment config', () => {
  it('fails naming the bad field', () => {
    expect(() =>
      parseDeploymentConfig({ sender: 'hitl@example.com', reviewerGroups: { ops: { tiers: [{ name: 'x', members: ['not-an-email'] }], timeZone: 'Mars/Olympus' } } }),
    ).toThrow(ConfigError);
    try {
      parseDeploymentConfig({ sender: 'hitl@example.com', reviewerGroups: { ops: { tiers: [{ name: 'x', members: ['not-an-email'] }], timeZone: 'Mars/Olympus' } } });
    } catch (e) {
      expect((e as Error).message).toContain('reviewerGroups.ops.tiers.0.members.0');
      expect((e as Error).message).toContain('reviewerGroups.ops.timeZone');
    }
  });

  it('takes IANA time zones, canonical or aliases, and UTC', () => {
    const withZone = (timeZone: string) => parseDeploymentConfig({ sender: 'hitl@example.com', reviewerGroups: { ops: { tiers: [{ name: 'x', members: ['a@example.com'] }], timeZone } } });
    for (const zone of ['UTC', 'Europe/London', 'America/Argentina/Buenos_Aires', 'US/Eastern', 'Asia/Calcutta']) {
      expect(withZone(zone).reviewerGroups.ops!.timeZone).toBe(zone);
    }
    for (const zone of ['Mars/Olympus', 'europe/london!', '']) expect(() => withZone(zone)).toThrow(/reviewerGroups\.ops\.timeZone/);
  });

  it('checks TTL order and business hours', () => {
    expect(() =>
      parseDeploymentConfig({
        sender: 'hitl@example.com',
        reviewerGroups: { ops: { tiers: [{ name: 'x', members: ['a@example.com'] }], defaultTtlSeconds: 7200, maxTtlSeconds: 3600, businessHours: { days: ['mon'], start: '18:00', end: '09:00' } } },
      }),
    ).toThrow(/reviewerGroups\.ops\.businessHours\.end[\s\S]*|defaultTtlSeconds/);
  });

  it('accepts the sample in cdk.json', () => {
    const cdk = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: { hitl: unknown } };
    expect(Object.keys(parseDeploymentConfig(cdk.context.hitl).reviewerGroups)).toContain('support-leads');
  });
});

describe('response form', () => {
  it('requires a reason to deny', () => {
    expect(() => parseResponseForm({ choice: 'deny', round: '1', reason: '' })).toThrow(/reason/);
    expect(parseResponseForm({ choice: 'deny', round: '1', reason: 'too large' })).toMatchObject({ choice: 'deny', reason: 'too large' });
  });
  it('gathers arg.* fields', () => {
    expect(parseResponseForm({ choice: 'modify', round: '2', 'arg.amount_usd': '300' })).toMatchObject({ round: 2, args: { amount_usd: '300' } });
  });
});

describe('examples', () => {
  it('docs/examples/refund.json is the demo agent\'s request', () => {
    expect(parseReviewRequest(JSON.parse(readFileSync('docs/examples/refund.json', 'utf8')))).toEqual(parseReviewRequest(DEMO_REQUEST));
  });
});

describe('JSON Schema', () => {
  it.each(Object.keys(JSON_SCHEMA_FILES) as (keyof typeof JSON_SCHEMA_FILES)[])('docs/schemas/%s is current (run npm run schema)', (name) => {
    expect(readFileSync(`docs/schemas/${name}`, 'utf8')).toBe(renderJsonSchema(name));
  });
});
