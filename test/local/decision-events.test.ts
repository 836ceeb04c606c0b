/**
 * Push, not poll: every request that ends puts one `hitl.decision` event on the stack's decision bus, with the
 * Decision, the request's agent, action type, execution and status, and neither a task token nor a link. A
 * rule on that bus (as a user would add it) sends the events to a capturing function.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { parseExpression } from '#local/scheduler/expression.ts';
import type { Template } from '#local/template.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

interface Captured {
  source: string;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
}

const captureDir = mkdtempSync(join(tmpdir(), 'hitl-decisions-'));
const captureFile = join(captureDir, 'events.jsonl');

function addDecisionRule(template: Template): void {
  const bus = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Events::EventBus')![0];
  template.Resources.CaptureFunction = {
    Type: 'AWS::Lambda::Function',
    Metadata: { 'hitl:handler': 'test/support/capture-events-handler.ts' },
    Properties: { Handler: 'index.handler', Timeout: 10, Environment: { Variables: { CAPTURE_FILE: captureFile } } },
  };
  // The rule pattern the README documents.
  template.Resources.Decisions = {
    Type: 'AWS::Events::Rule',
    Properties: {
      EventBusName: { Ref: bus },
      EventPattern: { source: ['hitl'], 'detail-type': ['hitl.decision'] },
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['CaptureFunction', 'Arn'] }, Id: 'Target0' }],
    },
  };
}

function captured(): Captured[] {
  if (!existsSync(captureFile)) return [];
  return readFileSync(captureFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Captured);
}

async function decisionEventOf(requestId: string, timeoutMs = 30_000): Promise<Captured> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = captured().filter((e) => e.detail.requestId === requestId);
    if (found.length) return found[0]!;
    if (Date.now() > deadline) throw new Error(`No hitl.decision event for ${requestId}; have ${captured().length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const request = (orderId: string, extra: Partial<ReviewRequestInput> = {}): ReviewRequestInput =>
  ({
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: 'refund', args: { order_id: orderId, amount_usd: 40 } },
    reason: 'duplicate charge',
    risk: { class: 'financial', reversible: false },
    reviewerGroup: 'support-leads',
    ttlSeconds: 300,
    ...extra,
  }) as ReviewRequestInput;

describe('hitl.decision events on the decision bus', () => {
  const clock = new ManualClock();
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ clock, amendTemplate: addDecisionRule });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(captureDir, { recursive: true, force: true });
  });

  async function start(input: ReviewRequestInput) {
    const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
    return { executionArn: executionArn!, requestId: stack.requestIdOf(executionArn!, input) };
  }

  async function decide(requestId: string, fields: Record<string, string>) {
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  function expectNoSecrets(event: Captured): void {
    const text = JSON.stringify(event);
    expect(text).not.toMatch(/taskToken|token|\/r\/|sig=/i);
  }

  it('an approval: the Decision with agent, action type, execution and status; the same Decision the execution got', async () => {
    const { executionArn, requestId } = await start(request('O-7001'));
    await decide(requestId, { choice: 'approve' });
    const done = await stack.waitForExecution(executionArn);
    const event = await decisionEventOf(requestId);
    expect(event).toMatchObject({ source: 'hitl', 'detail-type': 'hitl.decision', resources: [executionArn] });
    expect(event.detail).toEqual({ ...JSON.parse(done.output!), requestId, agent: 'billing-bot', actionType: 'approval#refund', executionArn, status: 'DECIDED' });
    expect(event.detail).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com' });
    expectNoSecrets(event);
    // The event's acceptance is recorded with the resume, and the row has left the live queue's index.
    const row = (await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId }, ConsistentRead: true }))).Item!;
    expect(row).toMatchObject({ eventPublishedAt: expect.any(String), resumedAt: expect.any(String) });
    expect(row).not.toHaveProperty('pendingGroup');
    expect(row).not.toHaveProperty('taskToken');
  });

  it('a denial and a modification', async () => {
    const denied = await start(request('O-7002'));
    await decide(denied.requestId, { choice: 'deny', reason: 'already refunded' });
    expect((await decisionEventOf(denied.requestId)).detail).toMatchObject({ outcome: 'denied', reason: 'already refunded', status: 'DECIDED' });

    const modified = await start(request('O-7003'));
    await decide(modified.requestId, { choice: 'modify', 'arg.order_id': 'O-7003', 'arg.amount_usd': '20' });
    expect((await decisionEventOf(modified.requestId)).detail).toMatchObject({ outcome: 'modified', approvedArgs: { order_id: 'O-7003', amount_usd: 20 } });
  });

  it('a cancel (StopExecution) gives a CANCELLED event', async () => {
    const { executionArn, requestId } = await start(request('O-7004'));
    await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    await stack.clients.sfn.send(new StopExecutionCommand({ executionArn, error: 'Agent.Cancelled', cause: 'customer withdrew' }));
    const event = await decisionEventOf(requestId);
    expect(event.detail).toMatchObject({ outcome: 'cancelled', status: 'CANCELLED', executionArn });
    expectNoSecrets(event);
  });

  it('an expiry under the deny fallback gives an EXPIRED event', async () => {
    const { executionArn, requestId } = await start(request('O-7005', { fallback: 'deny' }));
    await stack.waitForReviewEmails(requestId, { count: 2 });
    const listed = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: stack.scheduleGroup }));
    const details = await Promise.all((listed.Schedules ?? []).map((s) => stack.clients.scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }))));
    const mine = details.find((d) => d.Target?.Input?.includes(requestId));
    const parsed = parseExpression(mine!.ScheduleExpression!, mine!.ScheduleExpressionTimezone ?? 'UTC');
    if (parsed?.kind !== 'at') throw new Error(`expected a one-time schedule, got ${mine!.ScheduleExpression}`);
    await stack.scheduler.advanceTo(parsed.at);
    await stack.waitForExecution(executionArn);
    expect((await decisionEventOf(requestId)).detail).toMatchObject({ outcome: 'expired', status: 'EXPIRED', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny' } });
  });

  it('a decision a policy takes at once (a confident disambiguation) is published too', async () => {
    const input = {
      kind: 'disambiguation',
      agent: 'billing-bot',
      question: 'Which order did the customer mean?',
      options: [
        { id: 'a', label: 'O-1' },
        { id: 'b', label: 'O-2' },
      ],
      reason: 'two open orders',
      risk: { class: 'read-only', reversible: true },
      confidence: 0.95,
      reviewerGroup: 'support-leads',
    } as unknown as ReviewRequestInput;
    const { executionArn, requestId } = await start(input);
    await stack.waitForExecution(executionArn);
    expect((await decisionEventOf(requestId)).detail).toMatchObject({ outcome: 'answered', decidedBy: 'policy:auto-answer', status: 'DECIDED', actionType: expect.any(String) });
  });

  it('one event per request', async () => {
    await stack.events.settled();
    const ids = captured().map((e) => e.detail.requestId);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
  });
});
