/**
 * The deployment's policy: what needs a person, who may decide, and what a policy may decide alone. Ordered
 * rules matched by agent, kind and action name; the first match wins, and the default rule (the strictest)
 * takes whatever no rule matches. A rule leaves out what it takes from the default rule.
 *
 * The shapes are here; the checks that need the rest of the config (groups, low risk classes) are in
 * policy-checks.ts, and what a request resolves to is shared/policies/rules.ts.
 */
import * as z from 'zod';
import { Reminders } from './reminders.ts';
import { FallbackPolicy, GroupName, Kind, RiskClass } from './review-request.ts';

const Rate = z.number().min(0).max(1);
const Seconds = z.number().int().min(60).max(7 * 86400);

/** `*` stands for any run of characters, `?` for one; everything else matches itself. */
export const Glob = z
  .string()
  .regex(/^[A-Za-z0-9_.:*?-]{1,128}$/, 'use letters, digits, "_", ".", ":", "-" and the wildcards "*" and "?"');
const Globs = z.union([Glob, z.array(Glob).min(1).max(20)]);

export const RuleName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'use lowercase letters, digits and dashes');

/** What a rule applies to; a field left out matches anything. */
export const RuleMatch = z.strictObject({
  agent: Globs.optional(),
  kind: z.union([Kind, z.array(Kind).min(1)]).optional(),
  /** The action name of an approval, the draft channel of a verification; other kinds have none. */
  action: Globs.optional(),
});
export type RuleMatch = z.infer<typeof RuleMatch>;

export const RuleRisk = z.strictObject({ class: RiskClass, reversible: z.boolean() });
export type RuleRisk = z.infer<typeof RuleRisk>;

export const TtlBounds = z
  .strictObject({ min: Seconds.optional(), default: Seconds.optional(), max: Seconds.optional() })
  .refine((t) => t.min === undefined || t.max === undefined || t.min <= t.max, { message: 'min must not exceed max', path: ['min'] })
  .refine((t) => t.default === undefined || ((t.min ?? 0) <= t.default && t.default <= (t.max ?? Infinity)), {
    message: 'default must be within min and max',
    path: ['default'],
  });
export type TtlBounds = z.infer<typeof TtlBounds>;

const Domain = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'use a lowercase domain name, e.g. "example.com"');

/** Verification review: every draft, a deterministic sample, or the drafts that meet a risk condition. */
export const VerificationReview = z.discriminatedUnion('review', [
  z.strictObject({ review: z.literal('always') }),
  z.strictObject({ review: z.literal('sample'), rate: Rate }),
  z
    .strictObject({
      review: z.literal('risk'),
      /** Reviewed when the agent's confidence is below this (or missing). */
      confidenceBelow: Rate.optional(),
      /** Reviewed when a recipient's domain is not one of these (or a subdomain), or the draft names no recipients. */
      allowedDomains: z.array(Domain).min(1).max(50).optional(),
      /** Reviewed when the title or body mentions one of these, case and invisible characters aside. */
      terms: z.array(z.string().trim().min(1).max(100)).min(1).max(100).optional(),
      /** Reviewed when the agent's own risk class is this one or ranks above it. */
      agentRiskAtOrAbove: RiskClass.optional(),
    })
    .refine((v) => v.confidenceBelow !== undefined || v.allowedDomains || v.terms || v.agentRiskAtOrAbove, {
      message: 'name at least one condition: confidenceBelow, allowedDomains, terms or agentRiskAtOrAbove',
    }),
]);
export type VerificationReview = z.infer<typeof VerificationReview>;

export const Quorum = z.strictObject({
  /** Approvals needed from the tier asked (N of its M members). */
  approvals: z.number().int().min(1).max(10),
  /** A single denial ends the request denied; otherwise it is denied once N approvals are out of reach. */
  denyVetoes: z.boolean().default(true),
});
export type Quorum = z.infer<typeof Quorum>;

const ruleFields = {
  /** Why the rule exists; `hitl suggest` writes its evidence here. */
  description: z.string().max(500).optional(),
  /** The action's risk as the deployment sees it; the agent's claim may raise it, never lower it. */
  risk: RuleRisk.optional(),
  /** Who decides; overrides the group the agent names. */
  reviewerGroup: GroupName.optional(),
  /** Time box bounds in seconds, within the group's maxTtlSeconds. */
  ttl: TtlBounds.optional(),
  /** Reminders before each time box ends (`["50%", "10m"]`), instead of the group's. */
  reminders: Reminders.optional(),
  /** Fallbacks a request may ask for; `deny` is always among them (a request that names none gets it). */
  fallbacks: z
    .array(FallbackPolicy)
    .min(1)
    .refine((f) => new Set(f).size === f.length, 'name each fallback once')
    .refine((f) => f.includes('deny'), 'deny must be allowed: a request that names no fallback gets it')
    .optional(),
  /** Approvals at or above this confidence pass without a person (reversible, low-risk actions only). */
  autoApprove: z.strictObject({ minConfidence: Rate }).optional(),
  /** Disambiguations at or above this confidence are answered with the agent's first option. */
  autoAnswer: z.strictObject({ minConfidence: Rate }).optional(),
  /** Fraction of the decisions a policy would make alone that still go to a person. */
  auditSample: Rate.optional(),
  verification: VerificationReview.optional(),
  /** Several approvals from the tier asked (approval and verification requests). */
  quorum: Quorum.optional(),
};

export const PolicyRule = z.strictObject({ name: RuleName, match: RuleMatch.default({}), ...ruleFields });
export type PolicyRule = z.infer<typeof PolicyRule>;

/** What no rule matches. Its risk is the strictest there is: the highest class, irreversible. */
export const DefaultRule = z.strictObject({ name: RuleName.default('default'), ...ruleFields });
export type DefaultRule = z.infer<typeof DefaultRule>;

export const Policy = z.strictObject({
  /** Every risk class the deployment knows, lowest first. An agent's class not listed ranks above them all. */
  riskClasses: z
    .array(RiskClass)
    .min(1)
    .max(20)
    .refine((c) => new Set(c).size === c.length, 'name each risk class once'),
  /** Ordered; the first rule that matches a request applies. */
  rules: z.array(PolicyRule).max(50).default([]),
  default: DefaultRule.default({ name: 'default' }),
});
export type Policy = z.infer<typeof Policy>;
export type PolicyInput = z.input<typeof Policy>;

/** The fields a rule takes from the default rule when it leaves them out. */
export type RuleSettings = Omit<DefaultRule, 'description'>;

export function withDefaults(rule: PolicyRule, fallback: DefaultRule): RuleSettings {
  const merged: RuleSettings = { ...fallback, name: rule.name };
  for (const key of Object.keys(ruleFields) as (keyof typeof ruleFields)[]) {
    if (key !== 'description' && rule[key] !== undefined) (merged as Record<string, unknown>)[key] = rule[key];
  }
  return merged;
}

/** The kinds a rule can match. */
export function kindsOf(match: RuleMatch): readonly Kind[] {
  if (match.kind === undefined) return Kind.options;
  return Array.isArray(match.kind) ? match.kind : [match.kind];
}
