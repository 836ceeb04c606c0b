/**
 * Votes under a quorum: each approve or deny is written with its `voted` event, on the condition that no
 * other vote landed since the row was read, so concurrent votes are counted one at a time. The vote that
 * settles the quorum ends the request in the same transaction (with the final event), and only its writer
 * resumes the execution: one final Decision, one SendTaskSuccess.
 */
import { HitlError } from '../errors.ts';
import { eligibleMembers } from '../policies/duties.ts';
import { tally, votesOf, type Tally } from '../policies/quorum.ts';
import type { Decision, Vote } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import { voteKey } from '../store/requests.ts';
import type { ReviewDeps } from './deps.ts';
import { afterFinal, finalLogEvent, type FinalizeResult } from './finalize.ts';
import { groupOf, tierMemberIds } from './groups.ts';
import { purgeAt } from './notify.ts';

export type VoteResult =
  | { result: 'voted'; row: StoredRequest; tally: Tally }
  | { result: 'decided'; done: Extract<FinalizeResult, { won: true }>; tally: Tally }
  | { result: 'already-voted'; row: StoredRequest; vote: Vote }
  /** Decided, escalated or re-sent meanwhile. */
  | { result: 'moved-on'; current: StoredRequest };

export interface CastVote {
  approver: string;
  /** The round the reviewer's page showed. */
  expectedRound: number;
  /**
   * The Decision this vote would make on its own (approved as proposed, or denied with a reason); it
   * becomes the request's Decision if this vote settles the quorum.
   */
  decision: Decision;
}

/** Concurrent votes retry on a fresh read; more than this many lost races in a row means something is wrong. */
const MAX_ATTEMPTS = 20;

/** The current round's votes and what they add up to. */
export function roundTally(deps: Pick<ReviewDeps, 'config'>, row: StoredRequest, votes: readonly Vote[] = votesOf(row)): Tally | undefined {
  const quorum = row.policy?.quorum;
  if (!quorum) return undefined;
  const members = tierMemberIds(groupOf(deps.config, row), row.tier);
  return tally(votes.filter((v) => v.round === row.round), quorum, eligibleMembers(members, row).length);
}

export function myVote(row: StoredRequest, approver: string): Vote | undefined {
  return row.votes?.[voteKey(row.round, approver)];
}

export async function castVote(deps: ReviewDeps, seen: StoredRequest, cast: CastVote): Promise<VoteResult> {
  let row = seen;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (row.status !== 'PENDING' || row.round !== cast.expectedRound) return { result: 'moved-on', current: row };
    const mine = myVote(row, cast.approver);
    if (mine) return { result: 'already-voted', row, vote: mine };

    const at = deps.now().toISOString();
    const d = cast.decision;
    const vote: Vote = {
      by: cast.approver,
      vote: d.outcome === 'denied' ? 'deny' : 'approve',
      at,
      tier: row.tier,
      round: row.round,
      ...(d.reason !== undefined ? { reason: d.reason } : {}),
      ...(d.comment !== undefined ? { comment: d.comment } : {}),
    };
    const votes = [...votesOf(row), vote];
    const t = roundTally(deps, row, votes)!;
    const retention = purgeAt(deps.config, deps.now());
    const voted = { requestId: row.requestId, event: 'voted' as const, at, actor: cast.approver, tier: row.tier, details: { round: row.round, vote: vote.vote, approvals: t.approvals.length, needed: t.needed, ...(vote.reason ? { reason: vote.reason } : {}) }, ...retention };

    if (t.outcome === 'open') {
      const written = await deps.ledger.vote(row, vote, voted);
      if (written) {
        deps.log.info('Vote recorded', { requestId: row.requestId, round: row.round, vote: vote.vote, approvals: t.approvals.length, needed: t.needed });
        return { result: 'voted', row: written, tally: t };
      }
    } else {
      const decision = settledDecision(d, t, votes);
      const final = finalLogEvent(deps, row, decision, 'decided', cast.approver, { quorum: { needed: t.needed, approvals: t.approvals.length, denials: t.denials.length } });
      const written = await deps.ledger.vote(row, vote, voted, { finish: { status: 'DECIDED', decision, at }, event: final });
      if (written) return { result: 'decided', done: await afterFinal(deps, written, decision), tally: t };
    }
    deps.log.info('Another vote or decision landed first; counting again', { requestId: row.requestId, attempt });
    const current = await deps.requests.get(row.requestId);
    if (!current) throw new HitlError(`Request ${row.requestId} disappeared while a vote was cast`);
    row = current;
  }
  throw new HitlError(`Request ${seen.requestId}: votes kept changing while one was cast; try again`);
}

/** The vote that settled it decides (decidedBy, for compatibility); the Decision names every approver and vote. */
function settledDecision(d: Decision, t: Tally, votes: Vote[]): Decision {
  const approvers = t.approvals.map((v) => v.by);
  if (t.outcome === 'approved') return { ...d, outcome: 'approved', approvers, votes };
  const denial = t.denials.at(-1);
  const reason = denial?.reason ?? `${t.needed} approvals can no longer be reached`;
  const { approvedArgs: _approved, ...rest } = d;
  return { ...rest, outcome: 'denied', reason, ...(approvers.length ? { approvers } : {}), votes };
}
