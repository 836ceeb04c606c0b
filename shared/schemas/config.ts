/**
 * Deployment configuration: who reviews, in which tiers, when they work, how long requests may wait, and
 * the policy that says what needs a person. One schema, used by `cdk synth` and `npm start` (both fail
 * with the bad field's path) and by every function at cold start.
 */
import * as z from 'zod';
import { ConfigError } from '../errors.ts';
import { formatIssues } from './issues.ts';
import { MAX_REQUEST_BYTES } from './limits.ts';
import { Policy } from './policy.ts';
import { policyIssues, tierIssues } from './policy-checks.ts';
import { GroupName } from './review-request.ts';

export { GroupName, MAX_REQUEST_BYTES };

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use 24-hour HH:MM, e.g. "09:00"');

export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const BusinessHours = z
  .object({
    days: z.array(Weekday).min(1, 'name at least one working day'),
    start: HHMM,
    end: HHMM,
  })
  .refine((h) => h.start < h.end, { message: 'start must be before end (overnight shifts are not supported)', path: ['end'] });
export type BusinessHours = z.infer<typeof BusinessHours>;

export const Tier = z.object({
  /** Shown to reviewers and in "escalated to …" notices. */
  name: z.string().min(1).max(64),
  members: z.array(z.email('members must be email addresses')).min(1, 'a tier needs at least one member'),
});
export type Tier = z.infer<typeof Tier>;

export const ReviewerGroup = z
  .object({
    /** Escalation chain: tier 1 is asked first; `escalate` moves a request to the next tier. */
    tiers: z.array(Tier).min(1, 'a group needs at least one tier').max(5),
    /** IANA time zone for business hours and the absolute times shown to reviewers. */
    timeZone: z.string().refine(isTimeZone, 'not an IANA time zone, e.g. "Europe/London"').default('UTC'),
    /** When set, the `hold` fallback queues expired requests until the next opening time. */
    businessHours: BusinessHours.optional(),
    defaultTtlSeconds: z.number().int().min(60).max(7 * 86400).default(1800),
    maxTtlSeconds: z.number().int().min(60).max(7 * 86400).default(86400),
  })
  .refine((g) => g.defaultTtlSeconds <= g.maxTtlSeconds, {
    message: 'defaultTtlSeconds must not exceed maxTtlSeconds',
    path: ['defaultTtlSeconds'],
  });
export type ReviewerGroup = z.infer<typeof ReviewerGroup>;

export const DeploymentConfig = z
  .object({
    /** Dev deployments destroy tables on stack deletion and skip deletion protection. */
    dev: z.boolean().default(false),
    /** Verified SES identity the review emails come from. */
    sender: z.email('sender must be an email address (a verified SES identity)'),
    /** Risk classes low enough for the `approve` fallback and for auto-approval (reversible actions only). */
    lowRiskClasses: z.array(z.string().min(1)).default([]),
    reviewerGroups: z.record(GroupName, ReviewerGroup).refine((g) => Object.keys(g).length > 0, 'configure at least one reviewer group'),
    /** What needs a person and who decides. Without it, `routing` and the agent's own risk claim apply as an implicit policy. */
    policy: Policy.optional(),
    /** Configs without a policy: the implicit default rule's auto-decisions. */
    routing: z
      .object({
        /** Approvals of a low-risk, reversible action at or above this confidence are auto-approved. Omit to always ask. */
        autoApproveMinConfidence: z.number().min(0).max(1).optional(),
        /** Disambiguations at or above this confidence are answered with the agent's first option. */
        disambiguateBelowConfidence: z.number().min(0).max(1).default(0.7),
        /** Fraction of otherwise auto-decided requests still sent to a person (audit sample). */
        sampleRate: z.number().min(0).max(1).default(0),
      })
      .optional(),
    alarms: z
      .object({
        oldestPendingAgeSeconds: z.number().int().min(60).default(3600),
        dlqDepth: z.number().int().min(1).default(1),
      })
      .default({ oldestPendingAgeSeconds: 3600, dlqDepth: 1 }),
    /** Throttling of the reviewers' HTTP API (default stage). */
    api: z
      .object({
        rateLimit: z.number().int().min(1).default(50),
        burstLimit: z.number().int().min(1).default(100),
      })
      .default({ rateLimit: 50, burstLimit: 100 }),
    /** Bounds on what an agent may send. */
    limits: z
      .object({
        /**
         * Largest ReviewRequest, serialized as JSON. At most 64 KiB, so the row with the request, its
         * Decision (which may repeat the arguments twice) and history stays under DynamoDB's 400 KB item.
         */
        maxRequestBytes: z.number().int().min(1024).max(MAX_REQUEST_BYTES).default(MAX_REQUEST_BYTES),
      })
      .default({ maxRequestBytes: MAX_REQUEST_BYTES }),
    /** The decision stream to S3 and the Athena workgroup analysts query it in. */
    analytics: z
      .object({
        /** Athena cancels a query in the workgroup once it has scanned this many MB (10 at least). */
        queryScanLimitMb: z.number().int().min(10).default(1024),
        /** How long Firehose gathers decisions before it writes a Parquet file to S3 (60 to 900 seconds). */
        bufferSeconds: z.number().int().min(60).max(900).default(300),
      })
      .default({ queryScanLimitMb: 1024, bufferSeconds: 300 }),
    /** Rows older than this many days get a DynamoDB TTL; omit to keep them forever. */
    retentionDays: z.number().int().min(1).optional(),
    /** Extra time the Step Functions backstop allows beyond every tier's maximum TTL and a hold. */
    backstopGraceSeconds: z.number().int().min(60).default(3600),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of [...tierIssues(config), ...policyIssues(config)]) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;
export type DeploymentConfigInput = z.input<typeof DeploymentConfig>;

/** Parse deployment config; the error names every bad field by its path, e.g. `reviewerGroups.ops.tiers.0.members.0`. */
export function parseDeploymentConfig(input: unknown, source = 'hitl config'): DeploymentConfig {
  const result = DeploymentConfig.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}
