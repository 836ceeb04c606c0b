/**
 * examples/openai-agents against the local stack, offline: a scripted Model asks for a refund, the run
 * pauses on `needsApproval`, hitl's reviewer decides in the mail viewer, and the tool runs with the
 * reviewer's arguments (modify) or never runs and the model reads who said no (deny).
 */
import { join } from 'node:path';
import { setTracingDisabled, Usage, type AgentInputItem, type Model, type ModelRequest, type ModelResponse } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { Hitl } from '../../clients/typescript/src/index.ts';
import { billingAgent, runWithHitl } from '../../examples/openai-agents/refund-agent.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

/** A model that calls `refund` once, then answers with the tool's result (or the refusal) verbatim. */
class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  constructor(
    private readonly callId: string,
    private readonly args: Record<string, unknown>,
  ) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(request);
    const items = (typeof request.input === 'string' ? [] : request.input) as AgentInputItem[];
    const result = items.find((i) => i.type === 'function_call_result');
    if (!result) {
      return { usage: new Usage(), output: [{ type: 'function_call', callId: this.callId, name: 'refund', arguments: JSON.stringify(this.args), status: 'completed' }] };
    }
    const output = typeof result.output === 'string' ? result.output : 'text' in result.output ? String(result.output.text) : JSON.stringify(result.output);
    return { usage: new Usage(), output: [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: output }] }] };
  }

  // eslint-disable-next-line require-yield
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('not streamed');
  }
}

describe('OpenAI Agents SDK example on the local stack', () => {
  let stack: TestStack;
  let hitl: Hitl;

  beforeAll(async () => {
    setTracingDisabled(true);
    stack = await startTestStack({ clock: new ManualClock() });
    hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function decide(callId: string, fields: Record<string, string>): Promise<void> {
    const requestId = stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: callId });
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com', timeoutMs: 30_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  it('a modification: the run resumes and the tool runs with the reviewer’s arguments', async () => {
    const model = new ScriptedModel('call_oa_modify', { order_id: 'O-7001', amount_usd: 300 });
    const run = runWithHitl(billingAgent(model), 'refund order O-7001', hitl);
    await decide('call_oa_modify', { choice: 'modify', 'arg.order_id': 'O-7001', 'arg.amount_usd': '250' });
    const { output, decisions } = await run;
    expect(output).toBe('refunded 250 USD on O-7001');
    expect(decisions.get('call_oa_modify')).toMatchObject({ outcome: 'modified', decidedBy: 'lead@example.com', proposedArgs: { amount_usd: 300 }, approvedArgs: { amount_usd: 250 } });
    expect(model.requests).toHaveLength(2);
  });

  it('a denial: the tool never runs and the model reads who said no and why', async () => {
    const model = new ScriptedModel('call_oa_deny', { order_id: 'O-7002', amount_usd: 90 });
    const run = runWithHitl(billingAgent(model), 'refund order O-7002', hitl);
    await decide('call_oa_deny', { choice: 'deny', reason: 'already refunded' });
    const { output, decisions } = await run;
    expect(output).toBe('Not done: refund was denied by lead@example.com: already refunded. Do not retry it unchanged.');
    expect(decisions.size).toBe(0);
  });
});
