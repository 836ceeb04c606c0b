/**
 * Decision: the state machine output. An execution succeeds with a Decision whatever the human chose;
 * a "no" is an outcome to branch on, carrying the reason so a model does not retry blindly.
 */
import { z } from 'zod';
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
  'fallback-deny',
  'fallback-approve',
  'fallback-escalate', // recorded on the log; the final Decision comes from the next tier
  'fallback-hold',
  'backstop', // the Step Functions task timeout fired: every tier and hold ran out
]);
export type PolicyName = z.infer<typeof PolicyName>;

export const Decision = z.object({
  requestId: z.string(),
  kind: Kind,
  outcome: Outcome,
  /** The reviewer's email, or `policy:<name>` when no person decided. */
  decidedBy: z.string(),
  /** Set when a policy rather than a person decided, with why. */
  policy: z.object({ name: PolicyName, why: z.string() }).optional(),
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
