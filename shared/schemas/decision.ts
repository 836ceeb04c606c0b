/**
 * Decision: the state machine output. An execution succeeds with a Decision whatever the human chose;
 * a "no" is an outcome to branch on, carrying the reason so a model does not retry blindly.
 */
import * as z from 'zod';
import { ChoiceOption, Draft, Kind } from './review-request.ts';
import { JsonValue } from './json.ts';

export const Outcome = z.enum([
  'approved', // approval or verification accepted as proposed
  'denied', // a person (or the deny fallback) said no; see reason
  'modified', // approved with edited args (approval) or an edited draft (verification)
  'answered', // disambiguation: a person chose an option
  'resolved', // escalation: a person did the task and returned a result
  'corrected', // correction: a person supplied the corrected output
  'expired', // nobody decided in time and no fallback approved it; treat as "do not proceed"
  'cancelled', // the agent or an operator stopped the execution (or it failed) before anyone decided
]);
export type Outcome = z.infer<typeof Outcome>;

export const PolicyName = z.enum([
  'auto-approve', // low risk, reversible, confident, not sampled
  'auto-answer', // disambiguation confident enough not to ask
  'not-sampled', // verification: the draft was not picked for the rule's review sample
  'below-risk-threshold', // verification: the draft met none of the rule's risk conditions
  'fallback-deny',
  'fallback-approve',
  'fallback-escalate', // recorded on the log; the final Decision comes from the next tier
  'fallback-hold',
  'backstop', // the Step Functions task timeout fired: every tier and hold ran out
  'trust-rule', // a reviewer's "trust this action for N hours" rule matched (decidedBy names the rule and its creator)
]);
export type PolicyName = z.infer<typeof PolicyName>;

export const Vote = z.object({
  /** The reviewer's email. */
  by: z.string(),
  vote: z.enum(['approve', 'deny']),
  at: z.iso.datetime(),
  tier: z.number().int().min(1),
  round: z.number().int().min(1),
  reason: z.string().optional(),
  comment: z.string().optional(),
});
export type Vote = z.infer<typeof Vote>;

export const Decision = z.object({
  requestId: z.string(),
  kind: Kind,
  outcome: Outcome,
  /**
   * The reviewer's email (under a quorum, the deciding vote's), the respondent's user id for an in-app
   * answer, or `policy:<name>` when no person decided.
   */
  decidedBy: z.string(),
  /** How the decision arrived: a signed email link, Slack, the reviewers' inbox, the host app (in-app), or a policy. */
  channel: z.enum(['email', 'slack', 'inbox', 'in-app', 'policy']).optional(),
  /**
   * The deployment policy behind the decision. `rule`: the policy rule that applied; `why`: why a policy
   * decided, or why the request went to a person. `name` is set only when a policy rather than a person decided.
   */
  policy: z.object({ name: PolicyName.optional(), rule: z.string().optional(), why: z.string() }).optional(),
  /** Under a quorum: everyone whose approval counted, in the order they approved. */
  approvers: z.array(z.string()).optional(),
  /** Under a quorum: every vote cast on the request, in order, including those of earlier tiers and of a request that expired. */
  votes: z.array(Vote).optional(),
  /** Required with a human denial; the agent should read it before trying again. */
  reason: z.string().optional(),
  comment: z.string().optional(),
  proposedArgs: z.record(z.string(), JsonValue).optional(),
  approvedArgs: z.record(z.string(), JsonValue).optional(),
  chosenOption: ChoiceOption.optional(),
  editedDraft: Draft.optional(),
  /** Escalation: what the person did. */
  result: z.string().optional(),
  /** Correction: the right output, and a label for eval sets. */
  correctedOutput: z.string().optional(),
  correctionCategory: z.string().optional(),
  /** 1-based tier of the reviewer group that decided (or was current when a policy decided). */
  tier: z.number().int().min(1),
  requestedAt: z.iso.datetime(),
  decidedAt: z.iso.datetime(),
  latencyMs: z.number().int().min(0),
});
export type Decision = z.infer<typeof Decision>;
