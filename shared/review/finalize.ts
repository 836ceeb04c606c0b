/**
 * Ending a request: the conditional PENDING → DECIDED/EXPIRED write decides who wins, then the decision
 * log, then SendTaskSuccess. Reused by the respond function (a person decided) and the expire function
 * (a fallback policy decided).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { RequestNotFoundError } from '../errors.ts';
import { DIMENSION, METRIC } from '../metrics.ts';
import { deleteRoundSchedule } from '../schedules.ts';
import type { Decision } from '../schemas/decision.ts';
import { decisionIndexKeys } from '../store/decision-log.ts';
import type { LogEventType, StoredRequest } from '../store/model.ts';
import { describeError } from './decisions.ts';
import type { ReviewDeps, StoreDeps } from './deps.ts';
import { purgeAt } from './notify.ts';

export type FinalEvent = Extract<LogEventType, 'decided' | 'expired' | 'corrected'>;

export interface FinalizeArgs {
  /** The round the decider saw; a decision for an earlier round (before an escalation) loses. */
  expectedRound: number;
  status: 'DECIDED' | 'EXPIRED';
  decision: Decision;
  event: FinalEvent;
  /** Reviewer email or `policy:<name>`. */
  actor: string;
  details?: Record<string, unknown>;
}

export type FinalizeResult =
  | { won: true; row: StoredRequest; resume: ResumeOutcome }
  | { won: false; current: StoredRequest };

/**
 * - `resumed`: SendTaskSuccess accepted.
 * - `execution-ended`: the token was no longer valid (the execution timed out or was stopped).
 * - `failed`: a transient error; the row stays DECIDED without `resumedAt` and a retry must resume it.
 * - `in-progress`: someone else holds a fresh claim on the resume.
 * - `not-needed`: still pending, already resumed, or no execution waits on this row.
 */
export type ResumeOutcome = 'resumed' | 'execution-ended' | 'failed' | 'in-progress' | 'not-needed';

/** A claim older than this is abandoned (its holder crashed or timed out) and may be taken over. */
export const RESUME_CLAIM_STALE_MS = 60_000;

const ENDED_EXECUTION_ERRORS = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** The final event a row's decision is logged under. */
export function finalEventOf(row: Pick<StoredRequest, 'status'>, decision: Decision): FinalEvent {
  if (row.status === 'EXPIRED') return 'expired';
  return decision.outcome === 'corrected' ? 'corrected' : 'decided';
}

async function logFinal(deps: StoreDeps, row: StoredRequest, decision: Decision, event: FinalEvent, actor: string, details?: Record<string, unknown>): Promise<void> {
  await deps.decisionLog.appendFinal({
    requestId: row.requestId,
    event,
    at: decision.decidedAt,
    actor,
    tier: decision.tier,
    details: { round: row.round, ...details },
    decision,
    ...decisionIndexKeys(row, decision.decidedAt),
    ...purgeAt(deps.config, deps.now()),
  });
}

function recordLatency(deps: StoreDeps, row: StoredRequest, decision: Decision): void {
  if (!deps.metrics) return;
  const metric = deps.metrics.singleMetric();
  metric.addDimension(DIMENSION.group, row.reviewerGroup);
  metric.addDimension(DIMENSION.outcome, decision.outcome);
  metric.addMetric(METRIC.decisionLatency, MetricUnit.Milliseconds, decision.latencyMs);
}

/** Send the row's Decision with `taskToken`, then forget the token. The caller holds the resume claim. */
async function sendResume(deps: ReviewDeps, row: StoredRequest, taskToken: string): Promise<ResumeOutcome> {
  let outcome: ResumeOutcome = 'resumed';
  try {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(row.decision) }));
  } catch (err) {
    const error = describeError(err, [taskToken]);
    if (!ENDED_EXECUTION_ERRORS.has(error.name)) {
      deps.log.error('Could not resume the execution; a retry will', { requestId: row.requestId, error });
      await deps.requests.releaseResumeClaim(row.requestId, taskToken).catch(() => undefined);
      return 'failed';
    }
    deps.log.warn('The execution no longer waits for this request', { requestId: row.requestId, error });
    outcome = 'execution-ended';
  }
  const at = deps.now().toISOString();
  await deps.requests.markResumed(row.requestId, at, taskToken);
  await deps.decisionLog.append({
    requestId: row.requestId,
    event: 'resumed',
    at,
    actor: 'system',
    tier: row.tier,
    details: { result: outcome, outcome: row.decision?.outcome },
    ...purgeAt(deps.config, deps.now()),
  });
  return outcome;
}

/**
 * First decision wins. The loser gets `{ won: false, current }` and nothing else happens (no log, no
 * SendTask); a caller that wants a stuck resume retried calls `resumeIfNeeded(current)`.
 */
export async function finalizeDecision(deps: ReviewDeps, requestId: string, args: FinalizeArgs): Promise<FinalizeResult> {
  const row = await deps.requests.decide(requestId, {
    expectedRound: args.expectedRound,
    status: args.status,
    decision: args.decision,
    at: deps.now().toISOString(),
  });
  if (!row) {
    const current = await deps.requests.get(requestId);
    if (!current) throw new RequestNotFoundError(requestId);
    return { won: false, current };
  }

  try {
    await logFinal(deps, row, args.decision, args.event, args.actor, args.details);
  } catch (err) {
    // The row is decided; a retry (resumeIfNeeded) writes the same final event and resumes.
    if (row.taskToken) await deps.requests.releaseResumeClaim(requestId, row.taskToken).catch(() => undefined);
    throw err;
  }
  recordLatency(deps, row, args.decision);
  deps.log.info('Request finalized', { requestId, status: args.status, outcome: args.decision.outcome, tier: args.decision.tier });

  const resume = row.taskToken ? await sendResume(deps, row, row.taskToken) : 'not-needed';
  await deleteRoundSchedule(deps.scheduler, deps.schedules, requestId, args.expectedRound).catch((err: unknown) =>
    deps.log.warn('Could not delete the round schedule; it will fire and find the request decided', { requestId, error: describeError(err) }),
  );
  const settled = resume === 'resumed' || resume === 'execution-ended';
  const { taskToken: _token, resumeClaimedAt: _claim, ...rest } = row;
  return { won: true, row: settled ? { ...rest, resumedAt: deps.now().toISOString() } : row, resume };
}

/**
 * Idempotent resume of a decided row whose execution was not told yet (a transient SendTask failure, or a
 * crash between the decision write and the resume). Safe to call from any retry path: a fresh claim held
 * by someone else means they are resuming right now.
 */
export async function resumeIfNeeded(deps: ReviewDeps, row: StoredRequest): Promise<ResumeOutcome> {
  if (row.status === 'PENDING' || row.resumedAt || !row.taskToken || !row.decision) return 'not-needed';
  const now = deps.now();
  const claimed = await deps.requests.claimResume(row.requestId, row.taskToken, now.toISOString(), new Date(now.getTime() - RESUME_CLAIM_STALE_MS).toISOString());
  if (!claimed) return 'in-progress';
  await logFinal(deps, row, row.decision, finalEventOf(row, row.decision), row.decision.decidedBy);
  return sendResume(deps, row, row.taskToken);
}
