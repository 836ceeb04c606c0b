/**
 * Bursts of calls against a stack that may be killed in the middle: each call ends acknowledged (the API
 * answered) or not (cut off, refused), and the trial checks afterwards that every acknowledged one held.
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { executionArn } from '../aws-ids.ts';
import type { StackHandle } from '../bench/workload.ts';
import { DEMO_REQUEST } from '../demo-agent.ts';

export interface BurstOutcome<T> {
  item: T;
  acknowledged: boolean;
  /** Why it was not acknowledged. */
  error?: string;
  /** performance.now() when sent and answered. */
  sentAt: number;
  answeredAt?: number;
}

/**
 * Call `call` for every item, `concurrency` at a time. A call that throws is recorded as not acknowledged
 * (the burst goes on: after a kill, the rest fail fast). `onAcknowledged` hears of each answer as it comes.
 */
export async function runBurst<T>(
  items: readonly T[],
  concurrency: number,
  call: (item: T) => Promise<unknown>,
  onAcknowledged?: (outcome: BurstOutcome<T>, acknowledgedSoFar: number) => void,
): Promise<BurstOutcome<T>[]> {
  const outcomes: BurstOutcome<T>[] = [];
  let next = 0;
  let acknowledged = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      const outcome: BurstOutcome<T> = { item, acknowledged: false, sentAt: performance.now() };
      outcomes.push(outcome);
      try {
        await call(item);
        outcome.acknowledged = true;
        outcome.answeredAt = performance.now();
        onAcknowledged?.(outcome, ++acknowledged);
      } catch (err) {
        outcome.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return outcomes;
}

export interface TrialExecution {
  name: string;
  executionArn: string;
  idempotencyKey: string;
  input: string;
}

/** A valid review request (the demo agent's refund), made unique by its idempotency key and order id. */
export function trialRequest(key: string): ReviewRequestInput {
  return { ...DEMO_REQUEST, kind: 'approval', action: { name: 'refund', args: { order_id: `O-${key}`, amount_usd: 350 } }, idempotencyKey: key };
}

/** `count` executions to start, named `<tag>-<i>` so that ones cut off can be looked up after a restart. */
export function trialExecutions(stack: Pick<StackHandle, 'stateMachineArn'>, tag: string, count: number): TrialExecution[] {
  const machine = stack.stateMachineArn.slice(stack.stateMachineArn.lastIndexOf(':') + 1);
  return Array.from({ length: count }, (_, i) => {
    const name = `${tag}-${i}`;
    return { name, executionArn: executionArn(machine, name), idempotencyKey: name, input: JSON.stringify(trialRequest(name)) };
  });
}

/** StartExecution for each, `concurrency` at a time. */
export function startBurst(
  stack: StackHandle,
  executions: readonly TrialExecution[],
  concurrency: number,
  onAcknowledged?: (outcome: BurstOutcome<TrialExecution>, acknowledgedSoFar: number) => void,
): Promise<BurstOutcome<TrialExecution>[]> {
  return runBurst(
    executions,
    concurrency,
    async (e) => {
      const out = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: e.name, input: e.input }));
      if (out.executionArn !== e.executionArn) throw new Error(`StartExecution ${e.name} answered ${out.executionArn ?? 'no ARN'}`);
    },
    onAcknowledged,
  );
}
