/** Building Decision documents, the state machine's output, from a stored request. */
import type { Decision } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';

export type DecisionFields = Omit<Decision, 'requestId' | 'kind' | 'tier' | 'requestedAt' | 'decidedAt' | 'latencyMs'>;

export function buildDecision(row: Pick<StoredRequest, 'requestId' | 'kind' | 'tier' | 'createdAt'>, at: Date, fields: DecisionFields): Decision {
  return {
    requestId: row.requestId,
    kind: row.kind,
    tier: row.tier,
    requestedAt: row.createdAt,
    decidedAt: at.toISOString(),
    latencyMs: Math.max(0, at.getTime() - Date.parse(row.createdAt)),
    ...fields,
  };
}

/** The row as reviewers may see it: everything but the task token. */
export function visibleRow(row: StoredRequest): StoredRequest {
  const { taskToken: _token, resumeClaimedAt: _claim, ...rest } = row;
  return rest;
}

/** An error's name and message with any secret in it blanked, for log lines. */
export function describeError(err: unknown, secrets: (string | undefined)[] = []): { name: string; message: string } {
  const name = (err as { name?: unknown } | null)?.name;
  let message = err instanceof Error ? err.message : String(err);
  for (const secret of secrets) if (secret) message = message.split(secret).join('[redacted]');
  return { name: typeof name === 'string' ? name : 'Error', message };
}
