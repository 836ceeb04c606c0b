/**
 * The reviewer's side of a request: GET renders the card (never changing anything: mail scanners
 * prefetch links), POST decides. Returns pages; the respond function only adds the HTTP wrapping.
 */
import { InvalidRequestError, LinkError } from '../errors.ts';
import { renderErrorPage, renderReviewPage, renderStatusPage } from '../render/index.ts';
import type { ReviewerGroup } from '../schemas/config.ts';
import type { Decision, Outcome } from '../schemas/decision.ts';
import { parseResponseForm, type ResponseForm } from '../schemas/response-form.ts';
import { verifyLink, type VerifiedLink } from '../signing.ts';
import type { StoredRequest } from '../store/model.ts';
import { dutyConflict } from '../policies/duties.ts';
import { describeTally } from '../policies/quorum.ts';
import { choicesFor, interpretForm, type FormAction } from './choices.ts';
import { visibleRow } from './decisions.ts';
import type { ReviewDeps } from './deps.ts';
import { escalateToNextTier } from './escalate.ts';
import { timeOnCardMs } from './decision-record.ts';
import { finalizeDecision, resumeIfNeeded, type ResumeOutcome } from './finalize.ts';
import { isTierMember, tierOf, tierOfApprover } from './groups.ts';
import { castVote, myVote, roundTally } from './votes.ts';

export interface Page {
  status: number;
  html: string;
}

/** The link's query string as received: `a`, `e`, `k`, `s`, and the unsigned `choice` an email button arms. */
export type LinkQuery = Record<string, string | undefined>;

export interface Submission {
  requestId: string;
  query: LinkQuery;
  /** Decoded application/x-www-form-urlencoded fields. */
  fields: Record<string, string>;
  /** Request headers, lower-case names. */
  secFetchSite?: string;
  origin?: string;
  /** Where the reviewer decided: the email's link (default) or the web inbox. */
  channel?: 'email' | 'inbox';
}

const DONE: Record<Outcome, string> = {
  approved: 'Approved — the agent has been told.',
  denied: 'Denied — the agent has been told, with your reason.',
  modified: 'Approved with your changes — the agent has been told.',
  answered: 'Answered — the agent has been told.',
  resolved: 'Marked as resolved — the agent has been told.',
  corrected: 'Correction recorded — the agent has been told.',
  expired: 'Expired — the agent has been told.',
  cancelled: 'Cancelled — nothing was decided.',
};

const errorPage = (status: number, title: string, message: string): Page => ({ status, html: renderErrorPage(status, title, message) });

/**
 * Cross-site form posts are refused: the browser must say the POST came from this origin (Sec-Fetch-Site),
 * or, for browsers that do not send Fetch Metadata, send an Origin equal to ours.
 */
export function isSameOrigin(baseUrl: string, secFetchSite: string | undefined, origin: string | undefined): boolean {
  const site = secFetchSite?.trim().toLowerCase();
  if (site === 'same-origin') return true;
  if (site !== undefined && site !== '' && site !== 'none') return false;
  return origin !== undefined && origin === new URL(baseUrl).origin;
}

async function verify(deps: ReviewDeps, requestId: string, query: LinkQuery): Promise<VerifiedLink> {
  const nowMs = deps.now().getTime();
  try {
    return verifyLink(requestId, query, await deps.keyRing(), nowMs);
  } catch (err) {
    // A key added by a rotation may not be in this instance's cached ring yet.
    if (err instanceof LinkError && err.reason === 'unknown-key') return verifyLink(requestId, query, await deps.keyRing({ refresh: true }), nowMs);
    throw err;
  }
}

function formAction(deps: ReviewDeps, requestId: string, query: LinkQuery): string {
  const params = new URLSearchParams();
  for (const name of ['a', 'e', 'k', 's']) params.set(name, query[name] ?? '');
  return `${deps.baseUrl}/r/${encodeURIComponent(requestId)}?${params.toString()}`;
}

interface Context {
  row: StoredRequest;
  group: ReviewerGroup;
  link: VerifiedLink;
}

/** Verify the link and load the request; a Page when that already settles the response. */
async function load(deps: ReviewDeps, requestId: string, query: LinkQuery): Promise<Context | Page> {
  let link: VerifiedLink;
  try {
    link = await verify(deps, requestId, query);
  } catch (err) {
    if (err instanceof LinkError) return errorPage(403, 'This link is not valid', `${err.message}. Open the link from your review email again.`);
    throw err;
  }
  const row = await deps.requests.get(requestId);
  if (!row) return errorPage(404, 'Request not found', 'There is no review request with this id. It may have been purged after its retention period.');
  const group = deps.config.reviewerGroups[row.reviewerGroup];
  if (!group) return errorPage(410, 'Reviewer group removed', `The reviewer group "${row.reviewerGroup}" is no longer configured.`);
  if (tierOfApprover(group, link.approver) === undefined) {
    return errorPage(403, 'Not a reviewer', `${link.approver} is not a reviewer of the "${row.reviewerGroup}" group.`);
  }
  return { row, group, link };
}

function statusPage(deps: ReviewDeps, ctx: Context, status: number, notice?: string): Page {
  const html = renderStatusPage({ request: visibleRow(ctx.row), group: ctx.group, now: deps.now(), approver: ctx.link.approver, ...(notice ? { notice } : {}) });
  return { status, html };
}

/** Why a pending request is not this approver's to decide right now. */
function notYoursNotice(ctx: Context): string {
  const current = tierOf(ctx.group, ctx.row.tier)?.name ?? `tier ${ctx.row.tier}`;
  const yours = tierOfApprover(ctx.group, ctx.link.approver) ?? 0;
  return yours < ctx.row.tier
    ? `Escalated to ${current}; only they can decide it now.`
    : `This request is with ${current}. You will be emailed if it is escalated to you.`;
}

function decidedNotice(row: StoredRequest): string | undefined {
  const d = row.decision;
  if (!d) return undefined;
  if (row.status === 'CANCELLED') return 'The request was cancelled before anyone decided; your response was not recorded.';
  return `Already decided by ${d.decidedBy}; your response was not recorded.`;
}

/** The round's time box has run out and its expiry has not been applied yet: too late to decide. */
export function timeBoxOver(row: StoredRequest, now: Date): boolean {
  return row.status === 'PENDING' && !row.heldUntil && Date.parse(row.expiresAt) <= now.getTime();
}

const TIME_BOX_OVER = 'The time to decide has run out; the request\'s fallback policy applies. Nothing was changed.';

function canDecide(ctx: Context, now: Date): boolean {
  return ctx.row.status === 'PENDING' && !timeBoxOver(ctx.row, now) && isTierMember(ctx.group, ctx.row.tier, ctx.link.approver) && !myVote(ctx.row, ctx.link.approver);
}

/** Separation of duties, as a page: the person the agent acts for, or whoever escalated, may not decide. */
function dutyPage(deps: ReviewDeps, ctx: Context): Page | undefined {
  const conflict = dutyConflict(ctx.row, ctx.link.approver);
  return conflict && ctx.row.status === 'PENDING' ? statusPage(deps, ctx, 403, conflict.message) : undefined;
}

function votedNotice(deps: ReviewDeps, ctx: Context): string | undefined {
  const mine = myVote(ctx.row, ctx.link.approver);
  const t = roundTally(deps, ctx.row);
  if (!mine || !t) return undefined;
  return `You ${mine.vote === 'approve' ? 'approved' : 'denied'} this request; ${describeTally(t)}. Your vote counts once.`;
}

/** The deployment's preset deny reasons for a request: by action name, then kind, then `default`. */
export function denyReasonsFor(config: ReviewDeps['config'], row: StoredRequest): readonly string[] {
  const presets = config.denyReasons;
  if (!presets) return [];
  const action = row.request.kind === 'approval' ? row.request.action.name : undefined;
  return (action !== undefined && Object.hasOwn(presets, action) ? presets[action] : undefined) ?? (Object.hasOwn(presets, row.kind) ? presets[row.kind] : undefined) ?? presets.default ?? [];
}

interface PageState {
  status?: number;
  notice?: string;
  armed?: string;
  retry?: { choice: string; fields: Record<string, string> };
}

function reviewPage(deps: ReviewDeps, ctx: Context, requestId: string, query: LinkQuery, state: PageState = {}): Page {
  const { status = 200, notice } = state;
  const choices = choicesFor(ctx.row);
  const canEscalate = choices.includes('escalate') && tierOf(ctx.group, ctx.row.tier + 1) !== undefined;
  // An armed choice the request does not offer opens nothing.
  const armed = choices.find((c) => c === state.armed && (c !== 'escalate' || canEscalate));
  const html = renderReviewPage({
    ...(armed ? { armed } : {}),
    ...(state.retry ? { retry: state.retry } : {}),
    denyReasons: denyReasonsFor(deps.config, ctx.row),
    request: visibleRow(ctx.row),
    group: ctx.group,
    now: deps.now(),
    approver: ctx.link.approver,
    formAction: formAction(deps, requestId, query),
    canEscalate,
    ...(notice ? { notice } : {}),
  });
  return { status, html };
}

/** GET and HEAD: the review page for someone who may decide now, otherwise what happened. Reads only. */
export async function viewReview(deps: ReviewDeps, requestId: string, query: LinkQuery): Promise<Page> {
  const ctx = await load(deps, requestId, query);
  if ('status' in ctx) return ctx;
  if (ctx.link.expired) return statusPage(deps, ctx, 200, 'This link has expired; it can no longer be used to decide.');
  const duty = dutyPage(deps, ctx);
  if (duty) return duty;
  if (canDecide(ctx, deps.now())) return reviewPage(deps, ctx, requestId, query, { armed: query.choice });
  const voted = ctx.row.status === 'PENDING' ? votedNotice(deps, ctx) : undefined;
  if (voted) return statusPage(deps, ctx, 200, voted);
  if (timeBoxOver(ctx.row, deps.now())) return statusPage(deps, ctx, 200, TIME_BOX_OVER);
  return statusPage(deps, ctx, 200, ctx.row.status === 'PENDING' ? notYoursNotice(ctx) : undefined);
}

/** POST: check origin, link, membership, form and round, then decide or escalate. */
export async function submitReview(deps: ReviewDeps, input: Submission): Promise<Page> {
  const { requestId, query } = input;
  if (!isSameOrigin(deps.baseUrl, input.secFetchSite, input.origin)) {
    return errorPage(403, 'Cross-site request refused', 'Decisions can only be sent from the review page itself. Open the link from your review email.');
  }
  const ctx = await load(deps, requestId, query);
  if ('status' in ctx) return ctx;
  if (ctx.link.expired) return statusPage(deps, ctx, 410, 'This link has expired; it can no longer be used to decide.');
  if (ctx.row.status !== 'PENDING') return replay(deps, ctx);
  if (timeBoxOver(ctx.row, deps.now())) return statusPage(deps, ctx, 410, TIME_BOX_OVER);
  if (!isTierMember(ctx.group, ctx.row.tier, ctx.link.approver)) return statusPage(deps, ctx, 403, notYoursNotice(ctx));
  const duty = dutyPage(deps, ctx);
  if (duty) return duty;

  let form: ResponseForm;
  let action: FormAction;
  try {
    form = parseResponseForm(input.fields);
    if (form.round !== ctx.row.round) {
      return statusPage(deps, ctx, 409, 'This request has moved on since the page was opened (it was escalated or re-sent). Nothing was changed.');
    }
    action = interpretForm(ctx.row, form, ctx.link.approver, deps.now());
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    const fix = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    // The section posted reopens with what was typed, so fixing the mistake is all that is left to do.
    return reviewPage(deps, ctx, requestId, query, { status: 400, notice: `Nothing was sent. Please fix: ${fix}`, retry: { choice: input.fields.choice ?? '', fields: input.fields } });
  }

  if (action.action === 'escalate') {
    const said = [action.reason, action.comment].filter(Boolean).join(' — ');
    const why = `escalated by ${ctx.link.approver}${said ? `: ${said}` : ''}`;
    const result = await escalateToNextTier(deps, requestId, { expectedRound: form.round, actor: ctx.link.approver, why, ...(action.reason ? { reason: action.reason } : {}) });
    if (result.escalated) return statusPage(deps, { ...ctx, row: result.row }, 200, `Escalated to ${result.tierName} — they have been emailed.`);
    if (result.reason === 'no-next-tier') return reviewPage(deps, ctx, requestId, query, { status: 400, notice: 'There is no higher tier to escalate to. Approve or deny it.' });
    return replay(deps, { ...ctx, row: result.current });
  }

  const channel = input.channel ?? 'email';
  const decision: Decision = { ...action.decision, channel };
  if (ctx.row.policy?.quorum) return vote(deps, ctx, form.round, decision);

  const result = await finalizeDecision(deps, ctx.row, {
    expectedRound: form.round,
    status: 'DECIDED',
    decision,
    event: action.event,
    actor: ctx.link.approver,
    extras: { channel, timeOnCardMs: timeOnCardMs((form as { opened?: string }).opened, ctx.row, decision.decidedAt) },
  });
  if (!result.won) return replay(deps, { ...ctx, row: result.current });
  return decidedPage(deps, { ...ctx, row: result.row }, result.resume, action.decision.outcome);
}

/** An approve or deny under a quorum: a vote, which decides the request only if it settles the quorum. */
async function vote(deps: ReviewDeps, ctx: Context, round: number, decision: Decision): Promise<Page> {
  const result = await castVote(deps, ctx.row, { approver: ctx.link.approver, expectedRound: round, decision });
  switch (result.result) {
    case 'moved-on':
      return replay(deps, { ...ctx, row: result.current });
    case 'already-voted':
      return statusPage(deps, { ...ctx, row: result.row }, 409, votedNotice(deps, { ...ctx, row: result.row }));
    case 'voted': {
      const cast = decision.outcome === 'denied' ? 'Your denial is recorded' : 'Your approval is recorded';
      const next = `the agent is told once ${result.tally.needed} have approved${ctx.row.policy?.quorum?.denyVetoes ? ' or anyone denies' : ''}`;
      return statusPage(deps, { ...ctx, row: result.row }, 200, `${cast}: ${describeTally(result.tally)}; ${next}.`);
    }
    case 'decided':
      return decidedPage(deps, { ...ctx, row: result.done.row }, result.done.resume, result.done.row.decision!.outcome);
  }
}

function decidedPage(deps: ReviewDeps, decided: Context, resume: ResumeOutcome, outcome: Outcome): Page {
  if (resume === 'failed') {
    return statusPage(deps, decided, 503, 'Your decision is recorded, but the agent could not be told yet. Send it again in a minute to retry; it will not be recorded twice.');
  }
  if (resume === 'execution-ended') {
    return statusPage(deps, decided, 200, 'Your decision is recorded, but the agent is no longer waiting for it (its execution had ended), so it was not told.');
  }
  return statusPage(deps, decided, 200, DONE[outcome]);
}

/** A POST for a request that is no longer open: say who decided what; retry a stuck resume, never decide again. */
async function replay(deps: ReviewDeps, ctx: Context): Promise<Page> {
  if (ctx.row.status === 'PENDING') {
    return statusPage(deps, ctx, 409, 'This request has moved on since the page was opened. Nothing was changed.');
  }
  const resume = await resumeIfNeeded(deps, ctx.row);
  if (resume === 'resumed' || resume === 'execution-ended') deps.log.info('Resumed a decided request on a repeated POST', { requestId: ctx.row.requestId });
  return statusPage(deps, ctx, 409, decidedNotice(ctx.row));
}

/** A decision made as a known member on another channel than the signed link (Slack): who they are is already proven. */
export interface MemberSubmission {
  requestId: string;
  /** The member's identity (see memberId). */
  approver: string;
  /** The same fields the review page posts: `choice`, `round`, `reason`, `arg.<name>`, … */
  fields: Record<string, string>;
  channel: NonNullable<Decision['channel']>;
}

export type MemberResult =
  /** Decided, voted or escalated: `message` says which. */
  | { result: 'done'; status: number; message: string; row: StoredRequest }
  /** Nothing changed, and why. */
  | { result: 'refused'; status: number; message: string }
  /** The fields do not make a valid choice; each issue names its field (`reason`, `args.amount_usd`). */
  | { result: 'invalid'; status: 400; message: string; issues: readonly { path: string; message: string }[] };

const refused = (status: number, message: string): MemberResult => ({ result: 'refused', status, message });

/**
 * What submitReview does after the link is verified, for a member identified by their channel: the same
 * checks (membership of the current tier, separation of duties, time box, round), then the same
 * escalateToNextTier, castVote or finalizeDecision, so first-decision-wins and quorums hold across channels.
 */
export async function decideAsMember(deps: ReviewDeps, input: MemberSubmission): Promise<MemberResult> {
  const row = await deps.requests.get(input.requestId);
  if (!row) return refused(404, 'There is no review request with this id.');
  const group = deps.config.reviewerGroups[row.reviewerGroup];
  if (!group) return refused(410, `The reviewer group "${row.reviewerGroup}" is no longer configured.`);
  const ctx: Context = { row, group, link: { approver: input.approver, expiresAt: 0, keyId: input.channel, expired: false } };
  if (tierOfApprover(group, input.approver) === undefined) return refused(403, `You are not a reviewer of the "${row.reviewerGroup}" group; nothing was recorded.`);
  if (row.status !== 'PENDING') {
    await resumeIfNeeded(deps, row);
    return refused(409, decidedNotice(row) ?? 'This request is closed; nothing was recorded.');
  }
  if (timeBoxOver(row, deps.now())) return refused(410, TIME_BOX_OVER);
  if (!isTierMember(group, row.tier, input.approver)) return refused(403, notYoursNotice(ctx));
  const conflict = dutyConflict(row, input.approver);
  if (conflict) return refused(403, conflict.message);

  let form: ResponseForm;
  let action: FormAction;
  try {
    form = parseResponseForm(input.fields);
    if (form.round !== row.round) return refused(409, 'This request has moved on (it was escalated or re-sent). Nothing was changed.');
    action = interpretForm(row, form, input.approver, deps.now());
  } catch (err) {
    if (!(err instanceof InvalidRequestError)) throw err;
    return { result: 'invalid', status: 400, message: `Nothing was sent. Please fix: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues: err.issues };
  }

  if (action.action === 'escalate') {
    const why = `escalated by ${input.approver}${action.comment ? `: ${action.comment}` : ''}`;
    const result = await escalateToNextTier(deps, row.requestId, { expectedRound: form.round, actor: input.approver, why });
    if (result.escalated) return { result: 'done', status: 200, message: `Escalated to ${result.tierName}; they have been notified.`, row: result.row };
    if (result.reason === 'no-next-tier') return refused(400, 'There is no higher tier to escalate to. Approve or deny it.');
    return refused(409, decidedNotice(result.current) ?? 'This request has moved on. Nothing was changed.');
  }

  const decision: Decision = { ...action.decision, channel: input.channel };
  if (row.policy?.quorum) {
    const result = await castVote(deps, row, { approver: input.approver, expectedRound: form.round, decision });
    switch (result.result) {
      case 'moved-on':
        return refused(409, decidedNotice(result.current) ?? 'This request has moved on. Nothing was changed.');
      case 'already-voted':
        return refused(409, votedNotice(deps, { ...ctx, row: result.row }) ?? 'Your vote is already recorded.');
      case 'voted':
        return { result: 'done', status: 200, message: `Your ${decision.outcome === 'denied' ? 'denial' : 'approval'} is recorded: ${describeTally(result.tally)}.`, row: result.row };
      case 'decided':
        return { result: 'done', status: 200, message: DONE[result.done.row.decision!.outcome], row: result.done.row };
    }
  }

  const result = await finalizeDecision(deps, row, { expectedRound: form.round, status: 'DECIDED', decision, event: action.event, actor: input.approver, extras: { channel: input.channel } });
  if (!result.won) return refused(409, decidedNotice(result.current) ?? 'This request has moved on. Nothing was changed.');
  if (result.resume === 'failed') return { result: 'done', status: 503, message: 'Your decision is recorded, but the agent could not be told yet; it will be retried.', row: result.row };
  return { result: 'done', status: 200, message: DONE[decision.outcome], row: result.row };
}
