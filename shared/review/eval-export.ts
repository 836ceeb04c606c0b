/**
 * Eval cases from the decision log: the requests where a person disagreed with the agent (denied it,
 * changed its arguments or draft, picked another option than its first, corrected its output) are
 * evidence of the agent's failures. One JSON object per case, written as JSON Lines. Reviewer addresses
 * are left out; `requestId` leads back to the log.
 */
import type { JsonValue } from '../schemas/json.ts';
import type { ChoiceOption, Draft, ReviewRequest } from '../schemas/review-request.ts';
import { isPersonDecision, proposalOf, type Proposal } from './decision-record.ts';
import type { DecisionRecord } from './report.ts';

export type { Proposal } from './decision-record.ts';

export type Disagreement = 'denied' | 'modified' | 'other-option' | 'corrected';

export interface EvalCase {
  requestId: string;
  agent: string;
  actionType: string;
  kind: ReviewRequest['kind'];
  /** Null when the person agreed with the agent (only with `all`). */
  disagreement: Disagreement | null;
  /** The request as the agent sent it. */
  request: ReviewRequest;
  proposal: Proposal;
  human: {
    outcome: string;
    reason?: string;
    comment?: string;
    approvedArgs?: Record<string, JsonValue>;
    /** Approval arguments the person changed, each from the proposed value to the approved one. */
    changedArgs?: Record<string, { from: JsonValue | undefined; to: JsonValue }>;
    editedDraft?: Draft;
    chosenOption?: ChoiceOption;
    result?: string;
    correctedOutput?: string;
    correctionCategory?: string;
    tier: number;
  };
  requestedAt: string;
  decidedAt: string;
  latencyMs: number;
}

export interface EvalExport {
  cases: EvalCase[];
  /** People's decisions in the input. */
  humanDecisions: number;
  /** People's decisions left out because their request row is gone (retention), so the proposal is unknown. */
  missingRequests: number;
}

function changedArgs(proposed: Record<string, JsonValue>, approved: Record<string, JsonValue>): Record<string, { from: JsonValue | undefined; to: JsonValue }> {
  const changes: Record<string, { from: JsonValue | undefined; to: JsonValue }> = {};
  for (const [key, to] of Object.entries(approved)) {
    if (JSON.stringify(proposed[key]) !== JSON.stringify(to)) changes[key] = { from: proposed[key], to };
  }
  return changes;
}

/**
 * How a person's decision departs from the agent's proposal, or null when it does not. A "modified"
 * that changed nothing is agreement; denying a correction report confirms the agent's output.
 */
export function disagreementOf(record: Pick<DecisionRecord, 'decision'> & { request: ReviewRequest }): Disagreement | null {
  const { decision: d, request } = record;
  switch (d.outcome) {
    case 'denied':
      return request.kind === 'correction' ? null : 'denied';
    case 'corrected':
      return 'corrected';
    case 'modified':
      if (request.kind === 'approval') return Object.keys(changedArgs(request.action.args, d.approvedArgs ?? {})).length > 0 ? 'modified' : null;
      if (request.kind === 'verification') return JSON.stringify(d.editedDraft) !== JSON.stringify(request.draft) ? 'modified' : null;
      return 'modified';
    case 'answered':
      return request.kind === 'disambiguation' && d.chosenOption?.id !== request.options[0]?.id ? 'other-option' : null;
    default:
      return null;
  }
}

function evalCase(record: DecisionRecord & { request: ReviewRequest }, disagreement: Disagreement | null): EvalCase {
  const { decision: d, request } = record;
  const changes = request.kind === 'approval' && d.approvedArgs ? changedArgs(request.action.args, d.approvedArgs) : {};
  const human: EvalCase['human'] = {
    outcome: d.outcome,
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    ...(d.comment !== undefined ? { comment: d.comment } : {}),
    ...(d.outcome === 'modified' && d.approvedArgs ? { approvedArgs: d.approvedArgs } : {}),
    ...(Object.keys(changes).length > 0 ? { changedArgs: changes } : {}),
    ...(d.editedDraft ? { editedDraft: d.editedDraft } : {}),
    ...(d.chosenOption ? { chosenOption: d.chosenOption } : {}),
    ...(d.result !== undefined ? { result: d.result } : {}),
    ...(d.correctedOutput !== undefined ? { correctedOutput: d.correctedOutput } : {}),
    ...(d.correctionCategory !== undefined ? { correctionCategory: d.correctionCategory } : {}),
    tier: d.tier,
  };
  return {
    requestId: d.requestId,
    agent: record.agent,
    actionType: record.actionType,
    kind: request.kind,
    disagreement,
    request,
    proposal: proposalOf(request),
    human,
    requestedAt: d.requestedAt,
    decidedAt: d.decidedAt,
    latencyMs: d.latencyMs,
  };
}

/** Eval cases from people's decisions: the disagreements, or with `all` every one. Policy decisions never are. */
export function evalCases(records: readonly DecisionRecord[], options: { all?: boolean } = {}): EvalExport {
  const out: EvalExport = { cases: [], humanDecisions: 0, missingRequests: 0 };
  for (const record of records) {
    if (!isPersonDecision(record.decision)) continue;
    out.humanDecisions += 1;
    if (!record.request) {
      out.missingRequests += 1;
      continue;
    }
    const withRequest = { ...record, request: record.request };
    const disagreement = disagreementOf(withRequest);
    if (disagreement || options.all) out.cases.push(evalCase(withRequest, disagreement));
  }
  return out;
}

/** One JSON object per line, newline-terminated. */
export function toJsonLines(cases: readonly EvalCase[]): string {
  return cases.map((c) => `${JSON.stringify(c)}\n`).join('');
}
