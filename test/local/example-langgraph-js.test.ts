/**
 * examples/langgraph-js against the local stack: the graph pauses with interrupt(), the runner asks hitl, a
 * reviewer decides in the mail viewer, and the graph resumes with the Decision: the refund made with the
 * reviewer's amount, or the refusal; a runner restarted on the same thread gets the same Decision without
 * a second review.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { Hitl } from '../../clients/typescript/src/index.ts';
import { buildGraph, run } from '../../examples/langgraph-js/refund-graph.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

describe('LangGraph.js example on the local stack', () => {
  let stack: TestStack;
  let hitl: Hitl;

  beforeAll(async () => {
    stack = await startTestStack({ clock: new ManualClock() });
    hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const requestIdOf = (thread: string) => stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: `refund-${thread}` });

  async function decide(thread: string, fields: Record<string, string>): Promise<void> {
    const [email] = await stack.waitForReviewEmails(requestIdOf(thread), { to: 'lead@example.com', timeoutMs: 30_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  it('a modification: the graph resumes and the refund node uses the reviewer’s amount', async () => {
    const graph = buildGraph();
    const result = run(graph, hitl, 'lgjs-modify', { order_id: 'O-3001', amount_usd: 300 });
    await decide('lgjs-modify', { choice: 'modify', 'arg.order_id': 'O-3001', 'arg.amount_usd': '250' });
    expect(await result).toBe('refunded 250 USD on O-3001');
    const state = await graph.getState({ configurable: { thread_id: 'lgjs-modify' } });
    expect(state.values.decision).toMatchObject({ outcome: 'modified', decidedBy: 'lead@example.com', approvedArgs: { amount_usd: 250 } });
    expect(state.next).toEqual([]);
  });

  it('a denial: the refund node writes who said no and why instead of refunding', async () => {
    const result = run(buildGraph(), hitl, 'lgjs-deny', { order_id: 'O-3002', amount_usd: 90 });
    await decide('lgjs-deny', { choice: 'deny', reason: 'already refunded' });
    expect(await result).toBe('Not done: refund was denied by lead@example.com: already refunded. Do not retry it unchanged.');
  });

  it('a runner restarted on the same thread (a fresh graph) gets the same Decision without a second review', async () => {
    expect(await run(buildGraph(), hitl, 'lgjs-modify', { order_id: 'O-3001', amount_usd: 300 })).toBe('refunded 250 USD on O-3001');
    expect(await stack.reviewEmails(requestIdOf('lgjs-modify'))).toHaveLength(2); // the two tier-1 leads, once
  });
});
