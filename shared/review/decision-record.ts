/**
 * The `hitl_decision` record: one structured log line per final decision, by a person or by a policy, with
 * the fields the learning loop names (request_id, user_id, action_type, agent_proposed, agent_reason,
 * human_decision, human_feedback, decision_latency_ms) plus what analysts group by: kind, agent, policy,
 * channel, tier, round, whether the request arrived out of hours, and the time the reviewer spent on the
 * card. Evals, dashboards and the saved CloudWatch Logs Insights queries read these lines; the SQL tables
 * hold the same fields (shared/analytics/rows.ts).
 *
 * Building the record is pure. `logHitlDecision` writes it with the Powertools logger it is given, at INFO.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { isOpen } from '../policies/business-hours.ts';
import type { ReviewerGroup } from '../schemas/config.ts';
import type { Decision, PolicyName } from '../schemas/decision.ts';
import type { JsonValue } from '../schemas/json.ts';
import type { ChoiceOption, Draft, Kind, ReviewRequest } from '../schemas/review-request.ts';
import type { StoredRequest } from '../store/model.ts';

/** The message of every record's log line: what the Logs Insights queries filter on. */
export const HITL_DECISION_MESSAGE = 'hitl_decision';

/** What the agent put forward, by kind. */
export type Proposal =
  | { action: { name: string; args: Record<string, JsonValue> } }
  | { draft: Draft }
  | { question: string; option: ChoiceOption }
  | { task: { summary: string; attempts?: string } }
  | { output: { id: string; content: string } };

/** What the person said beyond the outcome; only the fields they gave. */
export interface HumanFeedback {
  reason?: string;
  comment?: string;
  approved_args?: Record<string, JsonValue>;
  chosen_option?: ChoiceOption;
  edited_draft?: Draft;
  result?: string;
  corrected_output?: string;
  correction_category?: string;
}

export interface HitlDecision {
  request_id: string;
  /** The person who decided (their address on the email channel); null when a policy decided. */
  user_id: string | null;
  /** `approval#refund`, `verification#email`, or the kind alone. */
  action_type: string;
  /** Null only when the request itself is no longer known (its row was purged). */
  agent_proposed: Proposal | null;
  agent_reason: string | null;
  /** The Decision's outcome: approved, denied, modified, answered, resolved, corrected, expired, cancelled. */
  human_decision: string;
  /** Null when a policy decided or the person gave nothing beyond the outcome. */
  human_feedback: HumanFeedback | null;
  /** From the request to the decision. */
  decision_latency_ms: number;
  kind: Kind;
  agent: string;
  /** The policy that decided (auto-approve, fallback-deny, backstop, …); null when a person did. */
  policy: PolicyName | null;
  /** How the decision arrived (`email`: the signed review link); null when a policy decided. */
  channel: string | null;
  tier: number;
  round: number;
  /** The request arrived outside its reviewer group's business hours; null when that is not known. */
  out_of_hours: boolean | null;
  /** From the moment the reviewer opened the card to the decision; null when not known. */
  time_on_card_ms: number | null;
}

/** Facts known where the decision is made and nowhere else. */
export interface DecisionExtras {
  /** `email` for the signed review link. */
  channel?: string;
  /** Page opened → decision, from `timeOnCardMs()`. */
  timeOnCardMs?: number;
  /** From `isOutOfHours()` with the request's creation time. */
  outOfHours?: boolean;
}

/** The request fields the record needs. */
export type RecordSource = Pick<StoredRequest, 'requestId' | 'agent' | 'actionType' | 'kind' | 'round'> & { request?: ReviewRequest };

/** What the agent put forward: the action, the draft, its first option with the question, the task, or the output. */
export function proposalOf(request: ReviewRequest): Proposal {
  switch (request.kind) {
    case 'approval':
      return { action: request.action };
    case 'verification':
      return { draft: request.draft };
    case 'disambiguation':
      return { question: request.question, option: request.options[0]! };
    case 'escalation':
      return { task: request.task };
    case 'correction':
      return { output: { id: request.output.id, content: request.output.content } };
  }
}

/**
 * A policy (auto-approval, auto-answer, a fallback, the backstop, sampling) rather than a person decided.
 * Every Decision names the rule that applied; only a policy's decision carries a policy name.
 */
export function isPolicyDecision(decision: Pick<Decision, 'policy'>): boolean {
  return decision.policy?.name !== undefined;
}

/** A reviewer decided: no policy, and not a cancellation (nobody reviewed a cancelled request). */
export function isPersonDecision(decision: Pick<Decision, 'policy' | 'outcome'>): boolean {
  return !isPolicyDecision(decision) && (decision.outcome as string) !== 'cancelled';
}

function feedbackOf(d: Decision): HumanFeedback | null {
  if (!isPersonDecision(d)) return null;
  const f: HumanFeedback = {
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(d.comment !== undefined ? { comment: d.comment } : {}),
    ...(d.outcome === 'modified' && d.approvedArgs ? { approved_args: d.approvedArgs } : {}),
    ...(d.chosenOption ? { chosen_option: d.chosenOption } : {}),
    ...(d.editedDraft ? { edited_draft: d.editedDraft } : {}),
    ...(d.result !== undefined ? { result: d.result } : {}),
    ...(d.correctedOutput !== undefined ? { corrected_output: d.correctedOutput } : {}),
    ...(d.correctionCategory !== undefined ? { correction_category: d.correctionCategory } : {}),
  };
  return Object.keys(f).length > 0 ? f : null;
}

/** The record of one final decision. Pure: every fact not in the row or the Decision comes in `extras`. */
export function buildHitlDecision(row: RecordSource, decision: Decision, extras: DecisionExtras = {}): HitlDecision {
  const person = isPersonDecision(decision);
  return {
    request_id: row.requestId,
    user_id: person ? decision.decidedBy : null,
    action_type: row.actionType,
    agent_proposed: row.request ? proposalOf(row.request) : null,
    agent_reason: row.request?.reason ?? null,
    human_decision: decision.outcome,
    human_feedback: feedbackOf(decision),
    decision_latency_ms: decision.latencyMs,
    kind: row.kind,
    agent: row.agent,
    policy: decision.policy?.name ?? null,
    channel: person ? (extras.channel ?? null) : null,
    tier: decision.tier,
    round: row.round,
    out_of_hours: extras.outOfHours ?? null,
    time_on_card_ms: person && extras.timeOnCardMs !== undefined ? extras.timeOnCardMs : null,
  };
}

/** Write the record as one INFO line, message `hitl_decision`, its fields at the top level of the JSON. */
export function logHitlDecision(logger: Pick<Logger, 'info'>, record: HitlDecision): void {
  logger.info(HITL_DECISION_MESSAGE, { ...record });
}

/**
 * Whether `at` falls outside the group's business hours (in its time zone). A group without business hours
 * keeps no office hours, so nothing is out of hours for it; an unknown group (removed from the config) gives
 * undefined.
 */
export function isOutOfHours(group: ReviewerGroup | undefined, at: Date | string): boolean | undefined {
  if (!group) return undefined;
  if (!group.businessHours) return false;
  return !isOpen(group.businessHours, group.timeZone, typeof at === 'string' ? new Date(at) : at);
}

/**
 * Time on card: from when the review page was rendered for the reviewer (`openedAt`, sent back with the
 * form) to the decision. The value comes from the browser, so it is accepted only if it lies between the
 * request's creation and the decision; anything else is unknown.
 */
export function timeOnCardMs(openedAt: string | undefined, row: Pick<StoredRequest, 'createdAt'>, decidedAt: string): number | undefined {
  if (openedAt === undefined) return undefined;
  const opened = Date.parse(openedAt);
  const decided = Date.parse(decidedAt);
  if (Number.isNaN(opened) || Number.isNaN(decided) || opened < Date.parse(row.createdAt) || opened > decided) return undefined;
  return decided - opened;
}

/** Keys under which the final log event's `details` carry the extras, so readers of the log find them. */
const DETAIL_KEYS = { channel: 'channel', timeOnCardMs: 'timeOnCardMs', outOfHours: 'outOfHours' } as const;

/** The extras as entries for the final log event's `details` (spread them in next to `round`). */
export function decisionExtrasDetails(extras: DecisionExtras): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (extras.channel !== undefined) out[DETAIL_KEYS.channel] = extras.channel;
  if (extras.timeOnCardMs !== undefined) out[DETAIL_KEYS.timeOnCardMs] = extras.timeOnCardMs;
  if (extras.outOfHours !== undefined) out[DETAIL_KEYS.outOfHours] = extras.outOfHours;
  return out;
}

/** The extras a final log event carries, as far as they were recorded. */
export function decisionExtrasOf(details: Record<string, unknown> | undefined): DecisionExtras {
  const d = details ?? {};
  const channel = d[DETAIL_KEYS.channel];
  const card = d[DETAIL_KEYS.timeOnCardMs];
  const ooh = d[DETAIL_KEYS.outOfHours];
  return {
    ...(typeof channel === 'string' ? { channel } : {}),
    ...(typeof card === 'number' && Number.isFinite(card) && card >= 0 ? { timeOnCardMs: card } : {}),
    ...(typeof ooh === 'boolean' ? { outOfHours: ooh } : {}),
  };
}
