/**
 * Slack's interactivity requests (button clicks and modal submissions), verified and turned into the same
 * decisions the review page makes (decideAsMember: first decision wins, quorums, separation of duties).
 * Every request must carry Slack's v0 signature over `v0:<timestamp>:<body>` with the app's signing secret,
 * at most five minutes old; anything else is 401 and decides nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { dutyConflict } from '../policies/duties.ts';
import { buildCard } from '../render/card.ts';
import { COMMENT_BLOCK, DENY_PRESET_BLOCK, DENY_TEXT_BLOCK, denyModal, modifyModal, SLACK_ACTION, type SlackRef } from '../render/slack-blocks.ts';
import type { ReviewerGroup } from '../schemas/config.ts';
import { memberId, memberSlack, type Member } from '../schemas/member.ts';
import type { StoredRequest } from '../store/model.ts';
import { visibleRow } from '../review/decisions.ts';
import type { ReviewDeps } from '../review/deps.ts';
import { isTierMember } from '../review/groups.ts';
import { decideAsMember, type MemberResult } from '../review/respond.ts';
import { DEFAULT_DENY_REASONS, SLACK_MAX_TEXT, type SlackDeps } from './slack-settings.ts';

/** Requests older (or further in the future) than this are refused: a captured request cannot be replayed later. */
export const SLACK_REPLAY_WINDOW_SECONDS = 5 * 60;

export type SignatureCheck = 'ok' | 'missing' | 'stale' | 'bad';

/** Slack's request signing (v0), compared in constant time. */
export function verifySlackSignature(signingSecret: string, timestamp: string | undefined, body: string, signature: string | undefined, nowMs: number): SignatureCheck {
  if (!timestamp || !signature) return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'bad';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > SLACK_REPLAY_WINDOW_SECONDS) return 'stale';
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'bad';
}

/** The signature a sender with the signing secret puts on a request (the local test client, tests). */
export function signSlackRequest(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

const Ref = z.object({ requestId: z.string().min(1).max(200), round: z.number().int().min(1), option: z.string().max(64).optional() });
const refOf = (text: string | undefined) => Ref.safeParse(safeJson(text));

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

const StateValue = z.object({ value: z.string().nullish(), selected_option: z.object({ value: z.string() }).nullish() });

const Payload = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('block_actions'),
    user: z.object({ id: z.string() }),
    trigger_id: z.string().optional(),
    channel: z.object({ id: z.string() }).optional(),
    actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
  }),
  z.object({
    type: z.literal('view_submission'),
    user: z.object({ id: z.string() }),
    view: z.object({
      callback_id: z.string(),
      private_metadata: z.string(),
      state: z.object({ values: z.record(z.string(), z.record(z.string(), StateValue)) }),
    }),
  }),
]);
type Payload = z.infer<typeof Payload>;

export interface SlackHttpRequest {
  /** The raw body as received: the signature covers it byte for byte. */
  body: string;
  timestamp?: string;
  signature?: string;
}

export interface SlackHttpResponse {
  status: number;
  /** JSON to answer with; none means an empty 200 (Slack closes a submitted modal). */
  json?: unknown;
}

type SlackReviewDeps = ReviewDeps & { slack: SlackDeps };

export async function handleSlackInteraction(reviewDeps: ReviewDeps, slack: SlackDeps, req: SlackHttpRequest): Promise<SlackHttpResponse> {
  const deps: SlackReviewDeps = { ...reviewDeps, slack };
  const { signingSecret } = await deps.slack.secret();
  const check = verifySlackSignature(signingSecret, req.timestamp, req.body, req.signature, deps.now().getTime());
  if (check !== 'ok') {
    deps.log.warn('Refused a Slack request', { check });
    return { status: 401, json: { error: check === 'stale' ? 'request timestamp outside the five-minute window' : 'signature does not verify' } };
  }
  const parsed = Payload.safeParse(safeJson(new URLSearchParams(req.body).get('payload') ?? undefined));
  if (!parsed.success) return { status: 400, json: { error: 'not a block_actions or view_submission payload' } };
  const payload = parsed.data;
  return payload.type === 'block_actions' ? blockAction(deps, payload) : viewSubmission(deps, payload);
}

/** The member of the group with this Slack user id, and their tier; undefined for anyone else. */
function memberBySlackId(group: ReviewerGroup, slackUserId: string): { member: Member; id: string; tier: number } | undefined {
  for (const [index, tier] of group.tiers.entries()) {
    const member = tier.members.find((m) => memberSlack(m) === slackUserId);
    if (member !== undefined) return { member, id: memberId(member), tier: index + 1 };
  }
  return undefined;
}

interface Actor {
  row: StoredRequest;
  /** The member's identity (email, else `slack:<id>`). */
  id: string;
}

/** The request and who the Slack user is in its group, or why they cannot act on it. */
async function actorOf(deps: SlackReviewDeps, ref: SlackRef, slackUser: string): Promise<Actor | { refused: string }> {
  const row = await deps.requests.get(ref.requestId);
  const group = row ? deps.config.reviewerGroups[row.reviewerGroup] : undefined;
  if (!row || !group) return { refused: 'This review request no longer exists.' };
  const member = memberBySlackId(group, slackUser);
  if (!member) return { refused: `You are not a reviewer of the "${row.reviewerGroup}" group, so you cannot decide this request. Nothing was recorded.` };
  return { row, id: member.id };
}

async function ephemeral(deps: SlackReviewDeps, channel: string | undefined, user: string, text: string): Promise<void> {
  if (!channel) return;
  const web = await deps.slack.client();
  await web.chat.postEphemeral({ channel, user, text }).catch((err: unknown) => deps.log.warn('Could not send a Slack ephemeral message', { error: String(err) }));
}

const OK: SlackHttpResponse = { status: 200 };

async function blockAction(deps: SlackReviewDeps, payload: Extract<Payload, { type: 'block_actions' }>): Promise<SlackHttpResponse> {
  const action = payload.actions[0]!;
  const ref = refOf(action.value);
  if (!ref.success) return { status: 400, json: { error: 'the button carries no request' } };
  const user = payload.user.id;
  const channel = payload.channel?.id;
  const actor = await actorOf(deps, ref.data, user);
  if ('refused' in actor) {
    await ephemeral(deps, channel, user, actor.refused);
    return OK;
  }
  const fields = { round: String(ref.data.round) };
  switch (action.action_id) {
    case SLACK_ACTION.approve:
      return answer(deps, channel, user, await decideAsMember(deps, { requestId: ref.data.requestId, approver: actor.id, channel: 'slack', fields: { ...fields, choice: 'approve' } }));
    case SLACK_ACTION.escalate:
      return answer(deps, channel, user, await decideAsMember(deps, { requestId: ref.data.requestId, approver: actor.id, channel: 'slack', fields: { ...fields, choice: 'escalate' } }));
    case SLACK_ACTION.deny:
    case SLACK_ACTION.modify:
      return openModal(deps, actor, ref.data, action.action_id, payload.trigger_id, channel, user);
    default:
      if (action.action_id.startsWith(`${SLACK_ACTION.answer}.`) && ref.data.option) {
        return answer(deps, channel, user, await decideAsMember(deps, { requestId: ref.data.requestId, approver: actor.id, channel: 'slack', fields: { ...fields, choice: 'answer', option: ref.data.option } }));
      }
      return { status: 400, json: { error: `unknown action ${action.action_id}` } };
  }
}

/** Everyone sees a decision in the updated message; the clicker alone is told anything else. */
async function answer(deps: SlackReviewDeps, channel: string | undefined, user: string, result: MemberResult): Promise<SlackHttpResponse> {
  await ephemeral(deps, channel, user, result.message);
  return OK;
}

/** Why a member cannot act on the request right now, before a modal is opened for nothing. */
function notNow(row: StoredRequest, deps: SlackReviewDeps, id: string, round: number): string | undefined {
  const group = deps.config.reviewerGroups[row.reviewerGroup]!;
  if (row.status !== 'PENDING') return row.decision ? `Already decided by ${row.decision.decidedBy}; nothing was recorded.` : 'This request is closed.';
  if (row.round !== round) return 'This request has moved on (it was escalated or re-sent). Nothing was changed.';
  if (!isTierMember(group, row.tier, id)) return `This request is with tier ${row.tier} of "${row.reviewerGroup}"; only its members can decide it now.`;
  return dutyConflict(row, id)?.message;
}

async function openModal(deps: SlackReviewDeps, actor: Actor, ref: SlackRef, actionId: string, triggerId: string | undefined, channel: string | undefined, user: string): Promise<SlackHttpResponse> {
  const why = notNow(actor.row, deps, actor.id, ref.round);
  if (why) {
    await ephemeral(deps, channel, user, why);
    return OK;
  }
  if (!triggerId) return { status: 400, json: { error: 'a modal needs the trigger_id of the click' } };
  const row = actor.row;
  const card = buildCard({ request: visibleRow(row), group: deps.config.reviewerGroups[row.reviewerGroup]!, now: deps.now() }, { maxText: SLACK_MAX_TEXT });
  const request = row.request;
  const view =
    actionId === SLACK_ACTION.deny
      ? denyModal(card, ref, deps.slack.settings.denyReasons ?? DEFAULT_DENY_REASONS)
      : request.kind === 'approval'
        ? modifyModal(card, ref, request.action.args)
        : undefined;
  if (!view) return { status: 400, json: { error: `${request.kind} requests are modified through the emailed link` } };
  const web = await deps.slack.client();
  await web.views.open({ trigger_id: triggerId, view });
  return OK;
}

type Values = Record<string, Record<string, z.infer<typeof StateValue>>>;

function valueOf(values: Values, block: string): string {
  const input = values[block]?.value;
  return (input?.selected_option?.value ?? input?.value ?? '').trim();
}

/** The review page's form fields from a modal's inputs. */
function fieldsOf(callbackId: string, values: Values, round: number): Record<string, string> | undefined {
  const comment = valueOf(values, COMMENT_BLOCK);
  const base = { round: String(round), ...(comment ? { comment } : {}) };
  if (callbackId === SLACK_ACTION.deny) {
    const preset = valueOf(values, DENY_PRESET_BLOCK);
    const text = valueOf(values, DENY_TEXT_BLOCK);
    return { ...base, choice: 'deny', reason: preset && text ? `${preset}: ${text}` : preset || text };
  }
  if (callbackId === SLACK_ACTION.modify) {
    const args = Object.keys(values).filter((b) => b.startsWith('arg.'));
    return { ...base, choice: 'modify', ...Object.fromEntries(args.map((b) => [b, values[b]?.value?.value ?? ''])) };
  }
  return undefined;
}

/** The modal input a field's issue belongs on: `reason` → the reason box, `args.amount_usd` → `arg.amount_usd`. */
function blockOf(path: string, values: Values, callbackId: string): string {
  if (path === 'reason') return DENY_TEXT_BLOCK;
  if (path.startsWith('args.') && `arg.${path.slice(5)}` in values) return `arg.${path.slice(5)}`;
  if (path === 'comment') return COMMENT_BLOCK;
  return callbackId === SLACK_ACTION.deny ? DENY_TEXT_BLOCK : (Object.keys(values).find((b) => b.startsWith('arg.')) ?? COMMENT_BLOCK);
}

async function viewSubmission(deps: SlackReviewDeps, payload: Extract<Payload, { type: 'view_submission' }>): Promise<SlackHttpResponse> {
  const { view } = payload;
  const ref = refOf(view.private_metadata);
  const fields = ref.success ? fieldsOf(view.callback_id, view.state.values, ref.data.round) : undefined;
  if (!ref.success || !fields) return { status: 400, json: { error: 'not a hitl modal' } };
  const errorsOn = (block: string, message: string): SlackHttpResponse => ({ status: 200, json: { response_action: 'errors', errors: { [block]: message.slice(0, 1900) } } });
  const firstBlock = blockOf('', view.state.values, view.callback_id);
  const actor = await actorOf(deps, ref.data, payload.user.id);
  if ('refused' in actor) return errorsOn(firstBlock, actor.refused);
  const result = await decideAsMember(deps, { requestId: ref.data.requestId, approver: actor.id, channel: 'slack', fields });
  switch (result.result) {
    case 'invalid': {
      const errors: Record<string, string> = {};
      for (const issue of result.issues) {
        const block = blockOf(issue.path, view.state.values, view.callback_id);
        errors[block] = errors[block] ? `${errors[block]}; ${issue.message}` : issue.message;
      }
      return { status: 200, json: { response_action: 'errors', errors } };
    }
    case 'refused':
      return errorsOn(firstBlock, result.message);
    case 'done':
      if (result.row.status === 'PENDING') await ephemeral(deps, actor.row.slackMessage?.channel, payload.user.id, result.message);
      return OK;
  }
}
