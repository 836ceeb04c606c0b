/**
 * Vercel AI SDK: a refund tool whose `execute` is wrapped by hitl's gate. The call waits for a person inside
 * the tool, runs with the arguments the reviewer approved (or changed), and a "no" comes back as the tool
 * result the model reads. The SDK's own `needsApproval` answers only yes or no and cannot change the input,
 * so it is not used here.
 */
import { generateText, stepCountIs, tool, type LanguageModel } from 'ai';
import { z } from 'zod';
import { Hitl } from '../../clients/typescript/src/index.ts'; // '@hitl/client'

async function refund(args: { order_id: string; amount_usd: number }) {
  return `refunded ${args.amount_usd} USD on ${args.order_id}`;
}

export function refundTool(hitl: Hitl) {
  return tool({
    description: 'Refund part or all of an order',
    inputSchema: z.object({ order_id: z.string(), amount_usd: z.number() }),
    // The SDK passes { toolCallId }: the idempotency key, so a retried step gets the same Decision.
    execute: hitl.gate(refund, {
      agent: 'billing-bot',
      reviewerGroup: 'support-leads',
      risk: { class: 'financial', reversible: false },
      reason: (args) => `customer asked for ${args.amount_usd} USD back`,
      ttlSeconds: 300,
    }),
  });
}

/** One model turn that may call the tool, then one that reads its result. */
export function handle(model: LanguageModel, prompt: string, hitl = new Hitl()) {
  return generateText({ model, prompt, tools: { refund: refundTool(hitl) }, stopWhen: stepCountIs(2) });
}
