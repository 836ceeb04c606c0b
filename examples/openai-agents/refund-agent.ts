/**
 * OpenAI Agents SDK: a refund tool with `needsApproval`; hitl decides each paused call. The SDK's own
 * approval can only say yes or no, so a reviewer's changed arguments travel in the run context, keyed by the
 * tool-call id, and the tool runs with those.
 */
import { Agent, run, tool, type Model, type RunContext, type RunToolApprovalItem } from '@openai/agents';
import { z } from 'zod';
import { Hitl, refusalText, type Decision, type ToolArgs } from '../../clients/typescript/src/index.ts'; // '@hitl/client'

interface Ctx {
  decisions: Map<string, Decision>;
}

export const refund = tool({
  name: 'refund',
  description: 'Refund part or all of an order',
  parameters: z.object({ order_id: z.string(), amount_usd: z.number() }),
  needsApproval: true,
  execute: async (args, ctx?: RunContext<Ctx>, details?) => {
    const callId = details?.toolCall?.callId ?? '';
    const approved = (ctx?.context.decisions.get(callId)?.approvedArgs ?? args) as typeof args;
    return `refunded ${approved.amount_usd} USD on ${approved.order_id}`;
  },
});

export function billingAgent(model: Model | string = 'gpt-5-mini'): Agent<Ctx> {
  return new Agent<Ctx>({ name: 'billing-bot', instructions: 'Handle refund requests.', model, tools: [refund] });
}

const callIdOf = (item: RunToolApprovalItem) => (item.rawItem as { callId: string }).callId;

/** Ask hitl about one paused call; the tool-call id is the idempotency key, so a restarted run asks once. */
function ask(hitl: Hitl, item: RunToolApprovalItem): Promise<Decision> {
  return hitl.review({
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: item.name ?? 'tool', args: JSON.parse(item.arguments ?? '{}') as ToolArgs },
    reason: 'the customer asked for a refund',
    risk: { class: 'financial', reversible: false },
    reviewerGroup: 'support-leads',
    ttlSeconds: 300,
    idempotencyKey: callIdOf(item),
  });
}

/** Run the agent; at each pause ask hitl, approve or reject with its words, and run on. */
export async function runWithHitl(agent: Agent<Ctx>, input: string, hitl = new Hitl()) {
  const decisions = new Map<string, Decision>();
  let result = await run(agent, input, { context: { decisions } });
  while (result.interruptions.length > 0) {
    for (const item of result.interruptions) {
      const decision = await ask(hitl, item);
      const refusal = refusalText(item.name ?? 'tool', decision);
      if (refusal === undefined) {
        decisions.set(callIdOf(item), decision);
        result.state.approve(item);
      } else result.state.reject(item, { message: refusal });
    }
    result = await run(agent, result.state);
  }
  return { output: result.finalOutput, decisions };
}
