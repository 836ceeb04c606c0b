/**
 * The step after the human-review task: the agent receives the Decision stored in the requests table,
 * never the SendTaskSuccess payload alone. Anyone who can read the execution history can read the task
 * token and call SendTaskSuccess; a payload that is not the stored Decision of a final request fails the
 * execution with ForgedDecisionError, is logged, and counts toward an alarm.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ForgedDecisionError } from '../errors.ts';
import { METRIC } from '../metrics.ts';
import type { Decision } from '../schemas/decision.ts';
import { canonicalJson } from './admission.ts';
import type { StoreDeps } from './deps.ts';
import { purgeAt } from './notify.ts';

export interface SettleInput {
  requestId: string;
  executionArn: string;
  /** What came back with the task token. */
  review: unknown;
}

export async function settleDecision(deps: StoreDeps, input: SettleInput): Promise<Decision> {
  const row = await deps.requests.get(input.requestId);
  const stored = row?.decision;
  if (row && row.status !== 'PENDING' && stored && canonicalJson(stored) === canonicalJson(input.review)) return stored;

  const status = row?.status ?? 'MISSING';
  const why = !row ? 'no such request' : row.status === 'PENDING' ? 'the request is still pending' : 'the payload is not the stored Decision';
  if (row) {
    await deps.decisionLog.append({
      requestId: row.requestId,
      event: 'forged',
      at: deps.now().toISOString(),
      actor: 'unknown',
      tier: row.tier,
      details: { executionArn: input.executionArn, status, why },
      ...purgeAt(deps.config, deps.now()),
    });
  }
  if (deps.metrics) {
    const metric = deps.metrics.singleMetric();
    metric.addMetric(METRIC.forgedResumes, MetricUnit.Count, 1);
  }
  deps.log.error('Refused a resume that is not the stored Decision', { requestId: input.requestId, status, why });
  throw new ForgedDecisionError(`Request ${input.requestId} was resumed with a payload that is not its stored Decision (${why}); the execution is failed so the agent does not act on it`);
}
