/**
 * Quorum on the whole local stack: two approvals of the three platform on-call reviewers decide a deletion.
 * Concurrent votes are counted one at a time, so exactly one final Decision follows the second approval and
 * the execution is resumed once (one TaskSucceeded in its history). A denial vetoes; without veto a request
 * is denied once the approvals are out of reach; an expiry with partial votes applies the fallback and
 * records them.
 */
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';
import { stackReads } from '../support/stack-reads.ts';

const clock = new ManualClock();
let stack: TestStack;
const { row, events, start, pending, outcome, linkFor, until } = stackReads(() => stack);
const OPS = ['ops1@example.com', 'ops2@example.com', 'ops3@example.com'];
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ clock, context: { hitl: POLICY_CONFIG } });
});
afterAll(async () => stack?.stop());

function deletion(action = 'delete_bucket', over: Record<string, unknown> = {}): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'cleanup-bot',
    action: { name: action, args: { bucket: `logs-${++n}` } },
    reason: 'bucket unused for 90 days',
    risk: { class: 'internal', reversible: true },
    ttlSeconds: 600,
    ...over,
  } as ReviewRequestInput;
}

/** A pending request and each platform on-call reviewer's link. */
async function opened(input: ReviewRequestInput): Promise<{ executionArn: string; requestId: string; links: Record<string, string> }> {
  const { executionArn, requestId } = await start(input);
  await pending(requestId);
  const links = Object.fromEntries(await Promise.all(OPS.map(async (a) => [a, await linkFor(requestId, a)] as const)));
  return { executionArn, requestId, links };
}

/** SendTaskSuccess calls the execution accepted: one TaskSucceeded per accepted call in its history. */
async function resumes(executionArn: string): Promise<number> {
  const history = await stack.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return (history.events ?? []).filter((e) => e.type === 'TaskSucceeded' && e.taskSucceededEventDetails?.resource === 'invoke.waitForTaskToken').length;
}

describe('quorum: 2 approvals of 3', () => {
  it('three concurrent approvals, 100 trials: one final Decision after the second approval, one SendTaskSuccess', async () => {
    const trials = 100;
    let thirdsRefused = 0;
    for (let batch = 0; batch < trials; batch += 10) {
      const requests = await Promise.all(Array.from({ length: 10 }, () => opened(deletion())));
      await Promise.all(
        requests.map(async ({ executionArn, requestId, links }) => {
          const responses = await Promise.all(OPS.map((a) => stack.submit(links[a]!, { choice: 'approve', round: '1' })));
          const statuses = responses.map((r) => r.status).sort();
          expect(statuses).toEqual([200, 200, 409]);
          thirdsRefused += 1;
          const { status, decision } = await outcome(executionArn);
          expect(status).toBe('SUCCEEDED');
          expect(decision).toMatchObject({ outcome: 'approved', policy: { rule: 'deletions' } });
          expect(decision!.approvers).toHaveLength(2);
          expect(decision!.votes!.map((v) => v.by)).toEqual(decision!.approvers);
          expect(decision!.decidedBy).toBe(decision!.approvers![1]);
          const log = await events(requestId);
          expect(log.filter((e) => e.event === 'decided')).toHaveLength(1);
          expect(log.filter((e) => e.event === 'voted')).toHaveLength(2);
          expect(log.filter((e) => e.event === 'resumed')).toHaveLength(1);
          expect(await resumes(executionArn)).toBe(1);
          expect((await row(requestId))!.decision).toEqual(decision);
        }),
      );
    }
    expect(thirdsRefused).toBe(trials);
  }, 600_000);

  it('the card says how many approvals so far and whose; a voter cannot vote twice; modify is not offered', async () => {
    const { executionArn, links } = await opened(deletion());
    const first = await stack.submit(links['ops1@example.com']!, { choice: 'approve', round: '1' });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('Your approval is recorded: 1 of 2 approvals so far (ops1@example.com)');

    const other = await (await fetch(links['ops2@example.com']!)).text();
    expect(other).toContain('1 of 2 approvals so far (ops1@example.com); any denial ends it');
    expect(other).toContain('value="approve"');
    expect(other).not.toContain('value="modify"');
    const mine = await (await fetch(links['ops1@example.com']!)).text();
    expect(mine).toContain('You approved this request; 1 of 2 approvals so far (ops1@example.com). Your vote counts once.');
    expect(mine).not.toContain('value="approve"');

    const again = await stack.submit(links['ops1@example.com']!, { choice: 'approve', round: '1' });
    expect(again.status).toBe(409);
    const modify = await stack.submit(links['ops2@example.com']!, { choice: 'modify', round: '1', 'arg.bucket': 'other' });
    expect(modify.status).toBe(400);
    expect(await modify.text()).toContain('that need 2 approvals of the request as proposed');

    expect((await stack.submit(links['ops3@example.com']!, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'approved', decidedBy: 'ops3@example.com', approvers: ['ops1@example.com', 'ops3@example.com'] });
  });

  it('a denial vetoes: denied at once with the reason, the approval recorded beside it', async () => {
    const { executionArn, requestId, links } = await opened(deletion());
    expect((await stack.submit(links['ops1@example.com']!, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await stack.submit(links['ops2@example.com']!, { choice: 'deny', round: '1', reason: 'the bucket holds audit logs' })).status).toBe(200);
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'denied', decidedBy: 'ops2@example.com', reason: 'the bucket holds audit logs', approvers: ['ops1@example.com'] });
    expect(decision!.votes!.map((v) => [v.by, v.vote])).toEqual([['ops1@example.com', 'approve'], ['ops2@example.com', 'deny']]);
    expect((await stack.submit(links['ops3@example.com']!, { choice: 'approve', round: '1' })).status).toBe(409);
    expect(await resumes(executionArn)).toBe(1);
    expect((await events(requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
  });

  it('without veto, a denial is one vote: approved by the other two; two denials put it out of reach', async () => {
    const approved = await opened(deletion('drop_table'));
    const denial = await stack.submit(approved.links['ops1@example.com']!, { choice: 'deny', round: '1', reason: 'not sure' });
    expect(await denial.text()).toContain('Your denial is recorded: 0 of 2 approvals so far; 1 denied (ops1@example.com)');
    for (const a of ['ops2@example.com', 'ops3@example.com']) expect((await stack.submit(approved.links[a]!, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await outcome(approved.executionArn)).decision).toMatchObject({ outcome: 'approved', approvers: ['ops2@example.com', 'ops3@example.com'] });

    const denied = await opened(deletion('drop_table'));
    for (const a of ['ops1@example.com', 'ops2@example.com']) expect((await stack.submit(denied.links[a]!, { choice: 'deny', round: '1', reason: `no (${a})` })).status).toBe(200);
    expect((await outcome(denied.executionArn)).decision).toMatchObject({ outcome: 'denied', decidedBy: 'ops2@example.com', reason: 'no (ops2@example.com)' });
  });

  it('an expiry with partial votes applies the fallback and records the votes', async () => {
    const { executionArn, requestId, links } = await opened(deletion());
    expect((await stack.submit(links['ops1@example.com']!, { choice: 'approve', round: '1', comment: 'looks unused' })).status).toBe(200);
    const r = (await row(requestId))!;
    await stack.scheduler.advanceTo(Math.max(clock.now(), Date.parse(r.expiresAt) + 1000));
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny', policy: { name: 'fallback-deny', rule: 'deletions' } });
    expect(decision!.votes).toEqual([expect.objectContaining({ by: 'ops1@example.com', vote: 'approve', comment: 'looks unused', tier: 1, round: 1 })]);
    expect(decision!.approvers).toBeUndefined();
  });

  it('an escalation starts the count afresh with the next tier; earlier votes stay on the record', async () => {
    const { executionArn, requestId, links } = await opened(deletion());
    expect((await stack.submit(links['ops1@example.com']!, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await stack.submit(links['ops2@example.com']!, { choice: 'escalate', round: '1' })).status).toBe(200);
    await until('round 2 emailed', async () => ((await row(requestId))?.notifiedRound === 2 ? true : undefined));
    const lead = await linkFor(requestId, 'plat-lead@example.com');
    const first = await stack.submit(lead, { choice: 'approve', round: '2' });
    expect(await first.text()).toContain('1 of 2 approvals so far (plat-lead@example.com)');
    expect((await stack.submit(await linkFor(requestId, 'plat-lead2@example.com'), { choice: 'approve', round: '2' })).status).toBe(200);
    const decision: Decision = (await outcome(executionArn)).decision!;
    expect(decision).toMatchObject({ outcome: 'approved', tier: 2, approvers: ['plat-lead@example.com', 'plat-lead2@example.com'] });
    expect(decision.votes!.map((v) => [v.by, v.round])).toEqual([['ops1@example.com', 1], ['plat-lead@example.com', 2], ['plat-lead2@example.com', 2]]);
  });
});
