/**
 * Quorum: N approvals from the tier asked decide a request; a denial vetoes it, or (without veto) denies it
 * once N approvals are out of reach. Only the current round's votes count: an escalation starts afresh.
 * Pure; the votes service writes each vote with its log event.
 */
import type { Vote } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';

export interface QuorumRule {
  approvals: number;
  denyVetoes: boolean;
}

export interface Tally {
  needed: number;
  approvals: Vote[];
  denials: Vote[];
  outcome: 'open' | 'approved' | 'denied';
}

/** A row's votes in the order they were cast. */
export function votesOf(row: Pick<StoredRequest, 'votes'>): Vote[] {
  return Object.values(row.votes ?? {}).sort((a, b) => a.at.localeCompare(b.at) || a.by.localeCompare(b.by));
}

/** `votes`: the round's votes in order; `eligible`: how many of the tier may vote on this request. */
export function tally(votes: readonly Vote[], quorum: QuorumRule, eligible: number): Tally {
  const approvals = votes.filter((v) => v.vote === 'approve');
  const denials = votes.filter((v) => v.vote === 'deny');
  const needed = quorum.approvals;
  let outcome: Tally['outcome'] = 'open';
  if (denials.length > 0 && quorum.denyVetoes) outcome = 'denied';
  else if (approvals.length >= needed) outcome = 'approved';
  else if (eligible - denials.length < needed) outcome = 'denied';
  return { needed, approvals, denials, outcome };
}

/** "1 of 2 approvals so far (lead@example.com)" */
export function describeTally(t: Pick<Tally, 'needed' | 'approvals' | 'denials'>): string {
  const who = t.approvals.length ? ` (${t.approvals.map((v) => v.by).join(', ')})` : '';
  const denied = t.denials.length ? `; ${t.denials.length} denied (${t.denials.map((v) => v.by).join(', ')})` : '';
  return `${t.approvals.length} of ${t.needed} approvals so far${who}${denied}`;
}
