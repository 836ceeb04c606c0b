/**
 * The deployment's policy on the whole local stack, through its public interfaces (Step Functions, review
 * links, the tables): an agent's risk claim never lowers the policy's risk, every Decision names its rule,
 * and the person an agent acts for cannot decide. The Scheduler runs on a manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';
import { stackReads } from '../support/stack-reads.ts';

const clock = new ManualClock();
let stack: TestStack;
const { row, events, start, pending, outcome, linkFor, signedLink, until } = stackReads(() => stack);
let orders = 0;

beforeAll(async () => {
  stack = await startTestStack({ clock, context: { hitl: POLICY_CONFIG } });
});
afterAll(async () => stack?.stop());

/** The lesson's trap: a $5,000 refund the agent calls read-only. */
function refund(over: Record<string, unknown> = {}): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: 'refund', args: { order_id: `O-P${++orders}`, amount_usd: 5000 } },
    reason: 'customer asked for their money back',
    risk: { class: 'read-only', reversible: true },
    confidence: 0.99,
    reviewerGroup: 'support',
    ...over,
  } as ReviewRequestInput;
}

function crm(over: Record<string, unknown> = {}): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'crm-bot',
    action: { name: 'crm.update_contact', args: { id: `C-${++orders}` } },
    reason: 'customer changed their phone number',
    risk: { class: 'internal', reversible: true },
    confidence: 0.95,
    ...over,
  } as ReviewRequestInput;
}

/** Fire every schedule due by the end of the request's time box. */
async function expire(requestId: string): Promise<void> {
  const r = (await row(requestId))!;
  await stack.scheduler.advanceTo(Math.max(clock.now(), Date.parse(r.expiresAt) + 1000));
}

describe("an agent's lower risk claim never lowers the policy's risk", () => {
  it('the $5,000 refund labelled read-only, with fallback approve and a 60 s time box, fails at once by field; nothing is stored or emailed', async () => {
    const emailsBefore = (await stack.emails()).length;
    const { executionArn, requestId } = await start(refund({ fallback: 'approve', ttlSeconds: 60 }));
    const done = await outcome(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });
    expect(done.cause).toContain('fallback: fallback \\"approve\\" is not allowed by policy rule refunds; allowed: deny, escalate');
    expect(done.cause).toContain("ttlSeconds: 60 is below policy rule refunds's minimum of 300 seconds");
    expect(await row(requestId)).toBeUndefined();
    expect((await stack.emails()).length).toBe(emailsBefore);
  });

  it('labelled read-only and 99% confident, it still goes to a person, whose card shows both; at expiry the deny fallback applies', async () => {
    const { executionArn, requestId } = await start(refund({ ttlSeconds: 600 }));
    const pendingRow = await pending(requestId);
    expect(pendingRow.policy).toMatchObject({ rule: 'refunds', risk: { class: 'financial', reversible: false, low: false } });
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect(email!.body.text).toContain('agent says read-only · reversible; policy: financial · irreversible');
    const page = await (await fetch(stack.reviewLinks(email!)[0]!)).text();
    expect(page).toContain('agent says read-only · reversible; policy: financial · irreversible');

    await expire(requestId);
    const done = await outcome(executionArn);
    expect(done.decision).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny', rule: 'refunds' } });
  });

  it('a CRM edit is auto-approved under its rule; claimed irreversible, it goes to a person and may not use the approve fallback', async () => {
    const auto = await start(crm());
    expect((await outcome(auto.executionArn)).decision).toMatchObject({
      outcome: 'approved',
      decidedBy: 'policy:auto-approve',
      policy: { name: 'auto-approve', rule: 'crm-edits', why: expect.stringContaining('confidence 0.95 ≥ 0.9') },
    });

    const raised = await start(crm({ risk: { class: 'internal', reversible: false } }));
    expect((await pending(raised.requestId)).policy).toMatchObject({ rule: 'crm-edits', why: 'the action is not reversible', risk: { reversible: false } });

    const refused = await start(crm({ risk: { class: 'internal', reversible: false }, fallback: 'approve' }));
    const done = await outcome(refused.executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });
    expect(done.cause).toContain('fallback \\"approve\\" is refused for internal · irreversible: the action is not reversible');
  });

  it('where the rule allows it (internal, reversible), the approve fallback approves at expiry', async () => {
    const { executionArn, requestId } = await start(crm({ confidence: 0.5, fallback: 'approve', ttlSeconds: 600 }));
    await pending(requestId);
    await expire(requestId);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'approved', decidedBy: 'policy:fallback-approve', policy: { rule: 'crm-edits' } });
  });

  it('an action no rule names takes the default rule\'s risk, the strictest, whatever the agent says', async () => {
    const unknown = await start(refund({ action: { name: 'transfer_funds', args: { amount_usd: 5000 } }, fallback: 'approve' }));
    expect((await outcome(unknown.executionArn)).cause).toContain('fallback \\"approve\\" is not allowed by policy rule default');
    const asked = await start(refund({ action: { name: 'transfer_funds', args: { amount_usd: 5000 } } }));
    expect((await pending(asked.requestId)).policy).toMatchObject({ rule: 'default', risk: { class: 'destructive', reversible: false } });
  });
});

describe('who decides is the rule\'s', () => {
  it('a request naming another group goes to the rule\'s group', async () => {
    const { executionArn, requestId } = await start(refund({ reviewerGroup: 'editors', confidence: 0.5 }));
    expect((await pending(requestId)).reviewerGroup).toBe('support');
    await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect(await stack.reviewEmails(requestId, { to: 'editor@example.com' })).toEqual([]);
    expect((await stack.submit(await linkFor(requestId, 'lead@example.com'), { choice: 'deny', round: '1', reason: 'no' })).status).toBe(200);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'denied', decidedBy: 'lead@example.com' });
  });
});

describe('every Decision names its rule', () => {
  it('a person\'s decision carries policy.rule and why, without a policy name; the final event has it too', async () => {
    const { executionArn, requestId } = await start(refund({ confidence: 0.5 }));
    await pending(requestId);
    expect((await stack.submit(await linkFor(requestId, 'lead@example.com'), { choice: 'approve', round: '1' })).status).toBe(200);
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com', policy: { rule: 'refunds', why: 'auto-approval is not configured for rule refunds' } });
    expect(decision!.policy!.name).toBeUndefined();
    const final = (await events(requestId)).find((e) => e.event === 'decided')!;
    expect(final.decision).toEqual(decision);
    expect((await events(requestId)).find((e) => e.event === 'created')!.details).toMatchObject({ rule: 'refunds' });
  });
});

describe('separation of duties', () => {
  it('the person the agent acts for is not emailed, and their link is refused with a page that says why; someone else decides', async () => {
    const { executionArn, requestId } = await start(refund({ requestedBy: 'Lead@Example.com', confidence: 0.5 }));
    await pending(requestId);
    await stack.waitForReviewEmails(requestId, { to: 'lead2@example.com' });
    expect(await stack.reviewEmails(requestId, { to: 'lead@example.com' })).toEqual([]);

    const own = signedLink(requestId, 'lead@example.com');
    const view = await fetch(own);
    expect(view.status).toBe(403);
    const viewPage = await view.text();
    expect(viewPage).toContain('The agent acts for lead@example.com, so someone else must decide this request.');
    expect(viewPage).not.toContain('value="approve"');
    const post = await stack.submit(own, { choice: 'approve', round: '1' });
    expect(post.status).toBe(403);
    expect(await post.text()).toContain('Nothing was recorded.');
    expect((await row(requestId))!.status).toBe('PENDING');
    expect((await events(requestId)).map((e) => e.event)).not.toContain('decided');

    expect((await stack.submit(await linkFor(requestId, 'lead2@example.com'), { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'approved', decidedBy: 'lead2@example.com' });
  });

  it('a request nobody but the person it acts for could decide is refused at once', async () => {
    const { executionArn } = await start({ ...refund(), agent: 'owner-bot', action: { name: 'tag', args: {} }, requestedBy: 'owner@example.com' });
    const done = await outcome(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });
    expect(done.cause).toContain('requestedBy: nobody in tier 1 (owner) other than owner@example.com, for whom the agent acts, can decide it');
  });

  it('whoever escalates is recorded, and the next tier decides', async () => {
    const { executionArn, requestId } = await start(refund({ confidence: 0.5, fallback: 'escalate' }));
    await pending(requestId);
    const escalated = await stack.submit(await linkFor(requestId, 'lead2@example.com'), { choice: 'escalate', round: '1' });
    expect(escalated.status).toBe(200);
    const r = await until('round 2', async () => {
      const current = await row(requestId);
      return current?.round === 2 && current.notifiedRound === 2 ? current : undefined;
    });
    expect(r.history!.at(-1)).toMatchObject({ tier: 2, by: 'lead2@example.com' });
    expect((await stack.submit(await linkFor(requestId, 'manager@example.com'), { choice: 'deny', round: '2', reason: 'not without a receipt' })).status).toBe(200);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'denied', decidedBy: 'manager@example.com', tier: 2, policy: { rule: 'refunds' } });
  });
});
