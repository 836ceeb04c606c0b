/**
 * Ending a pending request because its execution ended without a decision: the agent or an operator
 * stopped it (StopExecution), it failed, or it timed out. The request becomes CANCELLED with its final log
 * event, its schedule goes, other executions waiting on it are told, and its links can no longer decide.
 */
import { deriveRequestId } from './admission.ts';
import { buildDecision } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { finalizeDecision, type FinalizeResult } from './finalize.ts';
import type { StoredRequest } from '../store/model.ts';

/** What the Step Functions status-change event says about an execution that ended. */
export interface EndedExecution {
  executionArn: string;
  status: 'ABORTED' | 'FAILED' | 'TIMED_OUT' | 'SUCCEEDED' | 'RUNNING' | 'PENDING_REDRIVE';
  /** The execution's input as a JSON string. */
  input?: string | null;
  error?: string | null;
  cause?: string | null;
}

export type CancelResult = { result: 'cancelled'; requestId: string } | { result: 'no-op'; why: string };

/** The request an execution owns, from its input's agent and idempotency key (or the execution ARN). */
export function requestIdOf(ended: Pick<EndedExecution, 'executionArn' | 'input'>): string {
  let input: { agent?: unknown; idempotencyKey?: unknown } = {};
  try {
    const parsed: unknown = JSON.parse(ended.input ?? '{}');
    if (parsed && typeof parsed === 'object') input = parsed as typeof input;
  } catch {
    // Not JSON: the route refused it, so no request was stored under a key.
  }
  const key = typeof input.idempotencyKey === 'string' ? input.idempotencyKey : undefined;
  const agent = typeof input.agent === 'string' ? input.agent : '';
  return deriveRequestId({ agent, idempotencyKey: key }, ended.executionArn);
}

function whyEnded(ended: EndedExecution): { decidedBy: string; reason: string } {
  if (ended.status === 'ABORTED') return { decidedBy: 'agent', reason: 'the execution was stopped before anyone decided' };
  if (ended.status === 'TIMED_OUT') return { decidedBy: 'system', reason: 'the execution timed out before anyone decided' };
  return { decidedBy: 'system', reason: `the execution failed before anyone decided${ended.error ? ` (${ended.error})` : ''}` };
}

/** Cancel a pending request owned by `executionArn`; a no-op once it is final or owned by another execution. */
export async function cancelRequest(
  deps: ReviewDeps,
  row: StoredRequest,
  why: { executionArn: string; decidedBy: 'agent' | 'system'; reason: string },
): Promise<FinalizeResult> {
  const decidedBy = why.decidedBy === 'agent' ? `agent:${row.agent}` : 'system';
  const decision = buildDecision(row, deps.now(), { outcome: 'cancelled', decidedBy, reason: why.reason });
  return finalizeDecision(deps, row, { executionArn: why.executionArn, status: 'CANCELLED', decision, event: 'cancelled', actor: decidedBy, details: { why: why.reason } });
}

/** The handler of the execution status-change event (EventBridge on AWS, the local bus locally). */
export async function cancelForEndedExecution(deps: ReviewDeps, ended: EndedExecution): Promise<CancelResult> {
  if (ended.status !== 'ABORTED' && ended.status !== 'FAILED' && ended.status !== 'TIMED_OUT') return { result: 'no-op', why: `status ${ended.status}` };
  const requestId = requestIdOf(ended);
  const row = await deps.requests.get(requestId);
  if (!row) return { result: 'no-op', why: 'no request for this execution' };
  if (row.executionArn !== ended.executionArn) {
    // A retry that was waiting on another execution's request leaves; that request goes on.
    const left = await deps.requests.removeWaiter(requestId, ended.executionArn);
    return { result: 'no-op', why: left ? 'a waiting execution left' : 'the request belongs to another execution' };
  }
  if (row.status !== 'PENDING') return { result: 'no-op', why: `request is already ${row.status.toLowerCase()}` };
  const done = await cancelRequest(deps, row, { executionArn: ended.executionArn, ...whyEnded(ended) } as Parameters<typeof cancelRequest>[2]);
  if (!done.won) return { result: 'no-op', why: `request is already ${done.current.status.toLowerCase()}` };
  deps.log.info('Request cancelled: its execution ended', { requestId, status: ended.status, error: ended.error ?? undefined });
  return { result: 'cancelled', requestId };
}
