/**
 * What a reviewer's form means for a request: which choices its kind offers, and the Decision each one
 * makes. Pure; every problem is an InvalidRequestError naming the form field (e.g. `args.amount_usd`).
 */
import { MAX_REQUEST_BYTES } from '../schemas/config.ts';
import { InvalidRequestError } from '../errors.ts';
import type { Decision } from '../schemas/decision.ts';
import type { JsonValue } from '../schemas/json.ts';
import type { Choice, ResponseForm } from '../schemas/response-form.ts';
import { Draft, type Kind } from '../schemas/review-request.ts';
import type { IssueSummary } from '../schemas/issues.ts';
import type { StoredRequest } from '../store/model.ts';
import { buildDecision } from './decisions.ts';
import type { FinalEvent } from './finalize.ts';

export const CHOICES: Record<Kind, readonly Choice[]> = {
  approval: ['approve', 'deny', 'modify', 'escalate'],
  disambiguation: ['answer', 'deny'],
  verification: ['approve', 'deny', 'modify'],
  escalation: ['resolve', 'deny'],
  correction: ['correct', 'deny'],
};

/**
 * The choices a request offers. Under a quorum every approval is of the request as proposed, so "modify"
 * is not offered: approvers could otherwise each approve something else.
 */
export function choicesFor(row: Pick<StoredRequest, 'kind' | 'policy'>): readonly Choice[] {
  const all = CHOICES[row.kind];
  return row.policy?.quorum ? all.filter((c) => c !== 'modify') : all;
}

export type FormAction =
  | { action: 'escalate'; reason?: string; comment?: string }
  | { action: 'decide'; decision: Decision; event: FinalEvent };

function invalid(issues: IssueSummary[]): InvalidRequestError {
  return new InvalidRequestError(`Invalid response: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
}

export function jsonType(value: JsonValue): 'string' | 'number' | 'boolean' | 'null' | 'array' | 'object' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as 'string' | 'number' | 'boolean' | 'object';
}

function parseArg(proposed: JsonValue, text: string): { ok: true; value: JsonValue } | { ok: false; message: string } {
  const type = jsonType(proposed);
  const trimmed = text.trim();
  switch (type) {
    case 'string':
      return { ok: true, value: text };
    case 'number': {
      const n = Number(trimmed);
      return trimmed !== '' && Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `expected a number, got "${text}"` };
    }
    case 'boolean':
      if (trimmed === 'true' || trimmed === 'false') return { ok: true, value: trimmed === 'true' };
      return { ok: false, message: `expected true or false, got "${text}"` };
    case 'null':
      if (trimmed === '' || trimmed === 'null') return { ok: true, value: null };
      try {
        return { ok: true, value: JSON.parse(trimmed) as JsonValue };
      } catch {
        return { ok: true, value: text };
      }
    case 'array':
    case 'object': {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        return { ok: false, message: `expected JSON (${type === 'array' ? 'an array' : 'an object'})` };
      }
      const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      return got === type ? { ok: true, value: value as JsonValue } : { ok: false, message: `expected a JSON ${type}, got ${got}` };
    }
  }
}

/**
 * Edited arguments of an approval: the same keys as proposed, each parsed to its proposed JSON type
 * (numbers, booleans, strings; objects and arrays as JSON).
 */
export function parseEditedArgs(actionName: string, proposed: Record<string, JsonValue>, edited: Record<string, string> | undefined): Record<string, JsonValue> {
  const keys = Object.keys(proposed);
  if (keys.length === 0) throw invalid([{ path: 'args', message: `${actionName} takes no arguments to modify; approve or deny it` }]);
  if (!edited) throw invalid([{ path: 'args', message: 'send the edited arguments' }]);
  const issues: IssueSummary[] = [];
  const result: Record<string, JsonValue> = {};
  for (const key of keys) {
    const text = edited[key];
    if (text === undefined) {
      issues.push({ path: `args.${key}`, message: 'missing; send every argument, changed or not' });
      continue;
    }
    const parsed = parseArg(proposed[key] as JsonValue, text);
    if (parsed.ok) result[key] = parsed.value;
    else issues.push({ path: `args.${key}`, message: parsed.message });
  }
  for (const key of Object.keys(edited)) {
    if (!Object.hasOwn(proposed, key)) issues.push({ path: `args.${key}`, message: `not an argument of ${actionName}` });
  }
  if (issues.length > 0) throw invalid(issues);
  // The row keeps proposed and approved arguments side by side; both must fit DynamoDB's item limit.
  const bytes = Buffer.byteLength(JSON.stringify(result));
  if (bytes > MAX_REQUEST_BYTES) throw invalid([{ path: 'args', message: `the edited arguments are ${bytes} bytes as JSON; at most ${MAX_REQUEST_BYTES} are kept` }]);
  return result;
}

/** Turn a parsed form into what should happen to `row`, decided by `approver` at `now`. */
export function interpretForm(row: StoredRequest, form: ResponseForm, approver: string, now: Date): FormAction {
  const request = row.request;
  const choices = choicesFor(row);
  if (!choices.includes(form.choice)) {
    const quorum = row.policy?.quorum && CHOICES[request.kind].includes(form.choice) ? ` that need ${row.policy.quorum.approvals} approvals of the request as proposed` : '';
    throw invalid([{ path: 'choice', message: `"${form.choice}" is not a choice for ${request.kind} requests${quorum}; use one of ${choices.join(', ')}` }]);
  }
  const comment = form.comment;
  const proposed = request.kind === 'approval' ? { proposedArgs: request.action.args } : {};
  const decide = (fields: Omit<Decision, 'requestId' | 'kind' | 'tier' | 'requestedAt' | 'decidedAt' | 'latencyMs' | 'decidedBy'>, event: FinalEvent = 'decided'): FormAction => ({
    action: 'decide',
    event,
    decision: buildDecision(row, now, { decidedBy: approver, ...proposed, ...fields, ...(comment ? { comment } : {}) }),
  });

  switch (form.choice) {
    case 'approve':
      return decide({ outcome: 'approved', ...(request.kind === 'approval' ? { approvedArgs: request.action.args } : {}) });
    case 'deny':
      return decide({ outcome: 'denied', reason: form.reason });
    case 'escalate':
      return { action: 'escalate', ...(form.reason ? { reason: form.reason } : {}), ...(comment ? { comment } : {}) };
    case 'modify': {
      if (request.kind === 'approval') {
        return decide({ outcome: 'modified', approvedArgs: parseEditedArgs(request.action.name, request.action.args, form.args) });
      }
      if (request.kind !== 'verification') break;
      if (form.draftBody === undefined) throw invalid([{ path: 'draftBody', message: 'give the edited text' }]);
      const draft = Draft.safeParse({ ...request.draft, title: form.draftTitle ?? request.draft.title, body: form.draftBody });
      if (!draft.success) throw invalid(draft.error.issues.map((i) => ({ path: i.path[0] === 'body' ? 'draftBody' : 'draftTitle', message: i.message })));
      return decide({ outcome: 'modified', editedDraft: draft.data });
    }
    case 'answer': {
      if (request.kind !== 'disambiguation') break;
      const option = request.options.find((o) => o.id === form.option);
      if (!option) throw invalid([{ path: 'option', message: `"${form.option}" is not one of the options (${request.options.map((o) => o.id).join(', ')})` }]);
      return decide({ outcome: 'answered', chosenOption: option });
    }
    case 'resolve':
      return decide({ outcome: 'resolved', result: form.result });
    case 'correct':
      return decide({ outcome: 'corrected', correctedOutput: form.correctedOutput, correctionCategory: form.category }, 'corrected');
  }
  throw invalid([{ path: 'choice', message: `"${form.choice}" is not a choice for ${request.kind} requests` }]);
}
