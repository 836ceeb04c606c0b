/**
 * Ending a request: one transaction writes PENDING → DECIDED/EXPIRED/CANCELLED with its final log event
 * (the conditional write decides who wins), then SendTaskSuccess to every waiting execution. Reused by the
 * respond function (a person decided), the expire function (a fallback policy decided) and cancels.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { RequestNotFoundError } from '../errors.ts';
import { DIMENSION, METRIC } from '../metrics.ts';
import { deleteRoundSchedule } from '../schedules.ts';
import type { Decision } from '../schemas/decision.ts';
import { decisionIndexKeys } from '../store/decision-log.ts';
import type { FinalLogEvent } from '../store/ledger.ts';
import { buildHitlDecision, decisionExtrasDetails, isOutOfHours, logHitlDecision, type DecisionExtras } from './decision-record.ts';
import type { LogEventType, StoredRequest } from '../store/model.ts';
import { describeError } from './decisions.ts';
import { putDecisionEvent, putNow, recordEventPublished, republishOwed } from './decision-event.ts';
import type { ReviewDeps, StoreDeps } from './deps.ts';
import { groupNamed } from './groups.ts';
import { purgeAt } from './notify.ts';

export type FinalEvent = Extract<LogEventType, 'decided' | 'expired' | 'corrected' | 'cancelled'>;

export interface FinalizeArgs {
  /** The round the decider saw; a decision for an earlier round (before an escalation) loses. */
  expectedRound?: number;
  /** Only while the request still belongs to this execution (a cancel). */
  executionArn?: string;
  status: 'DECIDED' | 'EXPIRED' | 'CANCELLED';
  decision: Decision;
  event: FinalEvent;
  /** Reviewer email or `policy:<name>`. */
  actor: string;
  details?: Record<string, unknown>;
  /** What the hitl_decision record adds where known: the channel, time on card. */
  extras?: DecisionExtras;
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

/** Enough to resume an execution: the tables and Step Functions. */
export type ResumeDeps = StoreDeps & Pick<ReviewDeps, 'sfn'>;

/**
 * Resume what a crash left undone: final rows of a group whose claim on the resume went stale (its holder
 * died between the decision and SendTaskSuccess). Run every minute by the monitor.
 */
export async function resumeStuck(deps: ResumeDeps, group: string): Promise<number> {
  let resumed = 0;
  for (const row of await deps.requests.unresumedByGroup(group)) {
    const outcome = await resumeIfNeeded(deps, row);
    if (outcome === 'resumed' || outcome === 'execution-ended') resumed++;
  }
  if (resumed) deps.log.warn('Resumed executions a crash had left waiting', { group, resumed });
  if (deps.decisionEvents) {
    // Decision events still owed (a failed PutEvents, a crash before it): only rows past the claim window,
    // so a decision being finalized right now is not published twice.
    const settledBefore = deps.now().getTime() - RESUME_CLAIM_STALE_MS;
    const owed = (await deps.requests.unresumedByGroup(group)).filter((row) => row.decision && Date.parse(row.decision.decidedAt) < settledBefore);
    await republishOwed(deps, owed);
  }
  return resumed;
}

/** A claim older than this is abandoned (its holder crashed or timed out) and may be taken over. */
export const RESUME_CLAIM_STALE_MS = 60_000;

const ENDED_EXECUTION_ERRORS = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** The final event a row's decision is logged under. */
export function finalEventOf(row: Pick<StoredRequest, 'status'>, decision: Decision): FinalEvent {
  if (row.status === 'EXPIRED') return 'expired';
  if (row.status === 'CANCELLED') return 'cancelled';
  return decision.outcome === 'corrected' ? 'corrected' : 'decided';
}

/** The final log event of a row's Decision, with the index keys analysts query by. */
export function finalLogEvent(deps: StoreDeps, row: StoredRequest, decision: Decision, event: FinalEvent, actor: string, details?: Record<string, unknown>): FinalLogEvent {
  return {
    requestId: row.requestId,
    event,
    at: decision.decidedAt,
    actor,
    tier: decision.tier,
    details: { round: row.round, ...details },
    decision,
    ...decisionIndexKeys(row, decision.decidedAt),
    ...purgeAt(deps.config, deps.now()),
  };
}

/** Rows finalized before the state change and its event were one transaction may lack the event. */
async function repairFinalEvent(deps: StoreDeps, row: StoredRequest): Promise<void> {
  if (!row.decision) return;
  await deps.decisionLog.appendFinal(finalLogEvent(deps, row, row.decision, finalEventOf(row, row.decision), row.decision.decidedBy));
}

function recordLatency(deps: StoreDeps, row: StoredRequest, decision: Decision): void {
  if (!deps.metrics) return;
  const metric = deps.metrics.singleMetric();
  metric.addDimension(DIMENSION.group, row.reviewerGroup);
  metric.addDimension(DIMENSION.outcome, decision.outcome);
  metric.addMetric(METRIC.decisionLatency, MetricUnit.Milliseconds, decision.latencyMs);
}

/**
 * SendTaskSuccess with the stored Decision: true if accepted, false if that execution no longer waits; any
 * other failure is thrown (with `safe`, its description without the token).
 */
export async function resumeOne(deps: ResumeDeps, row: StoredRequest, taskToken: string): Promise<boolean> {
  try {
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(row.decision) }));
    return true;
  } catch (err) {
    const error = describeError(err, [taskToken]);
    if (!ENDED_EXECUTION_ERRORS.has(error.name)) throw Object.assign(err as object, { safe: error });
    deps.log.warn('An execution no longer waits for this request', { requestId: row.requestId, error });
    return false;
  }
}

/** The decision event's state when the resume is recorded: still owed, or accepted just now and not yet recorded. */
interface Publication {
  owed: boolean;
  /** When this call's PutEvents was accepted: recorded with `resumedAt` in the same write. */
  publishedAt?: string;
}

/** SendTaskSuccess begun before the final row was read again (finalizeDecision), to the token the decider saw. */
export interface EarlyResume {
  token: string;
  accepted: Promise<boolean>;
}

/**
 * Send the row's Decision to the owning execution and every waiter, then forget the tokens. The caller
 * holds the resume claim; a transient failure releases it so a retry sends them all again. A token already
 * sent to (`early`) is not sent to again.
 */
async function sendResume(
  deps: ResumeDeps,
  row: StoredRequest,
  taskToken: string,
  publication: Publication | Promise<Publication> = { owed: !!deps.decisionEvents && !row.eventPublishedAt },
  early?: EarlyResume,
): Promise<{ outcome: ResumeOutcome; eventRecorded: boolean }> {
  let accepted: boolean[];
  try {
    const tokens = [taskToken, ...Object.values(row.waiters ?? {})];
    accepted = await Promise.all(tokens.map((token) => (token === early?.token ? early.accepted : resumeOne(deps, row, token))));
  } catch (err) {
    deps.log.error('Could not resume the execution; a retry will', { requestId: row.requestId, error: (err as { safe?: unknown }).safe });
    await deps.requests.releaseResumeClaim(row.requestId, taskToken).catch(() => undefined);
    return { outcome: 'failed', eventRecorded: false };
  }
  const outcome: ResumeOutcome = accepted[0] ? 'resumed' : 'execution-ended';
  // Only after SendTaskSuccess: a crash before this write leaves the claim to go stale and the monitor to resume.
  const { owed, publishedAt } = await publication;
  const at = deps.now().toISOString();
  const recorded = await deps.ledger.resumed(
    row.requestId,
    at,
    taskToken,
    owed,
    {
      requestId: row.requestId,
      event: 'resumed',
      at,
      actor: 'system',
      tier: row.tier,
      details: { result: outcome, outcome: row.decision?.outcome, ...(accepted.length > 1 ? { waiters: accepted.length - 1 } : {}) },
      ...purgeAt(deps.config, deps.now()),
    },
    publishedAt,
  );
  return { outcome, eventRecorded: recorded && publishedAt !== undefined };
}

/**
 * First decision wins. The loser gets `{ won: false, current }` and nothing else happens (no log, no
 * SendTask); a caller that wants a stuck resume retried calls `resumeIfNeeded(current)`.
 */
export async function finalizeDecision(deps: ReviewDeps, seen: StoredRequest, args: FinalizeArgs): Promise<FinalizeResult> {
  const requestId = seen.requestId;
  const extras: DecisionExtras = { outOfHours: isOutOfHours(groupNamed(deps.config, seen.reviewerGroup), seen.createdAt), ...args.extras };
  const final = finalLogEvent(deps, seen, args.decision, args.event, args.actor, { ...args.details, ...decisionExtrasDetails(extras) });
  const won = await deps.ledger.finishOnly(
    requestId,
    { status: args.status, decision: args.decision, at: deps.now().toISOString(), expectedRound: args.expectedRound, executionArn: args.executionArn },
    final,
  );
  if (!won) {
    const current = await deps.requests.get(requestId);
    if (!current) throw new RequestNotFoundError(requestId);
    return { won: false, current };
  }
  // The Decision is stored. The row is read again for what may have changed since `seen` (a waiter added, a
  // task token replaced by a retried wait); meanwhile the execution seen waiting is told and the event put,
  // from what cannot have changed (the Decision just written, the request's agent, action and execution).
  const written: StoredRequest = { ...seen, status: args.status, decision: args.decision };
  const putting = putDecisionEvent(deps, written);
  let early: EarlyResume | undefined;
  if (seen.taskToken) {
    early = { token: seen.taskToken, accepted: resumeOne(deps, written, seen.taskToken) };
    // Awaited in sendResume when the token is still the row's; a failure of a replaced token is not.
    early.accepted.catch(() => undefined);
  }
  const row = await deps.requests.get(requestId);
  if (!row) throw new RequestNotFoundError(requestId);
  return afterFinal(deps, row, args.decision, extras, { putting, early });
}

/**
 * What follows the write that ended a request (a decision, a fallback, a cancel, the vote that settled a
 * quorum): the latency metric and the hitl_decision record, the decision event, SendTaskSuccess to every
 * waiting execution, the round's schedule removed. The other reviewers are told, and the channels show the
 * outcome, by the conclude function on the decision event (conclude.ts), after the reviewer's page returns.
 */
export async function afterFinal(
  deps: ReviewDeps,
  row: StoredRequest,
  decision: Decision,
  extras: DecisionExtras = { outOfHours: isOutOfHours(groupNamed(deps.config, row.reviewerGroup), row.createdAt) },
  begun: { putting?: Promise<boolean>; early?: EarlyResume } = {},
): Promise<Extract<FinalizeResult, { won: true }>> {
  const requestId = row.requestId;
  recordLatency(deps, row, decision);
  logHitlDecision(deps.log, buildHitlDecision(row, decision, extras));
  deps.log.info('Request finalized', { requestId, status: row.status, outcome: decision.outcome, tier: decision.tier });

  // The event, the resume and the schedule's removal do not depend on each other: all three at once. The
  // row leaves the queue index once resumed unless the event is still owed, so that write waits for both,
  // and records the event's acceptance too (one write fewer on the reviewer's path).
  const recordAfterPut = putNow(deps, row);
  const putting = begun.putting ?? putDecisionEvent(deps, row);
  const unscheduling = deleteRoundSchedule(deps.scheduler, deps.schedules, requestId, row.round).catch((err: unknown) =>
    deps.log.warn('Could not delete the round schedule; it will fire and find the request decided', { requestId, error: describeError(err) }),
  );
  const publication = putting.then((put): Publication => ({ owed: !put, ...(put && recordAfterPut ? { publishedAt: deps.now().toISOString() } : {}) }));
  const { outcome: resume, eventRecorded } = row.taskToken ? await sendResume(deps, row, row.taskToken, publication, begun.early) : { outcome: 'not-needed' as const, eventRecorded: false };
  // Put, but not recorded with the resume (no execution to resume, or the resume was not recorded): on its own.
  if ((await putting) && recordAfterPut && !eventRecorded) await recordEventPublished(deps, row);
  await unscheduling;
  const settled = resume === 'resumed' || resume === 'execution-ended';
  const { taskToken: _token, resumeClaimedAt: _claim, waiters: _waiters, ...rest } = row;
  return { won: true, row: settled ? { ...rest, resumedAt: deps.now().toISOString() } : row, resume };
}

/**
 * Idempotent resume of a decided row whose execution was not told yet (a transient SendTask failure, or a
 * crash between the decision write and the resume). Safe to call from any retry path: a fresh claim held
 * by someone else means they are resuming right now.
 */
export async function resumeIfNeeded(deps: ResumeDeps, row: StoredRequest): Promise<ResumeOutcome> {
  if (row.status === 'PENDING' || row.resumedAt || !row.taskToken || !row.decision) return 'not-needed';
  const now = deps.now();
  const claimed = await deps.requests.claimResume(row.requestId, row.taskToken, now.toISOString(), new Date(now.getTime() - RESUME_CLAIM_STALE_MS).toISOString());
  if (!claimed) return 'in-progress';
  await repairFinalEvent(deps, row);
  return (await sendResume(deps, row, row.taskToken)).outcome;
}
