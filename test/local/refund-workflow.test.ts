/**
 * The refund-workflow example end to end on the local stack: its agent function and state machine are added to
 * the synthesized hitl template, a ticket starts the workflow, its two HumanReview steps run as nested
 * executions of the review state machine and open two requests with distinct ids (parent execution name + step
 * id), people decide each through the signed link, and the workflow ends with both Decisions and the refund it
 * was allowed. A redriven parent (same execution name) gets the same request, and the local stack killed with
 * SIGKILL while the parent waits on a review still finishes it after a restart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRefundWorkflow, localReviewStateMachineArn, refundWorkflowResources } from '../../examples/refund-workflow/local.ts';
import type { Ticket } from '../../examples/refund-workflow/agent.ts';
import { startChildStack, TRIAL_CDK_OUT } from '#local/trials/child-stack.ts';
import { rowOf } from '#local/trials/tables.ts';
import { deriveRequestId } from '#shared/review/admission.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { parseKeyRing, reviewUrl } from '#shared/signing.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { stackReads } from '../support/stack-reads.ts';
import { pollUntil } from '#local/bench/stats.ts';

const AGENT = 'refund-workflow';
const ticket = (n: string): Ticket => ({ ticketId: `T-${n}`, orderId: `O-${n}`, amountUsd: 120, customerEmail: 'jane@example.com', complaint: 'the kettle arrived broken' });
/** The request id a HumanReview step's request gets: its key is the parent execution's name and the step id. */
const requestIdOf = (executionName: string, step: string) => deriveRequestId({ agent: AGENT, idempotencyKey: `${executionName}:${step}` }, 'unused');

interface WorkflowOutput {
  plan: { refund: { order_id: string; amount_usd: number } };
  reviews: Record<'ApproveRefund' | 'VerifyEmail', { decision: Decision; executionArn: string }>;
  refund?: { refundId: string; amountUsd: number; emailSent: { to: string[]; body: string } };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000) => pollUntil(what, timeoutMs, 50, probe);

async function finished(sfn: SFNClient, executionArn: string, timeoutMs = 90_000) {
  return until(`${executionArn} to end`, async () => {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING' ? undefined : out;
  }, timeoutMs);
}

/** Review executions started for one idempotency key (the nested executions of one step). */
async function reviewExecutionsFor(sfn: SFNClient, reviewArn: string, idempotencyKey: string): Promise<string[]> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: reviewArn, maxResults: 1000 }));
  const arns: string[] = [];
  for (const e of out.executions ?? []) {
    const input = (await sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }))).input;
    if ((JSON.parse(input ?? '{}') as { idempotencyKey?: string }).idempotencyKey === idempotencyKey) arns.push(e.executionArn!);
  }
  return arns;
}

describe('the refund-workflow example on the local stack', () => {
  let stack: TestStack;
  let workflowArn: string;
  const { row, pending, linkFor } = stackReads(() => stack);

  beforeAll(async () => {
    stack = await startTestStack({ amendTemplate: addRefundWorkflow });
    workflowArn = stack.resources.stateMachines.find((sm) => sm.logicalId.startsWith('RefundWorkflow'))!.arn;
  });
  afterAll(async () => stack?.stop());

  const startTicket = async (name: string) =>
    (await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: workflowArn, name, input: JSON.stringify(ticket(name)) }))).executionArn!;

  it('asks two people through two requests with distinct ids, then refunds what they approved; the output holds both Decisions', async () => {
    expect(stack.stateMachineArn).toBe(localReviewStateMachineArn());
    const executionArn = await startTicket('ticket-1');
    const approvalId = requestIdOf('ticket-1', 'ApproveRefund');
    const emailId = requestIdOf('ticket-1', 'VerifyEmail');
    expect(approvalId).not.toBe(emailId);

    const approval = await pending(approvalId);
    expect(approval.request).toMatchObject({ kind: 'approval', agent: AGENT, action: { name: 'refund', args: { order_id: 'O-ticket-1', amount_usd: 120 } }, idempotencyKey: 'ticket-1:ApproveRefund' });
    // The email is checked only once the refund is approved.
    expect(await row(emailId)).toBeUndefined();
    // The support lead lowers the refund.
    const lead = await linkFor(approvalId, 'lead@example.com');
    expect((await stack.submit(lead, { choice: 'modify', round: '1', 'arg.order_id': 'O-ticket-1', 'arg.amount_usd': '90', comment: 'partial refund' })).status).toBe(200);

    const check = await pending(emailId);
    expect(check.request).toMatchObject({ kind: 'verification', agent: AGENT, draft: { channel: 'email', recipients: ['jane@example.com'] }, idempotencyKey: 'ticket-1:VerifyEmail' });
    expect(check.reviewerGroup).toBe('comms-reviewers');
    const comms = await linkFor(emailId, 'comms@example.com');
    expect((await stack.submit(comms, { choice: 'approve', round: '1' })).status).toBe(200);

    const done = await finished(stack.clients.sfn, executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!) as WorkflowOutput;
    expect(output.reviews.ApproveRefund.decision).toMatchObject({ requestId: approvalId, kind: 'approval', outcome: 'modified', decidedBy: 'lead@example.com', approvedArgs: { order_id: 'O-ticket-1', amount_usd: 90 } });
    expect(output.reviews.VerifyEmail.decision).toMatchObject({ requestId: emailId, kind: 'verification', outcome: 'approved', decidedBy: 'comms@example.com' });
    expect(output.reviews.ApproveRefund.executionArn).not.toBe(output.reviews.VerifyEmail.executionArn);
    expect(output.refund).toMatchObject({ refundId: 'rf-O-ticket-1', amountUsd: 90, emailSent: { to: ['jane@example.com'] } });

    // Both rows are in the table, decided, each with its own nested execution.
    const rows = (await Promise.all([row(approvalId), row(emailId)])) as StoredRequest[];
    expect(rows.map((r) => [r.requestId, r.status])).toEqual([
      [approvalId, 'DECIDED'],
      [emailId, 'DECIDED'],
    ]);
    expect(await reviewExecutionsFor(stack.clients.sfn, stack.stateMachineArn, 'ticket-1:ApproveRefund')).toEqual([output.reviews.ApproveRefund.executionArn]);
  });

  it('a denial ends the workflow without the second review or the refund', async () => {
    const executionArn = await startTicket('ticket-2');
    const approvalId = requestIdOf('ticket-2', 'ApproveRefund');
    await pending(approvalId);
    expect((await stack.submit(await linkFor(approvalId, 'lead2@example.com'), { choice: 'deny', round: '1', reason: 'outside the return window' })).status).toBe(200);
    const done = await finished(stack.clients.sfn, executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!) as WorkflowOutput;
    expect(output.reviews.ApproveRefund.decision).toMatchObject({ outcome: 'denied', reason: 'outside the return window' });
    expect(output.reviews).not.toHaveProperty('VerifyEmail');
    expect(output).not.toHaveProperty('refund');
    expect(await row(requestIdOf('ticket-2', 'VerifyEmail'))).toBeUndefined();
  });

  it('a redriven parent (same execution name) sends the same request again and gets the same Decision, no new review', async () => {
    const first = JSON.parse((await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: `${workflowArn.replace(':stateMachine:', ':execution:')}:ticket-2` }))).output!) as WorkflowOutput;
    // Local Step Functions has no RedriveExecution: start the review as the redriven step would, with the input it sends (same key).
    const { input } = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: first.reviews.ApproveRefund.executionArn }));
    expect(JSON.parse(input!)).toMatchObject({ idempotencyKey: 'ticket-2:ApproveRefund' });
    const again = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input }));
    const done = await finished(stack.clients.sfn, again.executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual(first.reviews.ApproveRefund.decision);
    expect((await stack.waitForReviewEmails(requestIdOf('ticket-2', 'ApproveRefund'), { count: 1 })).length).toBe(2);
  });
});

describe('the refund workflow survives kill -9 of the local stack while it waits on a review', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-refund-k9-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the replayed parent waits for the review it started; both reviews decided after the restart finish it', async () => {
    const resources = join(dir, 'refund-workflow.json');
    writeFileSync(resources, JSON.stringify(refundWorkflowResources(localReviewStateMachineArn())));
    const stateDir = join(dir, 'state');
    let stack = await startChildStack({ stateDir, addResources: resources, cdkOutDir: TRIAL_CDK_OUT });
    try {
      const workflowArn = Object.entries(stack.local.stateMachines ?? {}).find(([name]) => name.startsWith('Hitl-RefundWorkflow'))![1];
      const started = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: workflowArn, name: 'ticket-k9', input: JSON.stringify(ticket('k9')) }));
      const approvalId = requestIdOf('ticket-k9', 'ApproveRefund');
      const emailId = requestIdOf('ticket-k9', 'VerifyEmail');
      const pendingRow = (id: string) => until(`${id} pending`, async () => ((await rowOf(stack, id))?.status === 'PENDING' ? true : undefined));
      await pendingRow(approvalId);

      await stack.kill('SIGKILL');
      stack = await stack.restart();

      const decide = async (requestId: string, approver: string) => {
        const ring = parseKeyRing(readFileSync(join(stateDir, 'signing-keys.json'), 'utf8'));
        const link = reviewUrl(stack.endpoints.respond, { requestId, approver, expiresAt: Math.floor(Date.now() / 1000) + 3600 }, ring);
        const res = await fetch(link, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
          body: new URLSearchParams({ choice: 'approve', round: '1' }).toString(),
          redirect: 'manual',
        });
        expect(res.status, await res.text()).toBe(200);
      };
      // The restarted stack re-issued the review's task token: a decision now reaches the waiting parent.
      await until('the replayed review to wait again', async () => ((await rowOf(stack, approvalId))?.status === 'PENDING' && (await rowOf(stack, approvalId))?.notifiedRound ? true : undefined));
      await decide(approvalId, 'lead@example.com');
      await pendingRow(emailId);
      await decide(emailId, 'comms@example.com');

      const done = await finished(stack.clients.sfn, started.executionArn!, 120_000);
      expect(done.status, done.cause).toBe('SUCCEEDED');
      const output = JSON.parse(done.output!) as WorkflowOutput;
      expect(output.reviews.ApproveRefund.decision).toMatchObject({ requestId: approvalId, outcome: 'approved' });
      expect(output.reviews.VerifyEmail.decision).toMatchObject({ requestId: emailId, outcome: 'approved' });
      expect(output.refund).toMatchObject({ amountUsd: 120 });
      // One nested execution per review, replay or not.
      expect(await reviewExecutionsFor(stack.clients.sfn, stack.stateMachineArn, 'ticket-k9:ApproveRefund')).toHaveLength(1);
    } finally {
      await stack.kill('SIGKILL');
    }
  }, 300_000);
});
