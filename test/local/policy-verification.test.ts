/**
 * Verification review on the whole local stack. 1,000 report drafts under a 10% review sample: the drafts a
 * person saw are exactly those `hitl whatif` predicts from the decision log under the same policy, their
 * number is within the binomial expectation, and the rest passed at once, logged as decisions. Risk-based
 * review of customer emails sends a person exactly the drafts that meet a configured condition.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '#local/cli.ts';
import { ManualClock } from '#local/clock.ts';
import { sampleFraction } from '#shared/policies/sampling.ts';
import type { WhatIfResult } from '#shared/policies/whatif.ts';
import type { DecisionReport } from '#shared/review/report.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';
import { stackReads } from '../support/stack-reads.ts';

const clock = new ManualClock();
let stack: TestStack;
const { row, events, start, outcome, linkFor, until } = stackReads(() => stack);
let policies: string;

const DRAFTS = 1000;
const RATE = 0.1;

/** The policy config with the report rule's review changed. */
function writePolicy(name: string, verification: unknown): string {
  const config = structuredClone(POLICY_CONFIG) as { policy: { rules: { name: string; verification?: unknown }[] } };
  config.policy.rules.find((r) => r.name === 'sampled-reports')!.verification = verification;
  const file = join(policies, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...argv, '--state-dir', stack.stateDir], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  stack = await startTestStack({ clock, context: { hitl: POLICY_CONFIG } });
  policies = join(stack.stateDir, 'policies');
  mkdirSync(policies, { recursive: true });
});
afterAll(async () => stack?.stop());

const report = (i: number): ReviewRequestInput => ({
  kind: 'verification',
  agent: 'newsletter-bot',
  reason: 'weekly usage report for a customer',
  risk: { class: 'internal', reversible: true },
  confidence: 0.9,
  idempotencyKey: `weekly-report-${i}`,
  draft: { channel: 'report', title: `Usage report ${i}`, body: `Your team ran ${i} jobs this week.` },
});

/** A draft's end at the route: passed (its execution succeeded) or sent to a person (pending and emailed). */
async function routed(requestId: string): Promise<'passed' | 'reviewed'> {
  return until(`${requestId} routed`, async () => {
    const r = await row(requestId);
    if (r?.status === 'DECIDED') return 'passed';
    if (r?.status === 'PENDING' && r.notifiedRound === 1) return 'reviewed';
    return undefined;
  }, 120_000);
}

describe('sample-based verification', () => {
  it(`${DRAFTS} drafts at sample ${RATE}: the reviewed count is what whatif predicts from the log, within the binomial expectation`, async () => {
    // 20 at a time, each batch routed before the next starts, so a loaded machine does not time the functions out.
    const routes: { executionArn: string; requestId: string; route: 'passed' | 'reviewed' }[] = [];
    for (let i = 0; i < DRAFTS; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, DRAFTS - i) }, (_, j) => start(report(i + j))));
      for (const s of batch) routes.push({ ...s, route: await routed(s.requestId) });
    }
    const reviewed = routes.filter((r) => r.route === 'reviewed');
    const passed = routes.filter((r) => r.route === 'passed');

    // Binomial(1000, 0.1): mean 100, standard deviation 9.5; four either side.
    expect(Math.abs(reviewed.length - DRAFTS * RATE)).toBeLessThanOrEqual(4 * Math.sqrt(DRAFTS * RATE * (1 - RATE)));
    // The sample is the requests' own: the same ids land on the same side every time.
    expect(reviewed.map((r) => r.requestId).sort()).toEqual(routes.filter((r) => sampleFraction(r.requestId) < RATE).map((r) => r.requestId).sort());

    // People decide the sampled ones: the first five are denied.
    for (const [i, r] of reviewed.entries()) {
      const fields: Record<string, string> = i < 5 ? { choice: 'deny', round: '1', reason: 'numbers do not add up' } : { choice: 'approve', round: '1' };
      expect((await stack.submit(await linkFor(r.requestId, 'editor@example.com'), fields)).status).toBe(200);
    }
    const decisions: (typeof routes[number] & Awaited<ReturnType<typeof outcome>>)[] = [];
    for (const r of routes) decisions.push({ ...r, ...(await outcome(r.executionArn)) });
    expect(decisions.filter((d) => d.status !== 'SUCCEEDED').map((d) => [d.route, d.status, d.error, d.cause])).toEqual([]);
    for (const d of decisions.filter((x) => x.route === 'passed')) {
      expect(d.decision).toMatchObject({ kind: 'verification', outcome: 'approved', decidedBy: 'policy:not-sampled', policy: { name: 'not-sampled', rule: 'sampled-reports', why: 'not picked for the 10% review sample' } });
    }
    const one = passed[0]!;
    expect((await events(one.requestId)).map((e) => e.event).sort()).toEqual(['created', 'decided']);

    // The analysts' view: the unreviewed share is there.
    const shares = JSON.parse((await cli(['report', '--agent', 'newsletter-bot', '--json'])).out) as DecisionReport;
    expect(shares.overall).toMatchObject({ decisions: DRAFTS, byPolicy: passed.length, byPeople: reviewed.length });

    // whatif under the same policy predicts exactly what happened.
    const same = await cli(['whatif', '--policy', writePolicy('same', { review: 'sample', rate: RATE }), '--agent', 'newsletter-bot', '--json']);
    expect(same.code).toBe(0);
    const predicted = JSON.parse(same.out) as WhatIfResult;
    expect(predicted.total).toMatchObject({ decisions: DRAFTS, reviewedBefore: reviewed.length, reviewedAfter: reviewed.length, saved: 0, added: 0 });

    // A wider sample adds exactly the drafts whose fraction falls between the two rates.
    const wider = JSON.parse((await cli(['whatif', '--policy', writePolicy('wider', { review: 'sample', rate: 0.2 }), '--agent', 'newsletter-bot', '--json'])).out) as WhatIfResult;
    const between = routes.filter((r) => sampleFraction(r.requestId) >= RATE && sampleFraction(r.requestId) < 0.2).length;
    expect(wider.total).toMatchObject({ reviewedAfter: reviewed.length + between, added: between, saved: 0 });

    // No review at all saves every review and lets the five denials through: a failing check.
    const none = await cli(['whatif', '--policy', writePolicy('none', { review: 'sample', rate: 0 }), '--agent', 'newsletter-bot']);
    expect(none.code).toBe(1);
    expect(none.out).toContain(`${DRAFTS} decisions replayed: ${reviewed.length} went to people, 0 would under the proposed policy (${reviewed.length} reviews saved, 0 added).`);
    expect(none.out).toContain('5 decisions a person disagreed with would pass unreviewed:');
    expect(none.out).toContain('denied "numbers do not add up"; rule sampled-reports: not picked for the 0% review sample');

    // suggest: the repeated denial reason on a sampled rule becomes a candidate rule that reviews every report;
    // whatif on the file it writes adds the reviews and lets nothing through.
    const out = join(policies, 'suggested.json');
    const suggested = await cli(['suggest', '--config', writePolicy('current', { review: 'sample', rate: RATE }), '--out', out]);
    expect(suggested.code).toBe(0);
    expect(suggested.out).toContain(`verification#report (rule sampled-reports): people denied verification#report 5 times for the same reason: "numbers do not add up".`);
    expect(suggested.err).toContain(`wrote ${out}; check it before deploying: hitl whatif --policy ${out}`);
    const check = await cli(['whatif', '--policy', out, '--agent', 'newsletter-bot', '--json']);
    expect(check.code).toBe(0);
    expect((JSON.parse(check.out) as WhatIfResult).total).toMatchObject({ reviewedAfter: DRAFTS, added: DRAFTS - reviewed.length, saved: 0 });
  }, 600_000);
});

describe('risk-based verification', () => {
  const email = (name: string, over: { confidence?: number; recipients?: string[]; body?: string; risk?: string }): ReviewRequestInput => ({
    kind: 'verification',
    agent: 'support-writer',
    reason: `reply to a customer (${name})`,
    risk: { class: over.risk ?? 'customer-facing', reversible: false },
    confidence: over.confidence ?? 0.95,
    draft: { channel: 'email', title: 'About your order', body: over.body ?? `Your order ships tomorrow (${name}).`, recipients: over.recipients ?? ['jane@example.com'] },
  });
  const drafts = {
    plain: email('plain', {}),
    subdomain: email('subdomain', { recipients: ['jane@eu.example.com'] }),
    unsure: email('unsure', { confidence: 0.6 }),
    outside: email('outside', { recipients: ['jane@example.com', 'joe@gmail.com'] }),
    term: email('term', { body: 'We have issued your Re\u200bfund.' }),
    'agent-says-financial': email('agent-says-financial', { risk: 'financial' }),
    'no-recipients': email('no-recipients', { recipients: [] }),
  };
  const meetsCondition = ['unsure', 'outside', 'term', 'agent-says-financial', 'no-recipients'];

  it('a person sees exactly the drafts that meet a configured condition, and why; the rest pass at once, logged', async () => {
    const runs = await Promise.all(Object.entries(drafts).map(async ([name, input]) => ({ name, ...(await start(input)) })));
    const routes = await Promise.all(runs.map(async (r) => ({ ...r, route: await routed(r.requestId) })));
    expect(routes.filter((r) => r.route === 'reviewed').map((r) => r.name).sort()).toEqual([...meetsCondition].sort());

    const why = Object.fromEntries(await Promise.all(routes.filter((r) => r.route === 'reviewed').map(async (r) => [r.name, (await row(r.requestId))!.policy!.why])));
    expect(why).toEqual({
      unsure: 'confidence 0.6 is below 0.8',
      outside: 'a recipient is outside the allowed domains (joe@gmail.com)',
      term: 'it mentions "refund"',
      'agent-says-financial': 'the agent rates it financial, at or above financial',
      'no-recipients': 'it names no recipients to check against the allowed domains',
    });
    for (const r of routes.filter((x) => x.route === 'passed')) {
      expect((await outcome(r.executionArn)).decision).toMatchObject({ outcome: 'approved', decidedBy: 'policy:below-risk-threshold', policy: { name: 'below-risk-threshold', rule: 'customer-emails' } });
    }
    // A reviewed draft's Decision carries the rule and why a person saw it.
    const term = routes.find((r) => r.name === 'term')!;
    expect((await stack.submit(await linkFor(term.requestId, 'editor@example.com'), { choice: 'deny', round: '1', reason: 'no refund was issued' })).status).toBe(200);
    expect((await outcome(term.executionArn)).decision).toMatchObject({ outcome: 'denied', decidedBy: 'editor@example.com', policy: { rule: 'customer-emails', why: 'it mentions "refund"' } });
  });
});
