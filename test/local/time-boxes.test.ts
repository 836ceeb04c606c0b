/**
 * Time-boxed decisions on the whole local stack: the Scheduler's one-time schedules fire the expire
 * function, which applies the request's fallback. The Scheduler runs on a manual clock and the functions'
 * `Date` is faked to match, so hours pass without waiting.
 */
import { SESClient } from '@aws-sdk/client-ses';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

// Tuesday 24 November 2026, 22:00 in London (UTC+0): outside support-leads' Mon-Fri 09:00-17:00.
const TUESDAY_22H = new Date('2026-11-24T22:00:00Z');
const clock = new ManualClock(TUESDAY_22H);
const MIN = 60_000;

let stack: TestStack;
let executions = 0;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: TUESDAY_22H });
  stack = await startTestStack({ clock });
});

afterAll(async () => {
  await stack?.stop();
  vi.useRealTimers();
});

/** Move the functions' clock and the Scheduler's together, firing whatever became due. */
async function advanceTo(at: Date | number): Promise<void> {
  vi.setSystemTime(at);
  await stack.scheduler.advanceTo(at);
}

function refund(overrides: Partial<ReviewRequestInput> = {}): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'customer-support-agent',
    action: { name: 'refund', args: { order_id: `O-${++executions}`, amount_usd: 350 } },
    reason: 'customer reported defective product, attached photos confirm',
    risk: { class: 'financial', reversible: false },
    reviewerGroup: 'support-leads',
    ttlSeconds: 1800,
    ...overrides,
  } as ReviewRequestInput;
}

async function start(input: ReviewRequestInput): Promise<{ executionArn: string; requestId: string }> {
  const out = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
  const executionArn = out.executionArn!;
  const requestId = stack.requestIdOf(executionArn, input);
  await pending(requestId);
  return { executionArn, requestId };
}

async function row(requestId: string): Promise<StoredRequest | undefined> {
  const out = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId }, ConsistentRead: true }));
  return out.Item as StoredRequest | undefined;
}

/** Wait until the request function has written the row and emailed its tier. */
async function pending(requestId: string): Promise<StoredRequest> {
  for (let i = 0; i < 2400; i++) {
    const r = await row(requestId);
    if (r?.status === 'PENDING' && r.notifiedRound === r.round) return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`request ${requestId} never became PENDING and notified`);
}

async function events(requestId: string): Promise<LogEvent[]> {
  const out = await stack.clients.doc.send(
    new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
  );
  return (out.Items ?? []) as LogEvent[];
}


async function decisionOf(executionArn: string): Promise<Decision> {
  const done = await stack.waitForExecution(executionArn);
  expect(done.status).toBe('SUCCEEDED');
  return JSON.parse(done.output!) as Decision;
}

describe('time-boxed decisions on the local stack', () => {
  it('expiry → deny: the execution succeeds with outcome expired and the policy that decided', async () => {
    const { executionArn, requestId } = await start(refund());
    const [email] = await stack.reviewEmails(requestId);
    await advanceTo(Date.now() + 30 * MIN);

    const decision = await decisionOf(executionArn);
    expect(decision).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny' }, tier: 1 });
    expect(decision.policy!.why).toContain('No decision from support leads within 30 min');
    expect((await row(requestId))).toMatchObject({ status: 'EXPIRED' });
    expect((await events(requestId)).filter((e) => e.event === 'expired')).toHaveLength(1);

    const page = await fetch(stack.reviewLinks(email!)[0]!);
    expect(await page.text()).toMatch(/expired/i);
  });

  it('expiry → escalate to tier 2 → tier 2 approves; the tier-1 link now says where it went', async () => {
    const { executionArn, requestId } = await start(refund({ fallback: 'escalate' }));
    const tier1Link = stack.reviewLinks((await stack.reviewEmails(requestId))[0]!)[0]!;
    await advanceTo(Date.now() + 30 * MIN);

    const escalated = await pending(requestId);
    expect(escalated).toMatchObject({ tier: 2, round: 2 });
    const managerMail = (await stack.reviewEmails(requestId)).find((e) => e.destination.to.includes('manager@example.com'));
    expect(managerMail).toBeDefined();
    expect(await (await fetch(tier1Link)).text()).toContain('support managers');
    expect((await stack.submit(tier1Link, { choice: 'approve', round: '2' })).status).toBe(403);

    const managerLink = stack.reviewLinks(managerMail!)[0]!;
    expect((await stack.submit(managerLink, { choice: 'approve', round: '2' })).status).toBe(200);
    expect(await decisionOf(executionArn)).toMatchObject({ outcome: 'approved', decidedBy: 'manager@example.com', tier: 2 });
    expect((await events(requestId)).map((e) => e.event)).toEqual(expect.arrayContaining(['created', 'notified', 'escalated', 'decided']));
  });

  it('a click after the time box ended but before the expiry fired is refused, and the fallback still applies', async () => {
    const { executionArn, requestId } = await start(refund());
    const link = stack.reviewLinks((await stack.reviewEmails(requestId))[0]!)[0]!;
    const late = Date.now() + 31 * MIN;
    vi.setSystemTime(late); // the Scheduler has not fired yet
    const post = await stack.submit(link, { choice: 'approve', round: '1' });
    expect(post.status).toBe(410);
    expect(await post.text()).toContain('run out');
    expect(await row(requestId)).toMatchObject({ status: 'PENDING' });
    await stack.scheduler.advanceTo(late);
    expect(await decisionOf(executionArn)).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny' });
  });

  it('escalation whose emails SES refused at first: the Scheduler\'s retry of the same firing sends them', async () => {
    let refusals = 0;
    const send = SESClient.prototype.send;
    const spy = vi.spyOn(SESClient.prototype, 'send').mockImplementation(function (this: SESClient, command: never, ...rest: never[]) {
      const to = (command as { input?: { Destination?: { ToAddresses?: string[] } } }).input?.Destination?.ToAddresses ?? [];
      if (to.includes('manager@example.com') && refusals++ === 0) return Promise.reject(Object.assign(new Error('Daily sending quota exceeded'), { name: 'Throttling' }));
      return (send as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as typeof send);
    try {
      const { requestId } = await start(refund({ fallback: 'escalate' }));
      await advanceTo(Date.now() + 30 * MIN);
      expect(refusals).toBeGreaterThanOrEqual(2);
      expect(await pending(requestId)).toMatchObject({ tier: 2, round: 2, notifiedRound: 2 });
      expect(await stack.reviewEmails(requestId, { to: 'manager@example.com' })).toHaveLength(1);
      expect(stack.scheduler.deadLetters()).toHaveLength(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('a duplicate or late expiry firing changes nothing', async () => {
    const { executionArn, requestId } = await start(refund());
    const link = stack.reviewLinks((await stack.reviewEmails(requestId))[0]!)[0]!;
    expect((await stack.submit(link, { choice: 'deny', round: '1', reason: 'not this week' })).status).toBe(200);
    await decisionOf(executionArn);
    // The decision event's deliveries (the other lead's notice, claimed on the row) are done first.
    await stack.events.settled(60_000);
    const before = { row: await row(requestId), events: await events(requestId) };

    const expire = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts')!.logicalId;
    const late = await stack.lambda.invoke(expire, { action: 'expire', requestId, tier: 1, round: 1 });
    const duplicate = await stack.lambda.invoke(expire, { action: 'expire', requestId, tier: 1, round: 1 });
    expect(late).toMatchObject({ result: 'no-op' });
    expect(duplicate).toMatchObject({ result: 'no-op' });
    await advanceTo(Date.now() + 31 * MIN); // the round's own schedule was deleted with the decision; nothing is due
    expect(await row(requestId)).toEqual(before.row);
    expect(await events(requestId)).toEqual(before.events);
  });

  it('a decision racing the expiry, 100 trials: exactly one final state each; the fallback ran only where expiry won', async () => {
    const trials = await Promise.all(Array.from({ length: 100 }, () => start(refund({ ttlSeconds: 600 }))));
    const links = new Map<string, string>();
    for (const email of await stack.emails()) {
      for (const link of stack.reviewLinks(email)) links.set(new URL(link).pathname.split('/').pop()!, link);
    }
    const expiry = Math.max(...(await Promise.all(trials.map(async (t) => Date.parse((await row(t.requestId))!.expiresAt)))));

    // Each reviewer's click races the expire function carrying that round's own schedule event, the expiry
    // held back 0-72 ms so both sides win some (ten trials at a time); then the Scheduler fires the real schedules, which must change nothing.
    const expireFn = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts')!.logicalId;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const race = async (t: (typeof trials)[number], i: number) => {
      const [post] = await Promise.all([
        stack.submit(links.get(t.requestId)!, { choice: 'approve', round: '1' }),
        pause((i % 10) * 8).then(() => stack.lambda.invoke(expireFn, { action: 'expire', requestId: t.requestId, tier: 1, round: 1 })),
      ]);
      return post.status;
    };
    const statuses: number[] = [];
    for (let batch = 0; batch < trials.length; batch += 10) {
      statuses.push(...(await Promise.all(trials.slice(batch, batch + 10).map((t, j) => race(t, batch + j)))));
    }
    await stack.scheduler.advanceTo(expiry);

    let humans = 0;
    let fallbacks = 0;
    for (const [i, t] of trials.entries()) {
      const decision = await decisionOf(t.executionArn);
      const finals = (await events(t.requestId)).filter((e) => e.event === 'decided' || e.event === 'expired');
      expect(finals).toHaveLength(1);
      const stored = await row(t.requestId);
      if (decision.outcome === 'approved') {
        humans++;
        expect(statuses[i]).toBe(200);
        expect(finals[0]!.event).toBe('decided');
        expect(stored).toMatchObject({ status: 'DECIDED', decision: { decidedBy: expect.stringMatching(/^lead2?@example\.com$/) } });
      } else {
        fallbacks++;
        expect(decision).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny' });
        expect(statuses[i]).not.toBe(200);
        expect(finals[0]!.event).toBe('expired');
        expect(stored).toMatchObject({ status: 'EXPIRED' });
      }
    }
    expect(humans + fallbacks).toBe(100);
    expect(humans).toBeGreaterThan(0);
    expect(fallbacks).toBeGreaterThan(0);
    console.log(`race: ${humans} decided by the reviewer, ${fallbacks} by the expiry`);
    vi.setSystemTime(expiry);
  });

  it('backstop: a request still pending when the task times out is recorded as expired (backstop); a decided one keeps its decision', async () => {
    const expireFn = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts')!.logicalId;
    const open = await start(refund());
    const decision = (await stack.lambda.invoke(expireFn, { action: 'backstop', requestId: open.requestId })) as Decision;
    expect(decision).toMatchObject({ outcome: 'expired', decidedBy: 'policy:backstop', policy: { name: 'backstop' } });
    expect(decision.policy!.why).toContain('expired (backstop)');
    expect(await row(open.requestId)).toMatchObject({ status: 'EXPIRED' });
    expect((await events(open.requestId)).filter((e) => e.event === 'expired')).toHaveLength(1);

    const decided = await start(refund());
    const link = stack.reviewLinks((await stack.reviewEmails(decided.requestId))[0]!)[0]!;
    expect((await stack.submit(link, { choice: 'approve', round: '1' })).status).toBe(200);
    expect(await stack.lambda.invoke(expireFn, { action: 'backstop', requestId: decided.requestId })).toMatchObject({ outcome: 'approved' });
  });

  it('monitor: queue depth and oldest pending age per group', async () => {
    const monitorFn = stack.resources.functions.find((f) => f.handlerFile === 'functions/monitor.ts')!.logicalId;
    const first = await start(refund());
    vi.setSystemTime(Date.now() + 5 * MIN);
    await start(refund());
    const stats = (await stack.lambda.invoke(monitorFn, {})) as { group: string; depth: number; oldestPendingAgeSeconds: number }[];
    const leads = stats.find((s) => s.group === 'support-leads')!;
    expect(leads.depth).toBeGreaterThanOrEqual(2);
    expect(leads.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(300);
    expect(first.requestId).toBeTruthy();
  });

  it('hold: created at 22:00, expired at 22:30, re-notified at 09:00 the next working day, then denied', async () => {
    await advanceTo(new Date('2026-11-25T22:00:00Z')); // Wednesday 22:00 London
    const { executionArn, requestId } = await start(refund({ fallback: 'hold' }));
    expect(await stack.reviewEmails(requestId)).toHaveLength(2);

    await advanceTo(new Date('2026-11-25T22:30:00Z'));
    const held = await row(requestId);
    expect(held).toMatchObject({ status: 'PENDING', heldUntil: '2026-11-26T09:00:00.000Z', holdUsed: true, round: 2 });
    expect((await events(requestId)).some((e) => e.event === 'held')).toBe(true);
    expect(await stack.reviewEmails(requestId)).toHaveLength(2);

    await advanceTo(new Date('2026-11-26T08:59:00Z'));
    expect(await stack.reviewEmails(requestId)).toHaveLength(2);
    await advanceTo(new Date('2026-11-26T09:00:00Z'));
    const renotified = await pending(requestId);
    expect(renotified).toMatchObject({ round: 3, tier: 1, expiresAt: '2026-11-26T09:30:00.000Z' });
    expect(renotified.heldUntil).toBeUndefined();
    expect(await stack.reviewEmails(requestId)).toHaveLength(4);
    expect((await events(requestId)).some((e) => e.event === 'renotified')).toBe(true);

    await advanceTo(new Date('2026-11-26T09:30:00Z'));
    expect(await decisionOf(executionArn)).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny' });
  });
});
