/**
 * In-app answers: the respondent a request names answers it in the host app, through the in-app API, as
 * the user the app's JWT says they are (`sub`). Listing, the card as JSON and HTML, and the answer, which
 * goes through the same checks and the same finalizeDecision as a reviewer's POST: one decision, recorded
 * once, first writer wins. Results are HTTP status and JSON body; the app-api function only wraps them.
 */
import { InvalidRequestError } from '../errors.ts';
import { buildCard, describeStatus, type Card, type StatusSummary } from '../render/index.ts';
import { cardSection } from '../render/layout.ts';
import type { Decision } from '../schemas/decision.ts';
import { InAppResponse } from '../schemas/in-app-response.ts';
import type { IssueSummary } from '../schemas/issues.ts';
import { parseWith } from '../schemas/parse.ts';
import type { ResponseForm } from '../schemas/response-form.ts';
import type { JsonValue } from '../schemas/json.ts';
import type { StoredRequest } from '../store/model.ts';
import { choicesFor, interpretForm, jsonType } from './choices.ts';
import { visibleRow } from './decisions.ts';
import type { ReviewDeps, StoreDeps } from './deps.ts';
import { finalizeDecision, resumeIfNeeded } from './finalize.ts';
import { groupOf, IN_APP_GROUP } from './groups.ts';
import { timeBoxOver } from './respond.ts';

export interface ApiResult {
  status: number;
  body: unknown;
}

const error = (status: number, code: string, message: string, issues?: readonly IssueSummary[]): ApiResult => ({
  status,
  body: { error: { code, message, ...(issues ? { issues } : {}) } },
});

/** Who may answer a row in the app: its respondent, while it is routed to them (not to a group by policy). */
function respondentOf(row: StoredRequest): string | undefined {
  return row.reviewerGroup === IN_APP_GROUP ? row.request.respondent?.id : undefined;
}

type Loaded = { row: StoredRequest } | { result: ApiResult };

/** The row, if it exists and is this user's to see; a request for another user is refused, never shown. */
async function load(deps: StoreDeps, requestId: string, sub: string): Promise<Loaded> {
  const row = await deps.requests.get(requestId);
  if (!row) return { result: error(404, 'not-found', `There is no request ${requestId}.`) };
  if (respondentOf(row) !== sub) return { result: error(403, 'not-respondent', 'This request is not yours to answer.') };
  return { row };
}

export interface RequestView {
  requestId: string;
  status: StoredRequest['status'];
  round: number;
  kind: StoredRequest['kind'];
  agent: string;
  createdAt: string;
  expiresAt: string;
  /** What the respondent may answer with while it is pending. */
  choices: string[];
  card: Card;
  /** The card as an HTML fragment (an `<article>`), text made inert and escaped: safe to insert as is. */
  html: string;
  /** Once it has ended: who decided what. */
  summary?: StatusSummary;
  decision?: Decision;
}

function view(deps: StoreDeps, row: StoredRequest): RequestView {
  const now = deps.now();
  const visible = visibleRow(row);
  const input = { request: visible, group: groupOf(deps.config, row), now };
  const live = row.status === 'PENDING';
  const card = buildCard(input, { live });
  const choices = live && !timeBoxOver(row, now) ? choicesFor(row).filter((c) => c !== 'escalate') : [];
  return {
    requestId: row.requestId,
    status: row.status,
    round: row.round,
    kind: row.kind,
    agent: row.agent,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    choices: [...choices],
    card,
    html: cardSection(card, `hitl-${row.requestId}`, true).toString(),
    ...(live ? {} : { summary: describeStatus(input), ...(row.decision ? { decision: row.decision } : {}) }),
  };
}

/** `GET /v1/respondents/{id}/pending`: only the caller's own list. */
export async function listPending(deps: StoreDeps, respondentId: string, sub: string): Promise<ApiResult> {
  if (respondentId !== sub) return error(403, 'not-respondent', 'You can list only your own pending requests.');
  const rows = await deps.requests.pendingByRespondent(sub);
  // The index is eventually consistent; the rows themselves say who they are for.
  const mine = rows.filter((row) => respondentOf(row) === sub && row.status === 'PENDING');
  return { status: 200, body: { respondent: sub, requests: mine.map((row) => view(deps, row)) } };
}

/** `GET /v1/requests/{id}`: the card as JSON and HTML. Reads only. */
export async function viewRequest(deps: StoreDeps, requestId: string, sub: string): Promise<ApiResult> {
  const loaded = await load(deps, requestId, sub);
  if ('result' in loaded) return loaded.result;
  return { status: 200, body: view(deps, loaded.row) };
}

/** Edited arguments as the review form carries them (text), after checking each keeps its proposed JSON type. */
function formArgs(row: StoredRequest, args: Record<string, JsonValue> | undefined): Record<string, string> | undefined {
  if (!args) return undefined;
  const proposed = row.request.kind === 'approval' ? row.request.action.args : {};
  const issues: IssueSummary[] = [];
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(args)) {
    const was = proposed[key];
    if (was !== undefined && was !== null && jsonType(was) !== jsonType(value)) issues.push({ path: `args.${key}`, message: `expected a JSON ${jsonType(was)}, got ${jsonType(value)}` });
    out[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (issues.length) throw new InvalidRequestError(`Invalid response: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  return out;
}

function toForm(row: StoredRequest, answer: InAppResponse): ResponseForm {
  const round = answer.round ?? row.round;
  if (answer.choice === 'modify') {
    const { args, ...rest } = answer;
    const edited = formArgs(row, args);
    return { ...rest, round, opened: undefined, ...(edited ? { args: edited } : {}) };
  }
  return { ...answer, round, opened: undefined };
}

/** What an ended request tells a late answer; a resume a crash left undone is retried, nothing decided again. */
async function alreadyEnded(deps: ReviewDeps, row: StoredRequest): Promise<ApiResult> {
  await resumeIfNeeded(deps, row);
  const by = row.status === 'CANCELLED' ? 'it was cancelled' : `already decided by ${row.decision?.decidedBy ?? 'someone else'}`;
  return { status: 409, body: { error: { code: 'not-pending', message: `Nothing was recorded: ${by}.` }, request: view(deps, row) } };
}

/** `POST /v1/requests/{id}/response`: the respondent's answer, decided exactly once. */
export async function answerRequest(deps: ReviewDeps, requestId: string, sub: string, body: unknown): Promise<ApiResult> {
  const loaded = await load(deps, requestId, sub);
  if ('result' in loaded) return loaded.result;
  const { row } = loaded;
  let answer: InAppResponse;
  try {
    answer = parseWith(InAppResponse, body, 'response');
  } catch (err) {
    if (err instanceof InvalidRequestError) return error(400, 'invalid-response', `Nothing was recorded. ${err.message}`, err.issues);
    throw err;
  }
  if (row.status !== 'PENDING') return alreadyEnded(deps, row);
  if (timeBoxOver(row, deps.now())) return error(410, 'time-box-over', "Nothing was recorded: the time to answer has run out and the request's fallback applies.");
  if (answer.round !== undefined && answer.round !== row.round) return error(409, 'moved-on', `Nothing was recorded: the request is in round ${row.round}, not ${answer.round}.`);

  let decision: Decision;
  let event;
  try {
    const action = interpretForm(row, toForm(row, answer), sub, deps.now());
    // The schema has no escalate; interpretForm only returns decide for the rest.
    if (action.action !== 'decide') return error(400, 'invalid-response', 'An in-app request has nobody to escalate to.');
    decision = { ...action.decision, channel: 'in-app' };
    event = action.event;
  } catch (err) {
    if (err instanceof InvalidRequestError) return error(400, 'invalid-response', `Nothing was recorded. ${err.message}`, err.issues);
    throw err;
  }

  const result = await finalizeDecision(deps, row, { expectedRound: row.round, status: 'DECIDED', decision, event, actor: sub, extras: { channel: 'in-app' } });
  if (!result.won) return result.current.status === 'PENDING' ? error(409, 'moved-on', 'Nothing was recorded: the request moved on meanwhile.') : alreadyEnded(deps, result.current);
  if (result.resume === 'failed') {
    return { status: 503, body: { error: { code: 'resume-pending', message: 'Your answer is recorded, but the agent could not be told yet; send it again in a minute (it is not recorded twice).' }, decision } };
  }
  return { status: 200, body: { decision, agentTold: result.resume === 'resumed' } };
}
