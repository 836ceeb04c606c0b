/**
 * examples/vercel-ai against the local stack, offline: the SDK's MockLanguageModelV3 calls the gated refund
 * tool, a reviewer decides in the mail viewer, and the second model step reads the tool's result: the
 * refund made with the reviewer's amount, or who said no and why.
 */
import { join } from 'node:path';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { Hitl } from '../../clients/typescript/src/index.ts';
import { handle } from '../../examples/vercel-ai/refund-tool.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 1, text: 1, reasoning: undefined } };

/** Calls `refund` once, then answers with the tool result it was given, verbatim. */
function scriptedModel(toolCallId: string, args: Record<string, unknown>) {
  return new MockLanguageModelV3({
    doGenerate: async ({ prompt }) => {
      const result = prompt.flatMap((m) => (m.role === 'tool' ? m.content : [])).find((p) => p.type === 'tool-result');
      if (!result) {
        return { content: [{ type: 'tool-call', toolCallId, toolName: 'refund', input: JSON.stringify(args) }], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] };
      }
      const text = 'value' in result.output ? String(result.output.value) : JSON.stringify(result.output);
      return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
    },
  });
}

describe('Vercel AI SDK example on the local stack', () => {
  let stack: TestStack;
  let hitl: Hitl;

  beforeAll(async () => {
    stack = await startTestStack({ clock: new ManualClock() });
    hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function decide(toolCallId: string, fields: Record<string, string>): Promise<void> {
    const requestId = stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: toolCallId });
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com', timeoutMs: 30_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  it('a modification: the tool runs with the reviewer’s amount and the model reads that result', async () => {
    const model = scriptedModel('call_ai_modify', { order_id: 'O-6001', amount_usd: 300 });
    const run = handle(model, 'refund order O-6001', hitl);
    await decide('call_ai_modify', { choice: 'modify', 'arg.order_id': 'O-6001', 'arg.amount_usd': '250' });
    const result = await run;
    expect(result.steps[0]!.toolResults).toMatchObject([{ toolCallId: 'call_ai_modify', input: { amount_usd: 300 }, output: 'refunded 250 USD on O-6001' }]);
    expect(result.text).toBe('refunded 250 USD on O-6001');
    expect(model.doGenerateCalls).toHaveLength(2);
  });

  it('a denial: the tool does not run and the model reads who said no and why', async () => {
    const model = scriptedModel('call_ai_deny', { order_id: 'O-6002', amount_usd: 90 });
    const run = handle(model, 'refund order O-6002', hitl);
    await decide('call_ai_deny', { choice: 'deny', reason: 'already refunded' });
    expect((await run).text).toBe('Not done: refund was denied by lead@example.com: already refunded. Do not retry it unchanged.');
  });
});
