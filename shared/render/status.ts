/**
 * What happened to a request, in one sentence and a few facts: who decided what and when, or why the
 * request is no longer open to this link. Used by the status page.
 */
import type { ReviewerGroup } from '../schemas/config.ts';
import { memberId } from '../schemas/member.ts';
import type { Decision, Outcome, PolicyName, Vote } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import { formatJson, tierName, type CardInput, type Fact } from './card.ts';
import { inertLine, inertText, quoteKey } from './inert-text.ts';
import { formatClock, formatDuration, formatTimeLeft } from './time.ts';

export type StatusTone = 'approved' | 'denied' | 'waiting' | 'neutral';

export interface StatusSummary {
  tone: StatusTone;
  /** e.g. "Approved by lead@example.com at 14:02 (Europe/London)". */
  headline: string;
  /** A sentence under the headline, e.g. why this link can no longer decide. */
  note?: string;
  details: Fact[];
}

const OUTCOME_VERBS: Record<Outcome, string> = {
  approved: 'Approved',
  denied: 'Denied',
  modified: 'Approved with changes',
  answered: 'Answered',
  resolved: 'Resolved',
  corrected: 'Corrected',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

const OUTCOME_TONES: Record<Outcome, StatusTone> = {
  approved: 'approved',
  denied: 'denied',
  modified: 'approved',
  answered: 'approved',
  resolved: 'approved',
  corrected: 'approved',
  expired: 'denied',
  cancelled: 'neutral',
};

/** Nobody decided a cancelled request: say who stopped it, never "decided by". */
function cancelledHeadline(d: Decision, when: string): string {
  return d.decidedBy.startsWith('agent:') ? `Cancelled by the agent ${when}` : `Cancelled ${when}: ${d.reason ?? 'the execution ended'}`;
}

function at(date: Date, group: ReviewerGroup, now: Date): string {
  return `at ${formatClock(date, group.timeZone, now)} (${group.timeZone})`;
}

function policyHeadline(name: PolicyName, outcome: Outcome, when: string): string {
  switch (name) {
    case 'auto-approve':
      return `Approved automatically ${when} (auto-approve policy)`;
    case 'auto-answer':
      return `Answered automatically ${when} (auto-answer policy)`;
    case 'not-sampled':
      return `Passed without review ${when} (not in the review sample)`;
    case 'below-risk-threshold':
      return `Passed without review ${when} (below the risk threshold)`;
    case 'fallback-deny':
      return `Expired ${when} — fallback deny`;
    case 'fallback-approve':
      return `Expired ${when} — fallback approve`;
    case 'fallback-escalate':
      return `Expired ${when} — fallback escalate`;
    case 'fallback-hold':
      return `Expired ${when} — fallback hold`;
    case 'backstop':
      return `${OUTCOME_VERBS[outcome]} ${when} — no tier decided in time`;
    case 'trust-rule':
      return `Approved automatically ${when} (a reviewer's trust rule)`;
  }
}

function argChanges(d: Decision): string | undefined {
  if (!d.approvedArgs) return undefined;
  const proposed = d.proposedArgs ?? {};
  const lines = Object.entries(d.approvedArgs)
    .filter(([k, v]) => !(k in proposed) || formatJson(proposed[k] ?? null) !== formatJson(v))
    .map(([k, v]) => `${quoteKey(k)}: ${k in proposed ? formatJson(proposed[k] ?? null) : '(new)'} → ${formatJson(v)}`);
  return lines.length > 0 ? lines.join('\n') : 'no argument changed';
}

function voteLine(v: Vote): string {
  return `${v.by} ${v.vote === 'approve' ? 'approved' : 'denied'}${v.reason ? `: ${v.reason}` : ''} (tier ${v.tier})`;
}

function decisionDetails(d: Decision, group: ReviewerGroup): Fact[] {
  const facts: Fact[] = [];
  if (d.policy?.name) {
    facts.push({ label: 'Outcome', value: d.outcome });
    facts.push({ label: 'Why', value: d.policy.why });
  }
  if (d.policy?.rule) facts.push({ label: 'Policy rule', value: d.policy.rule });
  if (d.approvers?.length) facts.push({ label: 'Approved by', value: d.approvers.join(', ') });
  else if (d.votes?.length) facts.push({ label: 'Votes', value: d.votes.map(voteLine).join('\n'), long: true });
  if (d.reason) facts.push({ label: 'Reason', value: d.reason });
  if (d.chosenOption) facts.push({ label: 'Chosen option', value: d.chosenOption.label });
  const changes = argChanges(d);
  if (changes) facts.push({ label: 'Changes', value: changes, long: true });
  if (d.editedDraft) {
    if (d.editedDraft.title) facts.push({ label: 'Edited title', value: d.editedDraft.title });
    facts.push({ label: 'Edited body', value: d.editedDraft.body, long: true });
  }
  if (d.result) facts.push({ label: 'Result', value: d.result, long: true });
  if (d.correctedOutput) facts.push({ label: 'Corrected output', value: d.correctedOutput, long: true });
  if (d.correctionCategory) facts.push({ label: 'Category', value: d.correctionCategory });
  if (d.comment) facts.push({ label: 'Comment', value: d.comment });
  facts.push({ label: 'Tier', value: `${tierName(group, d.tier)} (tier ${d.tier})` });
  facts.push({ label: 'Took', value: `${formatDuration(d.latencyMs)} from the request` });
  return facts.map((f) => ({ ...f, value: inertText(f.value) }));
}

function isMember(group: ReviewerGroup, tier: number, approver: string): boolean {
  const needle = approver.toLowerCase();
  return (group.tiers[tier - 1]?.members ?? []).some((m) => memberId(m).toLowerCase() === needle);
}

function latestEscalation(row: StoredRequest): { tierName: string; at: string } | undefined {
  return [...(row.history ?? [])].reverse().find((h) => h.tier === row.tier && h.tier > 1);
}

export function describeStatus({ request: row, group, now, approver }: CardInput & { approver?: string }): StatusSummary {
  const d = row.decision;
  if (d) {
    const when = at(new Date(d.decidedAt), group, now);
    const headline = inertLine(
      d.outcome === 'cancelled' ? cancelledHeadline(d, when) : d.policy?.name ? policyHeadline(d.policy.name, d.outcome, when) : `${OUTCOME_VERBS[d.outcome]} by ${d.decidedBy} ${when}`,
    );
    return { tone: OUTCOME_TONES[d.outcome], headline, details: decisionDetails(d, group) };
  }
  if (row.status === 'EXPIRED') {
    return { tone: 'denied', headline: `Expired ${at(new Date(row.expiresAt), group, now)}`, details: [] };
  }
  if (row.status === 'UNDELIVERABLE') {
    return { tone: 'neutral', headline: 'Closed: no reviewer could be emailed, so nobody was asked', details: [] };
  }
  if (row.status === 'DECIDED') {
    return { tone: 'neutral', headline: 'This request has been decided', details: [] };
  }

  const current = tierName(group, row.tier);
  let note: string | undefined;
  let headline = `Waiting for ${current} — ${formatTimeLeft(new Date(row.expiresAt), now)}`;
  const escalation = latestEscalation(row);
  if (escalation) headline = `Escalated to ${escalation.tierName} ${at(new Date(escalation.at), group, now)}`;
  if (approver !== undefined && !isMember(group, row.tier, approver)) {
    note = `This link is for ${approver}, who is not in ${current}, the reviewers asked now.`;
  }
  if (row.heldUntil && new Date(row.heldUntil) > now) {
    headline = `On hold until ${formatClock(new Date(row.heldUntil), group.timeZone, now)} (${group.timeZone}), outside business hours`;
  }
  return { tone: 'waiting', headline, note, details: [] };
}
