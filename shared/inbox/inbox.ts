/**
 * What a signed-in reviewer sees and does in the web inbox: their pending requests across groups (those whose
 * current tier they are in), soonest deadline first, with each group's queue depth and wait; bulk approval
 * of low-risk reversible items; and the groups' trust rules. Every decision goes through the review link's
 * own path (submitReview), with a freshly signed link for the reviewer, so separation of duties, quorum votes
 * and exactly-once hold as they do for a click in an email.
 */
import { randomBytes } from 'node:crypto';
import { dutyConflict } from '../policies/duties.ts';
import { whyNotTrustable } from '../policies/trust-rules.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import { TrustRule, type TrustRuleForm } from '../schemas/trust-rule.ts';
import { reviewUrl } from '../signing.ts';
import type { StoredRequest } from '../store/model.ts';
import { TrustRuleStore } from '../store/trust-rules.ts';
import type { ReviewDeps } from '../review/deps.ts';
import { isTierMember } from '../review/groups.ts';
import { linkExpiresAt, purgeAt } from '../review/notify.ts';
import { submitReview } from '../review/respond.ts';
import { myVote } from '../review/votes.ts';
import { groupsOf } from './sign-in.ts';

export interface InboxItem {
  row: StoredRequest;
  /** A freshly signed review link for this reviewer. */
  link: string;
  timeLeftMs: number;
  waitedMs: number;
  /** Offered for bulk approval. */
  bulk: boolean;
  /** Why this reviewer cannot decide it here (a duty conflict, a vote already cast). */
  note?: string;
}

export interface InboxGroup {
  name: string;
  /** Pending requests in the group, whoever's tier they are with. */
  depth: number;
  /** How long the oldest pending request has waited; 0 when none. */
  oldestWaitMs: number;
  trustRules: TrustRule[];
}

export interface Inbox {
  approver: string;
  items: InboxItem[];
  groups: InboxGroup[];
}

/**
 * Low risk and reversible as the request was admitted (the policy's risk raised by the agent's claim), with
 * the class still low under the current config, and an approval nobody conflicts on: what bulk approval may touch.
 */
export function whyNotBulk(config: DeploymentConfig, row: StoredRequest, approver: string, now: Date): string | undefined {
  if (row.status !== 'PENDING') return 'it is no longer pending';
  if (row.kind !== 'approval') return `a ${row.kind} needs its own answer`;
  const risk = row.policy?.risk;
  if (!risk) return 'its risk was not recorded';
  if (!risk.reversible) return 'the action is not reversible';
  if (!risk.low || !config.lowRiskClasses.includes(risk.class)) return `risk class ${risk.class} is not low`;
  if (row.heldUntil === undefined && Date.parse(row.expiresAt) <= now.getTime()) return 'its time to decide has run out';
  const group = config.reviewerGroups[row.reviewerGroup];
  if (!group || !isTierMember(group, row.tier, approver)) return 'it is not with your tier';
  const duty = dutyConflict(row, approver);
  if (duty) return duty.reason === 'requester' ? 'the agent acts for you' : 'you escalated it';
  if (myVote(row, approver)) return 'you have voted on it';
  return undefined;
}

export async function loadInbox(deps: ReviewDeps, approver: string): Promise<Inbox> {
  const now = deps.now();
  const ring = await deps.keyRing();
  const trust = new TrustRuleStore(deps.requests, deps.decisionLog);
  const names = groupsOf(deps.config, approver);
  const perGroup = await Promise.all(
    names.map(async (name) => ({ name, rows: await deps.requests.pendingByGroup(name), rules: await trust.forGroup(name) })),
  );
  const items: InboxItem[] = [];
  const groups: InboxGroup[] = [];
  for (const { name, rows, rules } of perGroup) {
    const group = deps.config.reviewerGroups[name]!;
    const oldest = rows[0];
    groups.push({
      name,
      depth: rows.length,
      oldestWaitMs: oldest ? Math.max(0, now.getTime() - Date.parse(oldest.createdAt)) : 0,
      trustRules: rules.sort((a, b) => b.createdAt.localeCompare(a.createdAt)),
    });
    for (const row of rows) {
      if (!isTierMember(group, row.tier, approver)) continue;
      const why = whyNotBulk(deps.config, row, approver, now);
      const duty = dutyConflict(row, approver);
      const voted = myVote(row, approver);
      items.push({
        row,
        link: reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt: linkExpiresAt(row, deps.config) }, ring),
        timeLeftMs: Date.parse(row.expiresAt) - now.getTime(),
        waitedMs: Math.max(0, now.getTime() - Date.parse(row.createdAt)),
        bulk: why === undefined,
        ...(duty ? { note: duty.message.replace(/ Nothing was recorded\.$/, '') } : voted ? { note: `You ${voted.vote === 'approve' ? 'approved' : 'denied'} it; waiting for other votes.` } : {}),
      });
    }
  }
  items.sort((a, b) => a.timeLeftMs - b.timeLeftMs || a.row.createdAt.localeCompare(b.row.createdAt));
  return { approver, items, groups };
}

/** A bulk form's item: `<requestId>@<round>`, so an item that moved on since the page was shown is not approved. */
export function bulkValue(row: Pick<StoredRequest, 'requestId' | 'round'>): string {
  return `${row.requestId}@${row.round}`;
}

export interface BulkResult {
  requestId: string;
  approved: boolean;
  /** What happened, for the page. */
  message: string;
}

export type BulkOutcome = { refused: string } | { results: BulkResult[] };

/**
 * Approve each selected item through the review link's path. Every item is checked first: if any may not be
 * bulk-approved (a forged or stale form), nothing is approved.
 */
export async function bulkApprove(deps: ReviewDeps, approver: string, values: readonly string[], headers: { secFetchSite?: string; origin?: string }): Promise<BulkOutcome> {
  if (values.length === 0) return { refused: 'Select at least one request to approve.' };
  if (values.length > 50) return { refused: 'Approve at most 50 requests at once.' };
  const now = deps.now();
  const chosen: { row: StoredRequest; round: number }[] = [];
  for (const value of new Set(values)) {
    const m = /^(r[a-f0-9]{24})@([1-9]\d{0,5})$/.exec(value);
    if (!m) return { refused: `"${value.slice(0, 60)}" is not a request of this inbox; nothing was approved.` };
    const row = await deps.requests.get(m[1]!);
    if (!row) return { refused: `Request ${m[1]} does not exist; nothing was approved.` };
    const why = whyNotBulk(deps.config, row, approver, now);
    if (why !== undefined && row.status === 'PENDING') return { refused: `Request ${row.requestId} cannot be bulk-approved: ${why}. Nothing was approved; open its card to decide it.` };
    chosen.push({ row, round: Number(m[2]) });
  }
  const ring = await deps.keyRing();
  const results: BulkResult[] = [];
  for (const { row, round } of chosen) {
    const link = new URL(reviewUrl(deps.baseUrl, { requestId: row.requestId, approver, expiresAt: linkExpiresAt(row, deps.config) }, ring));
    const query = Object.fromEntries(link.searchParams);
    const page = await submitReview(deps, { requestId: row.requestId, query, fields: { choice: 'approve', round: String(round) }, ...headers, channel: 'inbox' });
    const after = await deps.requests.get(row.requestId);
    const decidedByMe = after?.decision?.decidedBy.toLowerCase() === approver.toLowerCase() && after.status === 'DECIDED';
    const votedOnly = after?.status === 'PENDING' && myVote(after, approver) !== undefined;
    results.push({
      requestId: row.requestId,
      approved: page.status === 200 && (decidedByMe || votedOnly),
      message: decidedByMe && page.status === 200
        ? 'approved; the agent has been told'
        : votedOnly
          ? 'your approval is recorded; more approvals are needed'
          : after?.decision
            ? `not approved by you: already decided by ${after.decision.decidedBy}`
            : `not approved: it moved on (HTTP ${page.status}); open its card`,
    });
  }
  deps.log.info('Inbox bulk approval', { approver, asked: chosen.length, approved: results.filter((r) => r.approved).length });
  return { results };
}

export type TrustChange = { ok: true; rule: TrustRule } | { ok: false; status: number; message: string };

export async function createTrustRule(deps: ReviewDeps, approver: string, form: TrustRuleForm): Promise<TrustChange> {
  const store = new TrustRuleStore(deps.requests, deps.decisionLog);
  const now = deps.now();
  const refusal = whyNotTrustable(deps.config, { group: form.group, agent: form.agent, action: form.action, createdBy: approver }, await store.forGroup(form.group), now);
  if (refusal) return { ok: false, status: refusal.includes('not a member') ? 403 : 400, message: `No trust rule was created: ${refusal}.` };
  const rule = TrustRule.parse({
    id: `tr-${randomBytes(6).toString('hex')}`,
    group: form.group,
    agent: form.agent,
    action: form.action,
    bounds: form.bounds,
    createdBy: approver,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + form.hours * 3_600_000).toISOString(),
    ...(form.note ? { note: form.note } : {}),
  });
  await store.create(rule, now, purgeAt(deps.config, now));
  deps.log.info('Trust rule created', { ruleId: rule.id, group: rule.group, agent: rule.agent, action: rule.action, createdBy: approver, expiresAt: rule.expiresAt });
  return { ok: true, rule };
}

/** Any member of the rule's group may revoke it: stopping an auto-approval should never wait for its creator. */
export async function revokeTrustRule(deps: ReviewDeps, approver: string, group: string, id: string): Promise<TrustChange> {
  if (!groupsOf(deps.config, approver).includes(group)) return { ok: false, status: 403, message: `${approver} is not a member of the "${group}" group.` };
  const now = deps.now();
  const store = new TrustRuleStore(deps.requests, deps.decisionLog);
  const rule = await store.revoke(group, id, approver, now, purgeAt(deps.config, now));
  if (!rule) return { ok: false, status: 409, message: `Trust rule ${id} is not active in the "${group}" group (already revoked or expired).` };
  deps.log.info('Trust rule revoked', { ruleId: id, group, revokedBy: approver });
  return { ok: true, rule };
}
