/**
 * The TypeScript client (clients/typescript) against the local stack, configured from the stack's
 * `.hitl/local.json` as an agent on a developer's machine would be: approve, modify, deny, expiry, cancel,
 * the same Decision for the same tool-call id, and a wait that gives up without ending the review.
 */
import { join } from 'node:path';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { parseExpression } from '#local/scheduler/expression.ts';
import { Hitl, ReviewWaitAbortedError, type ApprovalRequest } from '../../clients/typescript/src/index.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const refundRequest = (orderId: string, extra: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  kind: 'approval',
  agent: 'billing-bot',
  action: { name: 'refund', args: { order_id: orderId, amount_usd: 40 } },
  reason: 'duplicate charge',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
  ttlSeconds: 300,
  ...extra,
});

describe('TypeScript client on the local stack', () => {
  const clock = new ManualClock();
  let stack: TestStack;
  let hitl: Hitl;

  beforeAll(async () => {
    stack = await startTestStack({ clock });
    hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Wait for the request's email to lead@example.com and post the reviewer's choice. */
  async function decide(requestId: string, fields: Record<string, string>): Promise<void> {
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  async function fireExpiry(requestId: string): Promise<void> {
    await stack.waitForReviewEmails(requestId, { count: 2 });
    const listed = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: stack.scheduleGroup }));
    const details = await Promise.all((listed.Schedules ?? []).map((s) => stack.clients.scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }))));
    const mine = details.find((d) => d.Target?.Input?.includes(requestId));
    const parsed = parseExpression(mine!.ScheduleExpression!, mine!.ScheduleExpressionTimezone ?? 'UTC');
    if (parsed?.kind !== 'at') throw new Error(`expected a one-time schedule, got ${mine!.ScheduleExpression}`);
    await stack.scheduler.advanceTo(parsed.at);
  }

  it('finds the state machine in the endpoints file', () => {
    expect(hitl.stateMachineArn).toBe(stack.stateMachineArn);
  });

  it('review(): an approval returns the approved Decision', async () => {
    const handle = await hitl.start(refundRequest('O-8001'));
    expect(await handle.status()).toBe('RUNNING');
    await decide(handle.requestId, { choice: 'approve' });
    const decision = await handle.wait({ timeout: 30_000 });
    expect(decision).toMatchObject({ requestId: handle.requestId, outcome: 'approved', decidedBy: 'lead@example.com', approvedArgs: { order_id: 'O-8001', amount_usd: 40 } });
    expect(await handle.status()).toBe('SUCCEEDED');
  });

  const calls: unknown[] = [];
  async function refund(args: { order_id: string; amount_usd: number }) {
    calls.push(args);
    return `refunded ${args.amount_usd} USD on ${args.order_id}`;
  }
  const gated = () =>
    hitl.gate(refund, {
      agent: 'billing-bot',
      reviewerGroup: 'support-leads',
      risk: { class: 'financial', reversible: false },
      reason: (args) => `customer asked for a refund of ${args.amount_usd} USD`,
      ttlSeconds: 300,
      wait: { timeout: 60_000 },
    });
  const requestIdOfCall = (toolCallId: string) => stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: toolCallId });

  it('gate(): a modification runs the tool with the reviewer’s args', async () => {
    const result = gated()({ order_id: 'O-8002', amount_usd: 300 }, { toolCallId: 'call-modify' });
    await decide(requestIdOfCall('call-modify'), { choice: 'modify', 'arg.order_id': 'O-8002', 'arg.amount_usd': '250' });
    expect(await result).toBe('refunded 250 USD on O-8002');
    expect(calls).toEqual([{ order_id: 'O-8002', amount_usd: 250 }]);
  });

  it('gate(): a denial is a tool result naming who said no and why, and the tool does not run', async () => {
    calls.length = 0;
    const result = gated()({ order_id: 'O-8003', amount_usd: 90 }, { toolCallId: 'call-deny' });
    await decide(requestIdOfCall('call-deny'), { choice: 'deny', reason: 'already refunded last week' });
    expect(await result).toBe('Not done: refund was denied by lead@example.com: already refunded last week. Do not retry it unchanged.');
    expect(calls).toEqual([]);
  });

  it('gate(): the same tool-call id after a restart gets the same Decision without a second review', async () => {
    calls.length = 0;
    const again = await gated()({ order_id: 'O-8002', amount_usd: 300 }, { toolCallId: 'call-modify' });
    expect(again).toBe('refunded 250 USD on O-8002');
    const denied = await gated()({ order_id: 'O-8003', amount_usd: 90 }, { toolCallId: 'call-deny' });
    expect(denied).toContain('already refunded last week');
    expect(calls).toEqual([{ order_id: 'O-8002', amount_usd: 250 }]);
    expect(await stack.reviewEmails(requestIdOfCall('call-modify'))).toHaveLength(2); // the two tier-1 leads, once
  });

  it('gate(): an expiry under the deny fallback says nobody approved in time, with the policy', async () => {
    calls.length = 0;
    const result = gated()({ order_id: 'O-8004', amount_usd: 10 }, { toolCallId: 'call-expire' });
    await fireExpiry(requestIdOfCall('call-expire'));
    const text = await result;
    expect(text).toMatch(/^Not done: nobody approved refund in time/);
    expect(text).toContain('policy fallback-deny');
    expect(calls).toEqual([]);
  });

  it('cancel(): stops the execution; wait() returns a cancelled Decision', async () => {
    const handle = await hitl.start(refundRequest('O-8005'));
    await stack.waitForReviewEmails(handle.requestId, { to: 'lead@example.com' });
    await handle.cancel('the customer withdrew');
    const decision = await handle.wait({ timeout: 30_000 });
    expect(decision).toMatchObject({ requestId: handle.requestId, outcome: 'cancelled', reason: 'the customer withdrew' });
    expect(await handle.status()).toBe('ABORTED');
  });

  it('wait({ timeout }) gives up without ending the review; a later wait gets the Decision', async () => {
    const handle = await hitl.start(refundRequest('O-8006'));
    await expect(handle.wait({ timeout: 300 })).rejects.toBeInstanceOf(ReviewWaitAbortedError);
    const controller = new AbortController();
    const aborted = handle.wait({ signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(ReviewWaitAbortedError);
    expect(await handle.status()).toBe('RUNNING');
    await decide(handle.requestId, { choice: 'approve' });
    expect((await handle.wait({ timeout: 30_000 })).outcome).toBe('approved');
  });
});
