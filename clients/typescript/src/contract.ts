/**
 * The hitl contracts as this client sends and reads them: ReviewRequest (the state machine input) and
 * Decision (its output). Re-declared here, field for field, from the published JSON Schemas
 * (docs/schemas/review-request.schema.json, docs/schemas/decision.schema.json); a test keeps them equal.
 * The server validates every limit; the client checks shape only.
 */
import * as z from 'zod';

export const Kind = z.enum(['approval', 'disambiguation', 'verification', 'escalation', 'correction']);
export type Kind = z.infer<typeof Kind>;

export const Outcome = z.enum(['approved', 'denied', 'modified', 'answered', 'resolved', 'corrected', 'expired', 'cancelled']);
export type Outcome = z.infer<typeof Outcome>;

export const PolicyName = z.enum(['auto-approve', 'auto-answer', 'fallback-deny', 'fallback-approve', 'fallback-escalate', 'fallback-hold', 'backstop', 'not-sampled', 'below-risk-threshold', 'trust-rule']);
export type PolicyName = z.infer<typeof PolicyName>;

export const Fallback = z.enum(['deny', 'approve', 'escalate', 'hold']);
export type Fallback = z.infer<typeof Fallback>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(z.string(), JsonValue)]));

export const ChoiceOption = z.object({ id: z.string(), label: z.string(), detail: z.string().optional() });
export type ChoiceOption = z.infer<typeof ChoiceOption>;

export const Draft = z.object({
  channel: z.enum(['email', 'post', 'report', 'message', 'other']),
  title: z.string().optional(),
  body: z.string(),
  audience: z.string().optional(),
  recipients: z.array(z.string()).optional(),
});
export type Draft = z.infer<typeof Draft>;

const common = {
  agent: z.string(),
  reason: z.string(),
  planStep: z.object({ current: z.number().int(), total: z.number().int() }).optional(),
  context: z.string().optional(),
  risk: z.object({ class: z.string(), reversible: z.boolean() }),
  confidence: z.number().min(0).max(1).optional(),
  reviewerGroup: z.string().optional(),
  /** In-app answers: the app user (JWT `sub`) who answers in the host app, instead of a reviewer group. */
  respondent: z.strictObject({ id: z.string(), email: z.string().optional() }).optional(),
  requestedBy: z.string().optional(),
  ttlSeconds: z.number().int().optional(),
  fallback: Fallback.optional(),
  idempotencyKey: z.string().optional(),
  /** Where the Decision is POSTed, signed, when the request ends (verify it with verifyWebhook). */
  notify: z.strictObject({ url: z.string() }).optional(),
};

export const ApprovalRequest = z.strictObject({ kind: z.literal('approval'), ...common, action: z.object({ name: z.string(), args: z.record(z.string(), JsonValue) }) });
export const DisambiguationRequest = z.strictObject({ kind: z.literal('disambiguation'), ...common, question: z.string(), options: z.array(ChoiceOption) });
export const VerificationRequest = z.strictObject({ kind: z.literal('verification'), ...common, draft: Draft });
export const EscalationRequest = z.strictObject({ kind: z.literal('escalation'), ...common, task: z.object({ summary: z.string(), attempts: z.string().optional() }) });
export const CorrectionRequest = z.strictObject({
  kind: z.literal('correction'),
  ...common,
  output: z.object({ id: z.string(), content: z.string(), sentAt: z.string().optional() }),
  issue: z.string().optional(),
});

export const ReviewRequest = z.discriminatedUnion('kind', [ApprovalRequest, DisambiguationRequest, VerificationRequest, EscalationRequest, CorrectionRequest]);
export type ReviewRequest = z.infer<typeof ReviewRequest>;
export type ApprovalRequest = z.infer<typeof ApprovalRequest>;

export const Decision = z.object({
  requestId: z.string(),
  kind: Kind,
  outcome: Outcome,
  /** The reviewer's email (under a quorum, the deciding vote's), or `policy:<name>` when no person decided. */
  decidedBy: z.string(),
  /** How the decision arrived: email link, Slack, inbox, the host app (in-app), or a policy. */
  channel: z.enum(['email', 'slack', 'inbox', 'in-app', 'policy']).optional(),
  /** The policy rule that applied and why; `name` only when a policy rather than a person decided. */
  policy: z.object({ name: PolicyName.optional(), rule: z.string().optional(), why: z.string() }).optional(),
  /** Under a quorum: everyone whose approval counted. */
  approvers: z.array(z.string()).optional(),
  /** Under a quorum: every vote cast. */
  votes: z
    .array(
      z.object({
        by: z.string(),
        vote: z.enum(['approve', 'deny']),
        at: z.string(),
        tier: z.number().int().min(1),
        round: z.number().int().min(1),
        reason: z.string().optional(),
        comment: z.string().optional(),
      }),
    )
    .optional(),
  reason: z.string().optional(),
  comment: z.string().optional(),
  proposedArgs: z.record(z.string(), JsonValue).optional(),
  approvedArgs: z.record(z.string(), JsonValue).optional(),
  chosenOption: ChoiceOption.optional(),
  editedDraft: Draft.optional(),
  result: z.string().optional(),
  correctedOutput: z.string().optional(),
  correctionCategory: z.string().optional(),
  tier: z.number().int().min(1),
  requestedAt: z.string(),
  decidedAt: z.string(),
  latencyMs: z.number().int().min(0),
});
export type Decision = z.infer<typeof Decision>;
