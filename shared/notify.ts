/**
 * Review emails through SES: one message per reviewer, each with their own signed link, never a shared
 * To line (a link is personal: whoever holds it acts as that reviewer).
 */
import { SendEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import { HitlError } from './errors.ts';
import type { ReviewerGroup } from './schemas/config.ts';
import type { StoredRequest } from './store/model.ts';
import { renderReviewEmail, type ReviewEmail } from './render/email.ts';
import { escapeHtml } from './render/html.ts';

export interface ReviewEmailRecipient {
  approver: string;
  /** That reviewer's personal signed link. */
  link: string;
}

export interface SendReviewEmailsArgs {
  /** Verified SES identity. */
  sender: string;
  request: StoredRequest;
  group: ReviewerGroup;
  now: Date;
  recipients: ReviewEmailRecipient[];
  /** Called as soon as SES accepts each message, so a crash loses at most the record of one in flight. */
  onSent?: (sent: SentReviewEmail) => Promise<void>;
  /** A reminder of the same review: this line leads the subject and both bodies ("Reminder: expires in 10 min, then …"). */
  reminder?: string;
}

/** The review email led by a reminder line. */
function asReminder(email: ReviewEmail, line: string): ReviewEmail {
  return {
    subject: `Reminder, ${email.subject}`,
    text: `${line}\n\n${email.text}`,
    html: email.html.replace(/<body[^>]*>/, (body) => `${body}<p style="margin:0 0 12px;font-weight:bold">${escapeHtml(line)}</p>`),
  };
}

export interface SentReviewEmail {
  approver: string;
  messageId: string;
}

/** Some review emails were not accepted by SES. `sent` lists those that were, so a caller can log and decide. */
export class EmailDeliveryError extends HitlError {
  readonly sent: SentReviewEmail[];
  readonly failed: { approver: string; error: unknown }[];
  constructor(sent: SentReviewEmail[], failed: { approver: string; error: unknown }[]) {
    super(`SES did not accept the review email for ${failed.map((f) => f.approver).join(', ')}`, { cause: failed[0]?.error });
    this.name = 'EmailDeliveryError';
    this.sent = sent;
    this.failed = failed;
  }
}

/** Sends in small batches to stay well inside SES send-rate limits while keeping a tier's emails quick. */
const CONCURRENCY = 4;

/**
 * Email each recipient their own review link. Every recipient is attempted; if any send fails the
 * function throws EmailDeliveryError after the rest were tried, carrying both lists.
 */
export async function sendReviewEmails(ses: SESClient, args: SendReviewEmailsArgs): Promise<SentReviewEmail[]> {
  const sent: SentReviewEmail[] = [];
  const failed: { approver: string; error: unknown }[] = [];

  async function sendOne({ approver, link }: ReviewEmailRecipient): Promise<void> {
    const review = renderReviewEmail({ request: args.request, group: args.group, now: args.now, link, approver });
    const email = args.reminder ? asReminder(review, args.reminder) : review;
    try {
      const out = await ses.send(
        new SendEmailCommand({
          Source: args.sender,
          Destination: { ToAddresses: [approver] },
          Message: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
          },
        }),
      );
      const accepted = { approver, messageId: out.MessageId ?? '' };
      sent.push(accepted);
      await args.onSent?.(accepted);
    } catch (error) {
      if (!sent.some((s) => s.approver === approver)) failed.push({ approver, error });
      else throw error;
    }
  }

  for (let i = 0; i < args.recipients.length; i += CONCURRENCY) {
    await Promise.all(args.recipients.slice(i, i + CONCURRENCY).map(sendOne));
  }
  if (failed.length > 0) throw new EmailDeliveryError(sent, failed);
  const order = new Map(args.recipients.map((r, i) => [r.approver, i]));
  return sent.sort((a, b) => (order.get(a.approver) ?? 0) - (order.get(b.approver) ?? 0));
}
