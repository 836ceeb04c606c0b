/**
 * The gate tried as an attacker and as a careless agent would, through public interfaces only (the Step
 * Functions API, the review links, the tables an analyst reads). Each case is one row of docs/security.md.
 * The promise under test: the agent gets only what a person or a stated policy decided, recorded once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { runRaceTrials } from '#local/trials/races.ts';
import type { StoredEmail } from '#local/ses.ts';
import { deriveRequestId } from '#shared/review/admission.ts';
import { buildDecision } from '#shared/review/decisions.ts';
import { DecisionLog, decisionIndexKeys } from '#shared/store/decision-log.ts';
import { Ledger } from '#shared/store/ledger.ts';
import { RequestStore } from '#shared/store/requests.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { pollUntil } from '#local/bench/stats.ts';
import { DEFAULT_PENDING_SHARDS, pendingKey } from '#shared/store/pending-shards.ts';

let stack: TestStack;
let orders = 0;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.stop());

function refund(overrides: Record<string, unknown> = {}): ReviewRequestInput {
  return { ...DEMO_REQUEST, action: { name: 'refund', args: { order_id: `O-S${++orders}`, amount_usd: 350 } }, ...overrides } as ReviewRequestInput;
}

async function start(input: unknown): Promise<{ executionArn: string; requestId: string }> {
  const out = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
  const executionArn = out.executionArn!;
  return { executionArn, requestId: deriveRequestId(input as { agent: string; idempotencyKey?: string }, executionArn) };
}

async function row(requestId: string): Promise<StoredRequest | undefined> {
  const out = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId }, ConsistentRead: true }));
  return out.Item as StoredRequest | undefined;
}

async function events(requestId: string): Promise<LogEvent[]> {
  const out = await stack.clients.doc.send(
    new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
  );
  return (out.Items ?? []) as LogEvent[];
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000) => pollUntil(what, timeoutMs, 25, probe);

const pending = (requestId: string) => until(`${requestId} pending and notified`, async () => {
  const r = await row(requestId);
  return r?.status === 'PENDING' && r.notifiedRound === r.round ? r : undefined;
});

/** The request's emails, matched by the request id in their links' path (never by text a signature can hold). */
async function emailsOf(requestId: string): Promise<StoredEmail[]> {
  return (await stack.emails()).filter((e) => stack.reviewLinks(e).some((l) => new URL(l).pathname === `/r/${requestId}`));
}

async function linkFor(requestId: string, approver = 'lead@example.com'): Promise<string> {
  const [email] = await stack.waitForEmails((e) => e.destination.to.includes(approver) && stack.reviewLinks(e).some((l) => new URL(l).pathname === `/r/${requestId}`));
  return stack.reviewLinks(email!)[0]!;
}

async function outcome(executionArn: string): Promise<{ status: string; decision?: Decision; error?: string }> {
  const done = await stack.waitForExecution(executionArn);
  return { status: done.status!, ...(done.output ? { decision: JSON.parse(done.output) as Decision } : {}), ...(done.error ? { error: done.error } : {}) };
}

/** What anyone allowed GetExecutionHistory can read: the task token in HumanReview's parameters. */
async function stolenToken(executionArn: string): Promise<string> {
  return until('the task token in the history', async () => {
    const { events: history = [] } = await stack.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const scheduled = history.find((e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.parameters?.includes('taskToken'));
    const params = scheduled?.taskScheduledEventDetails?.parameters;
    return params ? (JSON.parse(params) as { Payload: { taskToken: string } }).Payload.taskToken : undefined;
  });
}

describe('forged resumes', () => {
  it('a SendTaskSuccess with a made-up approval fails the execution with ForgedDecisionError, and it is logged', async () => {
    const { executionArn, requestId } = await start(refund());
    await pending(requestId);
    const token = await stolenToken(executionArn);
    await stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ requestId, outcome: 'approved', decidedBy: 'lead@example.com' }) }));

    expect(await outcome(executionArn)).toMatchObject({ status: 'FAILED', error: 'ForgedDecisionError' });
    expect((await events(requestId)).filter((e) => e.event === 'forged')).toMatchObject([{ details: { executionArn, status: 'PENDING' } }]);
    // Nobody approved: the request was never decided, and a reviewer is not told the agent heard them.
    expect((await row(requestId))?.decision?.outcome).not.toBe('approved');
    const page = await stack.submit(await linkFor(requestId), { choice: 'deny', round: '1', reason: 'not this one' });
    expect(await page.text()).not.toContain('the agent has been told');
  });

  it('a resume that replays another request’s real Decision is refused too', async () => {
    const a = await start(refund());
    const b = await start(refund());
    await Promise.all([pending(a.requestId), pending(b.requestId)]);
    expect((await stack.submit(await linkFor(a.requestId), { choice: 'approve', round: '1' })).status).toBe(200);
    const approvedA = (await outcome(a.executionArn)).decision!;
    await stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: await stolenToken(b.executionArn), output: JSON.stringify(approvedA) }));
    expect(await outcome(b.executionArn)).toMatchObject({ status: 'FAILED', error: 'ForgedDecisionError' });
  });

  it('the agent receives exactly the stored Decision', async () => {
    const { executionArn, requestId } = await start(refund());
    await pending(requestId);
    expect((await stack.submit(await linkFor(requestId), { choice: 'deny', round: '1', reason: 'outside policy' })).status).toBe(200);
    const done = await outcome(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.decision).toEqual((await row(requestId))?.decision);
    expect(done.decision).toMatchObject({ outcome: 'denied', reason: 'outside policy', decidedBy: 'lead@example.com' });
  });
});

describe('idempotency keys are bound to the request', () => {
  it('the same key with other content fails with IdempotencyConflictError naming the key, storing and emailing nothing', async () => {
    const key = `refund-${++orders}`;
    const small = refund({ idempotencyKey: key, action: { name: 'refund', args: { order_id: `O-S${orders}`, amount_usd: 20 } } });
    const first = await start(small);
    await pending(first.requestId);
    expect((await stack.submit(await linkFor(first.requestId), { choice: 'approve', round: '1' })).status).toBe(200);
    expect(await outcome(first.executionArn)).toMatchObject({ status: 'SUCCEEDED', decision: { outcome: 'approved' } });
    // The other lead's notice comes from the decision event: its delivery is done before counting.
    await stack.events.settled(60_000);
    const before = { log: await events(first.requestId), emails: (await stack.emails()).length };

    const wire = await start({ ...small, action: { name: 'wire_transfer', args: { amount_usd: 5000 } } });
    const done = await outcome(wire.executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'IdempotencyConflictError' });
    expect(done.decision).toBeUndefined();
    expect(wire.requestId).toBe(first.requestId);
    expect(await events(first.requestId)).toEqual(before.log);
    expect((await stack.emails()).length).toBe(before.emails);
  });

  it('ten concurrent starts with the same key and content: one request, one email per reviewer, ten executions with the one Decision', async () => {
    const input = refund({ idempotencyKey: `refund-${++orders}` });
    const starts = await Promise.all(Array.from({ length: 10 }, () => start(input)));
    const { requestId } = starts[0]!;
    await pending(requestId);
    await until('every execution waiting', async () => {
      const r = await row(requestId);
      return Object.keys(r?.waiters ?? {}).length === 9 ? r : undefined;
    });
    expect((await stack.submit(await linkFor(requestId), { choice: 'approve', round: '1' })).status).toBe(200);

    const results = await Promise.all(starts.map((s) => outcome(s.executionArn)));
    const stored = (await row(requestId))!.decision;
    for (const r of results) expect(r).toEqual({ status: 'SUCCEEDED', decision: stored });
    const log = await events(requestId);
    expect(log.filter((e) => e.event === 'created')).toHaveLength(1);
    expect(log.filter((e) => e.event === 'decided')).toHaveLength(1);
    expect(log.filter((e) => e.event === 'replayed')).toHaveLength(9);
    expect((await emailsOf(requestId)).map((e) => e.destination.to[0]).sort()).toEqual(['lead2@example.com', 'lead@example.com']);
  });

  it('a retry after the decision gets it at once, and the served replay is logged', async () => {
    const input = refund({ idempotencyKey: `refund-${++orders}` });
    const first = await start(input);
    await pending(first.requestId);
    expect((await stack.submit(await linkFor(first.requestId), { choice: 'deny', round: '1', reason: 'duplicate order' })).status).toBe(200);
    const decided = await outcome(first.executionArn);
    const retry = await start(input);
    expect(await outcome(retry.executionArn)).toEqual(decided);
    expect((await events(first.requestId)).filter((e) => e.event === 'replayed')).toMatchObject([{ details: { executionArn: retry.executionArn, served: 'decision' } }]);
  });
});

describe('when SES refuses every review email', () => {
  it('the request is closed, nothing expires as "nobody decided", and the agent’s retry with the same key works', async () => {
    const spy = vi.spyOn(SESClient.prototype, 'send').mockImplementation((() =>
      Promise.reject(Object.assign(new Error('Email address is not verified'), { name: 'MessageRejected' }))) as typeof SESClient.prototype.send);
    const input = refund({ idempotencyKey: `refund-${++orders}` });
    let first: Awaited<ReturnType<typeof start>>;
    try {
      first = await start(input);
      expect(await outcome(first.executionArn)).toMatchObject({ status: 'FAILED', error: 'EmailDeliveryError' });
    } finally {
      spy.mockRestore();
    }
    expect(await row(first.requestId)).toMatchObject({ status: 'UNDELIVERABLE' });
    expect((await events(first.requestId)).map((e) => e.event)).toEqual(['created', 'undeliverable']);
    expect(stack.scheduler.listSchedules({ NamePrefix: `hitl-${first.requestId}` }).Schedules).toEqual([]);

    const retry = await start(input);
    await pending(retry.requestId);
    expect((await stack.submit(await linkFor(retry.requestId), { choice: 'approve', round: '1' })).status).toBe(200);
    expect(await outcome(retry.executionArn)).toMatchObject({ status: 'SUCCEEDED', decision: { outcome: 'approved', decidedBy: 'lead@example.com' } });
  });
});

describe('bounds', () => {
  const deep = (levels: number): unknown => {
    let value: unknown = 'bottom';
    for (let i = 0; i < levels; i++) value = { next: value };
    return value;
  };

  async function refused(input: unknown): Promise<string> {
    // Notices of requests decided earlier in this file arrive from the bus: counted once they are in.
    await stack.events.settled(60_000);
    const before = (await stack.emails()).length;
    const { executionArn, requestId } = await start(input);
    const done = await stack.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });
    expect(await row(requestId)).toBeUndefined();
    expect((await stack.emails()).length).toBe(before);
    return done.cause ?? '';
  }

  it('refuses, at once and by name, a request over 64 KiB, one nested deeper than 10 levels, 2,000 levels deep, or with an unknown field', async () => {
    const big = refund({ context: 'x'.repeat(2000), action: { name: 'refund', args: { order_id: 'O-BIG', note: 'n'.repeat(66_000) } } });
    expect(await refused(big)).toContain('exceeds the limit of 65536');
    expect(await refused(refund({ action: { name: 'refund', args: { nested: deep(8) } } }))).toContain('action.args.nested.next.next.next.next.next.next.next.next: nested deeper than 10 levels');
    expect(await refused(refund({ action: { name: 'refund', args: { nested: deep(2000) } } }))).toContain('nested deeper than 10 levels');
    expect(await refused(refund({ approvedBy: 'lead@example.com' }))).toContain('approvedBy');
  });

  it('the largest request it accepts can be approved, modified, denied and expired', async () => {
    const largest = (order: string): ReviewRequestInput => {
      const base = refund({ action: { name: 'refund', args: { order_id: order, amount_usd: 350, note: '' } } });
      const room = 65_536 - Buffer.byteLength(JSON.stringify(base));
      return refund({ action: { name: 'refund', args: { order_id: order, amount_usd: 350, note: 'n'.repeat(room) } } });
    };
    const expireFn = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts')!.logicalId;
    const choices: [string, Record<string, string> | 'expire', Decision['outcome']][] = [
      ['approve', { choice: 'approve', round: '1' }, 'approved'],
      ['modify', { choice: 'modify', round: '1', 'arg.order_id': 'O-L2', 'arg.amount_usd': '300', 'arg.note': 'm'.repeat(60_000) }, 'modified'],
      ['deny', { choice: 'deny', round: '1', reason: 'too large to check' }, 'denied'],
      ['expire', 'expire', 'expired'],
    ];
    for (const [name, form, expected] of choices) {
      const input = largest(`O-L-${name}`);
      expect(Buffer.byteLength(JSON.stringify(input))).toBe(65_536);
      const { executionArn, requestId } = await start(input);
      await pending(requestId);
      if (form === 'expire') await stack.lambda.invoke(expireFn, { action: 'expire', requestId, tier: 1, round: 1 });
      else expect((await stack.submit(await linkFor(requestId), form)).status).toBe(200);
      const done = await outcome(executionArn);
      expect(done, name).toMatchObject({ status: 'SUCCEEDED', decision: { outcome: expected } });
      expect((await events(requestId)).filter((e) => ['decided', 'expired'].includes(e.event)), name).toHaveLength(1);
    }
  });
});

describe('cancel', () => {
  it('StopExecution cancels the pending request: row, log, schedule, and links that say so and cannot decide', async () => {
    const { executionArn, requestId } = await start(refund());
    await pending(requestId);
    const link = await linkFor(requestId);
    await stack.clients.sfn.send(new StopExecutionCommand({ executionArn, error: 'AgentCancelled', cause: 'the customer withdrew the request' }));

    const cancelled = await until('the request cancelled', async () => {
      const r = await row(requestId);
      return r?.status === 'CANCELLED' ? r : undefined;
    });
    expect(cancelled.decision).toMatchObject({ outcome: 'cancelled', decidedBy: 'agent:customer-support-agent' });
    expect((await events(requestId)).filter((e) => e.event === 'cancelled')).toHaveLength(1);
    // The schedule goes after the cancel is written.
    await until('the schedule deleted', async () => (stack.scheduler.listSchedules({ NamePrefix: `hitl-${requestId}` }).Schedules.length === 0 ? true : undefined));

    const view = await fetch(link);
    expect(await view.text()).toContain('Cancelled by the agent');
    const post = await stack.submit(link, { choice: 'approve', round: '1' });
    expect(post.status).toBe(409);
    const page = await post.text();
    expect(page).toContain('cancelled');
    expect(page).not.toContain('the agent has been told');
    expect((await row(requestId))?.decision?.outcome).toBe('cancelled');
  });
});

describe('a crash between the decision and SendTaskSuccess', () => {
  it('the monitor resumes the execution with the stored Decision once the claim is stale', async () => {
    const { executionArn, requestId } = await start(refund());
    const open = await pending(requestId);
    // What a respond function leaves when it dies right after its transaction: DECIDED, claimed, not resumed.
    const ledger = new Ledger(new RequestStore(stack.clients.doc, stack.tables.requests), new DecisionLog(stack.clients.doc, stack.tables.decisions));
    const decidedAt = new Date(Date.now() - 5 * 60_000).toISOString();
    const decision = buildDecision(open, new Date(decidedAt), { outcome: 'denied', decidedBy: 'lead@example.com', reason: 'crashed right after' });
    const decided = await ledger.finish(requestId, { status: 'DECIDED', decision, at: decidedAt, expectedRound: 1 }, { requestId, event: 'decided', at: decidedAt, actor: 'lead@example.com', tier: 1, decision, ...decisionIndexKeys(open, decidedAt) });
    expect(decided).toMatchObject({ status: 'DECIDED', resumeClaimedAt: decidedAt, pendingGroup: pendingKey(open.reviewerGroup, requestId, DEFAULT_PENDING_SHARDS) });
    expect((await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    const monitor = stack.resources.functions.find((f) => f.handlerFile === 'functions/monitor.ts')!.logicalId;
    await stack.lambda.invoke(monitor, {});
    expect(await outcome(executionArn)).toEqual({ status: 'SUCCEEDED', decision: (await row(requestId))!.decision });
    expect(await row(requestId)).not.toHaveProperty('pendingGroup');
    expect((await events(requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
  });
});

describe('races', () => {
  it('approve ∥ deny ∥ expiry ∥ cancel on 24 requests: one final state and one final event each, the agent gets the stored Decision (1,000: npm run trial:races)', async () => {
    const report = await runRaceTrials(stack, 24, 8);
    expect(report.violations).toEqual([]);
    expect(Object.values(report.wins).reduce((a, b) => a + b, 0)).toBe(24);
    expect(report.wins.none).toBe(0);
  }, 120_000);
});
