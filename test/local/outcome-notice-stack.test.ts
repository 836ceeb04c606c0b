/**
 * Outcome notices on the local stack: the decision event on the bus runs the conclude function, which tells
 * the other reviewer once, after the reviewer's page has returned. An event forged for a request that has not
 * ended tells nobody and claims nothing; the same event delivered again sends no second notice.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEmail } from '#local/ses.ts';
import { decisionEventDetail } from '#shared/review/decision-event.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { stackReads } from '../support/stack-reads.ts';

let stack: TestStack;
const { row, start, pending, outcome, until } = stackReads(() => stack);
let orders = 0;

beforeAll(async () => {
  stack = await startTestStack();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const refund = (): ReviewRequestInput => ({
  kind: 'approval',
  agent: 'billing-bot',
  action: { name: 'refund', args: { order_id: `O-N${++orders}`, amount_usd: 40 } },
  reason: 'duplicate charge',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
  ttlSeconds: 300,
});

/** The "Approved by lead@…" notices about this request (the request id is in the text). */
async function noticesOf(requestId: string): Promise<StoredEmail[]> {
  return (await stack.emails()).filter((e) => e.subject.startsWith('Approved by lead@example.com') && e.body.text?.includes(requestId) === true);
}

async function approveAsLead(requestId: string): Promise<void> {
  const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
  expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', choice: 'approve' })).status).toBe(200);
}

function busName(): string {
  return stack.resources.functions.map((f) => f.env.HITL_EVENT_BUS_NAME).find(Boolean)!;
}

async function put(detail: unknown): Promise<void> {
  const out = await stack.clients.events.send(new PutEventsCommand({ Entries: [{ Source: 'hitl', DetailType: 'hitl.decision', EventBusName: busName(), Detail: JSON.stringify(detail) }] }));
  expect(out.FailedEntryCount).toBe(0);
}

describe('outcome notices from the decision bus', () => {
  it('the other reviewer is told once, by the conclude function; the same event again sends no second notice', async () => {
    const { executionArn, requestId } = await start(refund());
    await pending(requestId);
    await approveAsLead(requestId);
    expect(await outcome(executionArn)).toMatchObject({ status: 'SUCCEEDED', decision: { outcome: 'approved', decidedBy: 'lead@example.com' } });

    const [notice] = await until('the outcome notice', async () => ((await noticesOf(requestId)).length ? noticesOf(requestId) : undefined), 60_000);
    expect(notice!.destination.to).toEqual(['lead2@example.com']);
    const decided = (await row(requestId))!;
    expect(decided.outcomeNoticeAt).toEqual(expect.any(String));

    await put(decisionEventDetail(decided, decided.decision!));
    await stack.events.settled(60_000);
    expect((await noticesOf(requestId)).map((e) => e.destination.to)).toEqual([['lead2@example.com']]);
    expect((await row(requestId))!.outcomeNoticeAt).toBe(decided.outcomeNoticeAt);
  });

  it('an event forged for a pending request (or none) tells nobody and claims nothing; its real end is still told', async () => {
    const { executionArn, requestId } = await start(refund());
    const waiting = await pending(requestId);
    const forged = { requestId, outcome: 'approved', decidedBy: 'lead@example.com', status: 'DECIDED', decidedAt: new Date().toISOString() };
    await put(forged);
    await put({ ...forged, requestId: 'rnosuchrequest000000000000' });
    await stack.events.settled(60_000);
    expect(await noticesOf(requestId)).toEqual([]);
    const after = (await row(requestId))!;
    expect(after.status).toBe('PENDING');
    expect(after.outcomeNoticeAt).toBeUndefined();
    expect(after).toEqual(waiting);

    await approveAsLead(requestId);
    await outcome(executionArn);
    await until('the outcome notice', async () => ((await noticesOf(requestId)).length ? true : undefined), 60_000);
    await stack.events.settled(60_000);
    expect((await noticesOf(requestId)).map((e) => e.destination.to)).toEqual([['lead2@example.com']]);
  });
});
