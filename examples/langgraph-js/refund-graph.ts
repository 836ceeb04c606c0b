/**
 * LangGraph.js: a refund graph that pauses with `interrupt()` before it refunds; the runner asks hitl and
 * resumes the graph with the Decision, and the refund node runs with the arguments the reviewer approved.
 * The same graph as examples/langgraph/refund_graph.py, in TypeScript.
 */
import { Annotation, Command, END, interrupt, INTERRUPT, isInterrupted, MemorySaver, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { Hitl, refusalText, type Decision, type ToolArgs } from '../../clients/typescript/src/index.ts'; // '@hitl/client'

const RefundState = Annotation.Root({
  order_id: Annotation<string>,
  amount_usd: Annotation<number>,
  decision: Annotation<Decision>,
  result: Annotation<string>,
});
type Refund = typeof RefundState.State;
type Pause = { action: { name: string; args: ToolArgs }; reason: string };

export function buildGraph(checkpointer: BaseCheckpointSaver = new MemorySaver()) {
  return new StateGraph(RefundState)
    .addNode('ask_human', (state: Refund) => {
      // Pauses the graph here; the value given to Command({ resume }) is what interrupt() returns.
      const args = { order_id: state.order_id, amount_usd: state.amount_usd };
      return { decision: interrupt<Pause, Decision>({ action: { name: 'refund', args }, reason: 'the customer asked for a refund' }) };
    })
    .addNode('refund', (state: Refund) => {
      const refusal = refusalText('refund', state.decision);
      if (refusal !== undefined) return { result: refusal };
      const args = (state.decision.approvedArgs as { order_id: string; amount_usd: number } | undefined) ?? state;
      return { result: `refunded ${args.amount_usd} USD on ${args.order_id}` };
    })
    .addEdge(START, 'ask_human')
    .addEdge('ask_human', 'refund')
    .addEdge('refund', END)
    .compile({ checkpointer });
}

/**
 * Run until the graph pauses, ask hitl, resume with its Decision. The thread id is the idempotency key, so
 * a runner restarted on the same thread gets the same Decision without asking twice.
 */
export async function run(graph: ReturnType<typeof buildGraph>, hitl: Hitl, threadId: string, input: { order_id: string; amount_usd: number }): Promise<string> {
  const config = { configurable: { thread_id: threadId } };
  let out = await graph.invoke(input, config);
  while (isInterrupted<Pause>(out)) {
    const pause = out[INTERRUPT][0]!.value!;
    const decision = await hitl.review({
      kind: 'approval',
      agent: 'billing-bot',
      reviewerGroup: 'support-leads',
      risk: { class: 'financial', reversible: false },
      ttlSeconds: 300,
      idempotencyKey: `refund-${threadId}`,
      ...pause,
    });
    out = await graph.invoke(new Command({ resume: decision }), config);
  }
  return out.result;
}
