/**
 * A reviewer as the deployment config names them: an email address (the original form) or an identity per
 * channel, `{ "email": "a@example.com", "slack": "U0123ABC" }`. Everything that compares reviewers (tiers,
 * votes, separation of duties, `decidedBy`) uses one identity per member: the email address when there is
 * one, otherwise `slack:<user id>`, so the same person deciding by email or by Slack is one person.
 */
import * as z from 'zod';

/** A Slack user id (`U…` or, on Enterprise Grid, `W…`). */
export const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack user id, e.g. "U0123ABC" (profile → ⋮ → Copy member ID)');

export const MemberIdentities = z
  .object({
    email: z.email('email must be an email address').optional(),
    slack: SlackUserId.optional(),
  })
  .strict()
  .refine((m) => m.email !== undefined || m.slack !== undefined, 'give at least one of email, slack');

const MEMBER_FORMS = 'members must be email addresses or objects like { "email": "a@example.com", "slack": "U0123ABC" }';
export const Member = z.union([z.email(MEMBER_FORMS), MemberIdentities], { error: MEMBER_FORMS });
export type Member = z.infer<typeof Member>;

const SLACK_PREFIX = 'slack:';

/** The member's one identity: their email address, else `slack:<user id>`. */
export function memberId(member: Member): string {
  if (typeof member === 'string') return member;
  return member.email ?? `${SLACK_PREFIX}${member.slack}`;
}

export function memberIds(members: readonly Member[]): string[] {
  return members.map(memberId);
}

export function memberEmail(member: Member): string | undefined {
  return typeof member === 'string' ? member : member.email;
}

export function memberSlack(member: Member): string | undefined {
  return typeof member === 'string' ? undefined : member.slack;
}
