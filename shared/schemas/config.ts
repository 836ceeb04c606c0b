/**
 * Deployment configuration: who reviews, in which tiers, when they work, how long requests may wait, and
 * the policy that says what needs a person. One schema, used by `cdk synth` and `npm start` (both fail
 * with the bad field's path) and by every function at cold start.
 */
import * as z from 'zod';
import { Reminders } from './reminders.ts';
import { ConfigError } from '../errors.ts';
import { formatIssues } from './issues.ts';
import { MAX_REQUEST_BYTES } from './limits.ts';
import { Member } from './member.ts';
import { Policy } from './policy.ts';
import { policyIssues, tierIssues } from './policy-checks.ts';
import { GroupName } from './review-request.ts';
import { DEFAULT_PENDING_SHARDS } from '../store/pending-shards.ts';

export { GroupName, MAX_REQUEST_BYTES };

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use 24-hour HH:MM, e.g. "09:00"');

export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof Weekday>;

let canonicalZones: Set<string> | undefined;

/**
 * Canonical IANA names are looked up in the runtime's list (a few ms); anything else (an alias such as
 * "US/Eastern") is tried with a formatter, which loads the time-zone data: about 40 ms, once per cold start.
 */
function isTimeZone(tz: string): boolean {
  canonicalZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (tz === 'UTC' || canonicalZones.has(tz)) return true;
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

/** A Slack conversation id: a public (`C…`) or private (`G…`) channel. */
export const SlackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,20}$/, 'a Slack channel id, e.g. "C0123ABC" (channel details → About)');

export const SlackSettings = z
  .object({
    /** Where review messages are posted, one per request and round; members with a Slack id are mentioned. */
    channel: SlackChannelId,
    /** Slack's Web API; point it elsewhere only for a stand-in. */
    apiUrl: z.url().default('https://slack.com/api/'),
    /** The reasons the Deny modal offers (the reviewer may add their own words); omit for the built-in list. */
    denyReasons: z.array(z.string().trim().min(1).max(75)).min(1).max(20).optional(),
  })
  .strict();
export type SlackSettings = z.infer<typeof SlackSettings>;

export const Tier = z.object({
  /** Shown to reviewers and in "escalated to …" notices. */
  name: z.string().min(1).max(64),
  /** Email addresses, or `{ "email"?, "slack"? }` objects naming the member on each channel. */
  members: z.array(Member).min(1, 'a tier needs at least one member'),
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
    /** The Slack channel this group's review messages go to, instead of `slack.channel`. */
    slackChannel: SlackChannelId.optional(),
    /** Remind the round's reviewers, on the channels they were asked on, at these points of each time box. */
    reminders: Reminders.optional(),
  })
  .refine((g) => g.defaultTtlSeconds <= g.maxTtlSeconds, {
    message: 'defaultTtlSeconds must not exceed maxTtlSeconds',
    path: ['defaultTtlSeconds'],
  });
export type ReviewerGroup = z.infer<typeof ReviewerGroup>;

/** A host name or IP address as a URL's host spells it (IPv6 in brackets), in lower case. */
export const WebhookHost = z
  .string()
  .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/, 'use a host name or IP address in lower case, without scheme, port or path, e.g. "agent.example.com", "127.0.0.1" or "[::1]"');

export const Webhooks = z
  .object({
    /**
     * Hosts a request's `notify.url` may name, exactly (no wildcards); empty turns webhooks off. https only,
     * except for a loopback host (localhost, 127.x.x.x, [::1]) listed here. A listed name must resolve to public
     * addresses; to reach a private one, list the address itself.
     */
    allowedHosts: z.array(WebhookHost).max(50).default([]),
    /** How long one delivery attempt may take, connection to response. */
    timeoutSeconds: z.number().int().min(1).max(10).default(5),
    /** Attempts per Decision, the first included; 1 s, 2 s, 4 s … (at most 30 s) apart. */
    maxAttempts: z.number().int().min(1).max(8).default(5),
  })
  .strict();
export type Webhooks = z.infer<typeof Webhooks>;

/** The retentions CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

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
        /** Subscribed to the alarm topic by email (each address confirms from the email AWS sends). */
        emails: z.array(z.email('alarm emails must be email addresses')).max(10).optional(),
      })
      .default({ oldestPendingAgeSeconds: 3600, dlqDepth: 1 }),
    /**
     * In-app answers: requests that name a `respondent` are answered by that user in the host app, through
     * the in-app API, with a JWT from the app's identity provider. Without it such requests are refused.
     */
    inApp: z
      .object({
        /** The JWT issuer (`iss`), e.g. "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"; API Gateway reads its OIDC discovery. */
        issuer: z.url({ protocol: /^https?$/, error: 'issuer must be the https URL of the identity provider' }),
        /** Accepted audiences (`aud`, or Cognito's `client_id`). */
        audience: z.array(z.string().min(1).max(256)).min(1, 'name at least one audience'),
        /** IANA time zone the card shows times in. */
        timeZone: z.string().refine(isTimeZone, 'not an IANA time zone, e.g. "Europe/London"').default('UTC'),
        /** Time box of an in-app request that names none, and the longest one allowed (a policy rule's ttl bounds still apply). */
        defaultTtlSeconds: z.number().int().min(60).max(7 * 86400).default(1800),
        maxTtlSeconds: z.number().int().min(60).max(7 * 86400).default(86400),
      })
      .refine((a) => a.defaultTtlSeconds <= a.maxTtlSeconds, { message: 'defaultTtlSeconds must not exceed maxTtlSeconds', path: ['defaultTtlSeconds'] })
      .optional(),
    /**
     * Base URL of the review links in emails, e.g. `https://review.example.com` for a custom domain mapped to
     * the HTTP API; omit to use the API's own `execute-api` URL.
     */
    publicBaseUrl: z
      .url({ protocol: /^https$/, message: 'publicBaseUrl must be an https URL, e.g. "https://review.example.com"' })
      .refine((u) => !/[?#]/.test(u), 'publicBaseUrl must not have a query or fragment')
      .optional(),
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
    /**
     * Preset reasons the review page offers for a denial, beside free text: keyed by action name (approvals),
     * by kind, or `default`, the first that is set applies. E.g. `{ "refund": ["Amount too high"], "default": ["Not enough context"] }`.
     */
    denyReasons: z.record(z.string().min(1).max(128), z.array(z.string().trim().min(1).max(200)).max(12)).optional(),
    /** Emails besides the review emails. `outcomeEmail`: when a request ends, the others who were asked get a short "decided by" notice. */
    notices: z
      .object({
        outcomeEmail: z.boolean().default(true),
      })
      .default({ outcomeEmail: true }),
    /** Review messages in Slack as well as email (members with a `slack` id can decide there). Omit for email only. */
    slack: SlackSettings.optional(),
    /** Rows older than this many days get a DynamoDB TTL; omit to keep them forever. */
    retentionDays: z.number().int().min(1).optional(),
    /** Decision webhooks (a ReviewRequest's `notify.url`): off until `allowedHosts` names a host. */
    webhooks: Webhooks.default({ allowedHosts: [], timeoutSeconds: 5, maxAttempts: 5 }),
    /** Extra time the Step Functions backstop allows beyond every tier's maximum TTL and a hold. */
    backstopGraceSeconds: z.number().int().min(60).default(3600),
    /**
     * Source-mapped stack traces in the functions' logs (each bundle ships its map; Node's --enable-source-maps).
     * Off by default: Node parses the map when the bundle loads, which adds to every cold start.
     */
    sourceMaps: z.boolean().default(false),
    /**
     * Shards of each reviewer group's key in the `pending-by-age` index (one key takes 1,000 writes a second, a
     * review about three): raise it for more than ~5,000 reviews a second of one group, never lower it.
     */
    pendingShards: z.number().int().min(1).max(64).default(DEFAULT_PENDING_SHARDS),
    /** Days every log group keeps events: the functions', the state machine's, the APIs' access logs and Firehose's. */
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), `must be a CloudWatch Logs retention: ${LOG_RETENTION_DAYS.join(', ')} days`)
      .default(30),
    /**
     * X-Ray active tracing on every function (the state machine is always traced). Off by default: traces are
     * billed per trace recorded, and the handlers' own logs and metrics already follow each request.
     */
    tracing: z.boolean().default(false),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of [...tierIssues(config), ...policyIssues(config), ...slackIssues(config)]) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
export type DeploymentConfig = z.infer<typeof DeploymentConfig>;

/** A member reachable only on Slack needs Slack configured, and a group's own Slack channel needs it too. */
function slackIssues(config: Pick<DeploymentConfig, 'reviewerGroups' | 'slack'>): { path: (string | number)[]; message: string }[] {
  if (config.slack) return [];
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, group] of Object.entries(config.reviewerGroups)) {
    if (group.slackChannel) issues.push({ path: ['reviewerGroups', name, 'slackChannel'], message: 'needs the top-level "slack" settings' });
    group.tiers.forEach((tier, t) =>
      tier.members.forEach((member, m) => {
        if (typeof member !== 'string' && member.email === undefined) {
          issues.push({ path: ['reviewerGroups', name, 'tiers', t, 'members', m], message: 'a member with only a Slack id needs the top-level "slack" settings' });
        }
      }),
    );
  }
  return issues;
}
export type DeploymentConfigInput = z.input<typeof DeploymentConfig>;

/** Parse deployment config; the error names every bad field by its path, e.g. `reviewerGroups.ops.tiers.0.members.0`. */
export function parseDeploymentConfig(input: unknown, source = 'hitl config'): DeploymentConfig {
  const result = DeploymentConfig.safeParse(input);
  if (!result.success) {
    throw new ConfigError(`Invalid ${source}:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}
