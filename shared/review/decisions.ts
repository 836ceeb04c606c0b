/** Building Decision documents, the state machine's output, from a stored request. */
import { votesOf } from '../policies/quorum.ts';
import type { Decision } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';

export type DecisionFields = Omit<Decision, 'requestId' | 'kind' | 'tier' | 'requestedAt' | 'decidedAt' | 'latencyMs'>;

type DecisionRow = Pick<StoredRequest, 'requestId' | 'kind' | 'tier' | 'createdAt'> & Partial<Pick<StoredRequest, 'policy' | 'votes'>>;

/**
 * Every Decision names the policy rule that applied and why (a policy's own why when one decided, else why
 * the request went to a person), and carries the votes cast on it, whoever decided.
 */
export function buildDecision(row: DecisionRow, at: Date, fields: DecisionFields): Decision {
  const rule = row.policy ? { rule: row.policy.rule, why: row.policy.why } : undefined;
  const policy = rule || fields.policy ? { ...rule, ...fields.policy } as Decision['policy'] : undefined;
  const votes = votesOf(row);
  return {
    requestId: row.requestId,
    kind: row.kind,
    tier: row.tier,
    requestedAt: row.createdAt,
    decidedAt: at.toISOString(),
    latencyMs: Math.max(0, at.getTime() - Date.parse(row.createdAt)),
    ...(votes.length ? { votes } : {}),
    ...fields,
    ...(policy ? { policy } : {}),
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
