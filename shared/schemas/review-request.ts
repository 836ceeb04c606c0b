/**
 * ReviewRequest: the state machine input an agent sends. The one source of truth for its shape;
 * `docs/schemas/review-request.schema.json` is generated from it for agents not written in TypeScript.
 */
import * as z from 'zod';
import { JsonValue } from './json.ts';
import { InvalidRequestError } from '../errors.ts';
import { MAX_REQUEST_BYTES } from './limits.ts';
import { parseWith } from './parse.ts';

export const KINDS = ['approval', 'disambiguation', 'verification', 'escalation', 'correction'] as const;
export const Kind = z.enum(KINDS);
export type Kind = z.infer<typeof Kind>;

export const FallbackPolicy = z.enum(['deny', 'approve', 'escalate', 'hold']);
export type FallbackPolicy = z.infer<typeof FallbackPolicy>;

const Text = (max: number) => z.string().trim().min(1).max(max);

/** A risk class such as "financial", "data-deletion", "read-only"; the deployment's policy ranks them. */
export const RiskClass = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use lowercase letters, digits and dashes, e.g. "financial"');

/** A reviewer group's name in the deployment config. */
export const GroupName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use lowercase letters, digits and dashes');

/** The agent's own claim. The deployment's policy may raise it, and the claim may raise the policy's, never lower it. */
export const Risk = z.object({
  class: RiskClass,
  reversible: z.boolean(),
});

export const PlanStep = z
  .object({ current: z.number().int().min(1), total: z.number().int().min(1) })
  .refine((p) => p.current <= p.total, { message: 'current must not exceed total', path: ['current'] });

export const Notify = z.strictObject({
  /** An https URL (http only for a loopback host the deployment lists, e.g. 127.0.0.1 on the local stack). */
  url: z.url({ protocol: /^https?$/, error: 'use an http(s) URL, e.g. "https://agent.example.com/hooks/hitl"' }).max(2048),
});
export type Notify = z.infer<typeof Notify>;

const common = {
  agent: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use letters, digits, ".", "_" or "-"'),
  /** Why the agent wants this; shown first on the card. */
  reason: Text(2000),
  planStep: PlanStep.optional(),
  /** A short summary of the relevant context, not a transcript. */
  context: Text(2000).optional(),
  risk: Risk,
  /** The agent's confidence in its proposal, 0 to 1. Drives auto-approval and disambiguation routing. */
  confidence: z.number().min(0).max(1).optional(),
  /**
   * Name of a reviewer group from the deployment config. Agents name a group, never an address; a policy
   * rule that names a group overrides it.
   */
  reviewerGroup: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'name a reviewer group from the deployment config').optional(),
  /**
   * The end user who answers the request in the host app (in-app answers), instead of a reviewer group by
   * email: `id` is the app's user id, the `sub` of the user's JWT. Needs `inApp` in the deployment config;
   * name a respondent or a reviewerGroup, not both. A policy rule that names a group overrides it.
   */
  respondent: z
    .strictObject({
      id: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'use the user id from the app (the JWT sub): 1-256 printable ASCII characters, no spaces'),
      email: z.email('respondent.email must be an email address').max(254).optional(),
    })
    .optional(),
  /** The person the agent acts for. They can never decide the request themselves. */
  requestedBy: z.email('requestedBy must be an email address').max(254).optional(),
  /** Time box in seconds; defaults to the group's defaultTtlSeconds and may not exceed its maxTtlSeconds. */
  ttlSeconds: z.number().int().min(60).max(7 * 86400).optional(),
  /** What happens if nobody decides in time. */
  fallback: FallbackPolicy.default('deny'),
  /** Same agent + key → same request and the same decision, across executions. */
  idempotencyKey: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'use 1-128 printable ASCII characters, no spaces').optional(),
  /**
   * Where to POST the Decision, signed (Standard Webhooks), when the request ends. The deployment's
   * `webhooks.allowedHosts` must list the URL's host; admission refuses any other.
   */
  notify: Notify.optional(),
};

export const ActionName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/, 'use an identifier such as "refund" or "crm.update_contact"');

export const ProposedAction = z.object({
  name: ActionName,
  args: z.record(z.string().min(1).max(128), JsonValue),
});
export type ProposedAction = z.infer<typeof ProposedAction>;

export const ApprovalRequest = z.strictObject({
  kind: z.literal('approval'),
  ...common,
  action: ProposedAction,
});

export const OptionId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use letters, digits, "_" or "-"');
export const ChoiceOption = z.object({ id: OptionId, label: Text(200), detail: Text(500).optional() });
export type ChoiceOption = z.infer<typeof ChoiceOption>;

export const DisambiguationRequest = z.strictObject({
  kind: z.literal('disambiguation'),
  ...common,
  question: Text(1000),
  /** The agent's candidate interpretations, best first. */
  options: z
    .array(ChoiceOption)
    .min(2, 'offer at least two options')
    .max(10)
    .refine((o) => new Set(o.map((x) => x.id)).size === o.length, 'option ids must be unique'),
});

export const Draft = z.object({
  channel: z.enum(['email', 'post', 'report', 'message', 'other']),
  title: Text(300).optional(),
  body: Text(20000),
  audience: Text(300).optional(),
  /** Who receives it, when it is addressed to people; risk-based verification checks them against allowed domains. */
  recipients: z.array(z.email('recipients must be email addresses').max(254)).max(100).optional(),
});
export type Draft = z.infer<typeof Draft>;

export const VerificationRequest = z.strictObject({
  kind: z.literal('verification'),
  ...common,
  draft: Draft,
});

export const EscalationRequest = z.strictObject({
  kind: z.literal('escalation'),
  ...common,
  task: z.object({
    summary: Text(1000),
    /** What the agent tried and why it gave up. */
    attempts: Text(4000).optional(),
  }),
});

export const CorrectionRequest = z.strictObject({
  kind: z.literal('correction'),
  ...common,
  output: z.object({
    /** The agent's id for the output that was sent (message id, ticket id). */
    id: z.string().min(1).max(256),
    content: Text(20000),
    sentAt: z.iso.datetime().optional(),
  }),
  /** What the reporter says is wrong with it. */
  issue: Text(2000).optional(),
});

export const ReviewRequest = z.discriminatedUnion('kind', [
  ApprovalRequest,
  DisambiguationRequest,
  VerificationRequest,
  EscalationRequest,
  CorrectionRequest,
]);
export type ReviewRequest = z.infer<typeof ReviewRequest>;
export type ReviewRequestInput = z.input<typeof ReviewRequest>;

/** Deepest nesting a request may have, counted from its top level (`action.args.x` is level 3). */
export const MAX_REQUEST_DEPTH = 10;

/**
 * Validate untrusted input; the error lists every zod issue with its path (e.g. `action.args`). Depth and
 * size are checked first, without recursion, so no input can exhaust the stack or the item size.
 */
export function parseReviewRequest(input: unknown, limits: { maxRequestBytes?: number } = {}): ReviewRequest {
  const depth = jsonDepth(input);
  if (depth.depth > MAX_REQUEST_DEPTH) {
    const path = depth.path.join('.');
    throw new InvalidRequestError(`Invalid ReviewRequest: ${path}: nested deeper than ${MAX_REQUEST_DEPTH} levels`, [
      { path, message: `nested deeper than ${MAX_REQUEST_DEPTH} levels` },
    ]);
  }
  const max = limits.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const bytes = Buffer.byteLength(JSON.stringify(input) ?? '');
  if (bytes > max) {
    throw new InvalidRequestError(`Invalid ReviewRequest: ${bytes} bytes as JSON exceeds the limit of ${max}`, [
      { path: '', message: `${bytes} bytes as JSON exceeds the limit of ${max} bytes (limits.maxRequestBytes)` },
    ]);
  }
  return parseWith(ReviewRequest, input, 'ReviewRequest');
}

/** How deep a JSON value nests (a scalar is 0), and the path to its deepest point; iterative. */
export function jsonDepth(value: unknown): { depth: number; path: string[] } {
  let best = { depth: 0, path: [] as string[] };
  const stack: { value: unknown; depth: number; path: string[] }[] = [{ value, depth: 0, path: [] }];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next.depth > best.depth) best = { depth: next.depth, path: next.path };
    if (next.depth > MAX_REQUEST_DEPTH) break;
    if (next.value !== null && typeof next.value === 'object') {
      for (const [key, child] of Object.entries(next.value)) {
        stack.push({ value: child, depth: next.depth + 1, path: [...next.path, key] });
      }
    }
  }
  return best;
}
