/**
 * The whole local stack, as `npm start` runs it: the synthesized state machine on the local Step Functions
 * API, the real handlers, DynamoDB Local, aws-ses-v2-local and the respond server. Requests go in through the SDK,
 * decisions come back through a real HTTP POST to the link in the email.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendTaskSuccessCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const refund = (overrides: Partial<ReviewRequestInput> = {}): ReviewRequestInput => ({ ...DEMO_REQUEST, ...overrides }) as ReviewRequestInput;

describe('local stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function start(name: string, input: unknown): Promise<string> {
    const out = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  }

  async function logEvents(requestId: string) {
    const out = await stack.clients.doc.send(new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId } }));
    return out.Items ?? [];
  }

  it('writes .hitl/local.json with the endpoints, the state machine and the tables', () => {
    const file = JSON.parse(readFileSync(join(stack.stateDir, 'local.json'), 'utf8'));
    expect(file).toMatchObject({ stateMachineArn: stack.stateMachineArn, endpoints: stack.endpoints, tables: stack.tables, region: 'us-east-1' });
    expect(stack.stateMachineArn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:Hitl-review');
    expect(stack.tables.requests).not.toBe('');
    expect(existsSync(join(stack.stateDir, 'signing-keys.json'))).toBe(true);
  });

  it('approval: StartExecution → email with a signed link → POST approve → SUCCEEDED with the Decision, logged', async () => {
    const executionArn = await start('approve-refund', refund());
    const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn, refund()), { to: 'lead@example.com' });
    expect(email!.subject).toMatch(/^Refund \$350 O-9421 · irreversible · /);
    const [link] = stack.reviewLinks(email!);
    expect(link).toBeDefined();
    expect(email!.body.text).not.toMatch(/taskToken|AAAA/);

    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('O-9421');

    const posted = await stack.submit(link!, { choice: 'approve', round: '1', comment: 'photos check out' });
    expect(posted.status).toBe(200);

    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    const decision = JSON.parse(done.output!) as Decision;
    expect(decision).toMatchObject({ kind: 'approval', outcome: 'approved', decidedBy: 'lead@example.com', comment: 'photos check out', tier: 1 });

    const events = await logEvents(decision.requestId);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['created', 'notified', 'decided']));
    expect(events.find((e) => e.event === 'decided')).toMatchObject({ actor: 'lead@example.com', agent: 'customer-support-agent', actionType: 'approval#refund' });
  });

  it('a denial is an outcome: the execution succeeds with the reason', async () => {
    const executionArn = await start('deny-refund', refund({ action: { name: 'refund', args: { order_id: 'O-1000', amount_usd: 20 } } }));
    const emails = await stack.waitForReviewEmails(stack.requestIdOf(executionArn, refund()), { count: 2 });
    const link = stack.reviewLinks(emails.find((e) => e.destination.to.includes('lead2@example.com'))!)[0]!;
    expect((await stack.submit(link, { choice: 'deny', round: '1', reason: 'order already refunded' })).status).toBe(200);
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'denied', reason: 'order already refunded', decidedBy: 'lead2@example.com' });
  });

  it('invalid input fails the execution with InvalidRequestError', async () => {
    const executionArn = await start('invalid', { kind: 'approval', agent: 'customer-support-agent' });
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('InvalidRequestError');
    expect(JSON.parse(done.cause!)).toMatchObject({ errorType: 'InvalidRequestError' });
  });

  it('SendTaskSuccess with a token nobody issued answers InvalidToken', async () => {
    const err = await stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: 'AAAAKgAAAAIAAAAAAAAAAQ-made-up', output: '{}' })).catch((e: Error) => e);
    expect((err as Error).name).toBe('InvalidToken');
  });

  it('a restart keeps the rows and replays a waiting execution without emailing again; the emailed link still works', async () => {
    const executionArn = await start('survives-restart', refund({ action: { name: 'refund', args: { order_id: 'O-7777', amount_usd: 99 } } }));
    const requestId = stack.requestIdOf(executionArn, refund());
    const before = await stack.waitForReviewEmails(requestId, { count: 2 });
    const rowsBefore = (await stack.clients.doc.send(new ScanCommand({ TableName: stack.tables.requests }))).Items!.length;

    stack = await stack.restart();
    expect(stack.replayed).toEqual([executionArn]);
    const rowsAfter = (await stack.clients.doc.send(new ScanCommand({ TableName: stack.tables.requests }))).Items!.length;
    expect(rowsAfter).toBe(rowsBefore);
    const after = await stack.reviewEmails(requestId);
    expect(after).toHaveLength(before.length);

    const link = stack.reviewLinks(after[0]!)[0]!;
    expect((await stack.submit(link, { choice: 'approve', round: '1' })).status).toBe(200);
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'approved' });
  });
});
