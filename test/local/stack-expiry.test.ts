/**
 * Expiry on the local stack with an injected Scheduler clock: the one-time schedule the request function
 * creates fires when the clock reaches it (not before), and the fallback policy ends or escalates the request.
 */
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { parseExpression } from '#local/scheduler/expression.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

describe('local stack: expiry schedules on an injected clock', () => {
  const clock = new ManualClock();
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ clock });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const request = (orderId: string, fallback: 'deny' | 'escalate'): ReviewRequestInput => ({
    kind: 'approval',
    agent: 'customer-support-agent',
    action: { name: 'refund', args: { order_id: orderId, amount_usd: 350 } },
    reason: 'customer reported defective product, attached photos confirm',
    risk: { class: 'financial', reversible: false },
    reviewerGroup: 'support-leads',
    ttlSeconds: 300,
    fallback,
  });

  /** Start a request, wait for its emails, and return the instant its expiry schedule fires. */
  async function startAndFindSchedule(orderId: string, fallback: 'deny' | 'escalate') {
    const input = request(orderId, fallback);
    const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
    const requestId = stack.requestIdOf(executionArn!, input);
    await stack.waitForReviewEmails(requestId, { count: 2 });
    const listed = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: stack.scheduleGroup }));
    const summaries = listed.Schedules ?? [];
    const details = await Promise.all(summaries.map((s) => stack.clients.scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }))));
    const mine = details.find((d) => (d.Target?.Input ?? '').length > 0 && d.State === 'ENABLED' && JSON.parse(d.Target!.Input!).round === 1 && !fired.has(d.Name!));
    expect(mine).toBeDefined();
    fired.add(mine!.Name!);
    const parsed = parseExpression(mine!.ScheduleExpression!, mine!.ScheduleExpressionTimezone ?? 'UTC');
    if (parsed?.kind !== 'at') throw new Error(`expected a one-time schedule, got ${mine!.ScheduleExpression}`);
    return { executionArn: executionArn!, requestId, at: parsed.at, name: mine!.Name! };
  }
  const fired = new Set<string>();

  it('fires at the schedule time, not before; the deny fallback ends the execution with its Decision', async () => {
    const { executionArn, at, name } = await startAndFindSchedule('O-5001', 'deny');
    expect(at - Date.now()).toBeGreaterThan(50_000);

    await stack.scheduler.advanceTo(at - 1000);
    expect((await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    await stack.scheduler.advanceTo(at);
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny' });
    const gone = await stack.clients.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: stack.scheduleGroup })).catch((e: Error) => e);
    expect((gone as Error).name).toBe('ResourceNotFoundException');
  });

  it('the escalate fallback hands the request to the next tier, whose link decides it', async () => {
    const { executionArn, requestId, at } = await startAndFindSchedule('O-5002', 'escalate');
    await stack.scheduler.advanceTo(at);
    const [managerEmail] = await stack.waitForReviewEmails(requestId, { to: 'manager@example.com' });
    expect((await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    const link = stack.reviewLinks(managerEmail!)[0]!;
    expect((await stack.submit(link, { choice: 'approve', round: '2' })).status).toBe(200);
    const done = await stack.waitForExecution(executionArn);
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'approved', decidedBy: 'manager@example.com', tier: 2 });
  });
});
